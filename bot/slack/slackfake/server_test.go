package slackfake_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"

	"github.com/witaj/witaj/bot/slack/slackfake"
)

func newClient(t *testing.T) (*slackfake.Server, *slack.Client) {
	t.Helper()
	srv := slackfake.New(t)
	return srv, slack.New("xoxb-test", slack.OptionAPIURL(srv.APIURL()))
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestPostMessageRecordsWhatWasSent(t *testing.T) {
	srv, api := newClient(t)
	block := slack.NewSectionBlock(slack.NewTextBlockObject(slack.PlainTextType, "Case #7", false, false), nil, nil)
	channel, ts, err := api.PostMessage("C1",
		slack.MsgOptionText("<!channel> & co", true),
		slack.MsgOptionTS("1795444233.000100"),
		slack.MsgOptionDisableLinkUnfurl(),
		slack.MsgOptionDisableMediaUnfurl(),
		slack.MsgOptionDisableMarkdown(),
		slack.MsgOptionUsername("Case 7"),
		slack.MsgOptionBlocks(block),
	)
	if err != nil {
		t.Fatalf("PostMessage: %v", err)
	}
	wantBlocks, err := json.Marshal([]slack.Block{block})
	if err != nil {
		t.Fatal(err)
	}
	want := []slackfake.Post{{
		Channel: "C1", TS: ts, ThreadTS: "1795444233.000100", User: slackfake.BotUserID, BotID: slackfake.BotID,
		Text: "&lt;!channel&gt; &amp; co", Blocks: wantBlocks,
		UnfurlLinks: "false", UnfurlMedia: "false", Mrkdwn: "false", Username: "Case 7",
		LatestText: "&lt;!channel&gt; &amp; co", LatestBlocks: wantBlocks,
	}}
	if diff := cmp.Diff(want, srv.Posts()); diff != "" {
		t.Errorf("Posts() (-want +got):\n%s", diff)
	}
	if channel != "C1" {
		t.Errorf("channel = %q, want C1", channel)
	}
	reqs := srv.Requests("chat.postMessage")
	if len(reqs) != 1 || reqs[0].Token != "xoxb-test" || reqs[0].Params.Has("link_names") {
		t.Errorf("Requests = %+v, want one call with token xoxb-test and no link_names", reqs)
	}
}

func TestPostMessageOptionsAbsentAreEmpty(t *testing.T) {
	srv, api := newClient(t)
	if _, _, err := api.PostMessage("C1", slack.MsgOptionText("hi", false), slack.MsgOptionLinkNames(true), slack.MsgOptionParse(true)); err != nil {
		t.Fatal(err)
	}
	p := srv.Posts()[0]
	got := []string{p.ThreadTS, p.UnfurlLinks, p.UnfurlMedia, p.Mrkdwn, p.Username, p.LinkNames, p.Parse}
	if diff := cmp.Diff([]string{"", "", "", "", "", "true", "full"}, got); diff != "" || p.Blocks != nil {
		t.Errorf("thread_ts, unfurl_links, unfurl_media, mrkdwn, username, link_names, parse (-want +got):\n%s blocks %s", diff, p.Blocks)
	}
}

func TestTimestampsAreUniqueAndIncreasing(t *testing.T) {
	_, api := newClient(t)
	var prev string
	for i := range 5 {
		_, ts, err := api.PostMessage("C1", slack.MsgOptionText("hi", false))
		if err != nil {
			t.Fatal(err)
		}
		sec, frac, found := strings.Cut(ts, ".")
		if !found || len(sec) != 10 || len(frac) != 6 {
			t.Errorf("post %d: ts %q is not in Slack's seconds.micros format", i, ts)
		}
		if ts <= prev {
			t.Errorf("post %d: ts %q not after %q", i, ts, prev)
		}
		prev = ts
	}
}

func TestPostMessageErrors(t *testing.T) {
	_, api := newClient(t)
	tests := []struct {
		name    string
		channel string
		opts    []slack.MsgOption
		want    string
	}{
		{"no channel", "", []slack.MsgOption{slack.MsgOptionText("hi", false)}, "channel_not_found"},
		{"no text", "C1", nil, "no_text"},
	}
	for _, tt := range tests {
		_, _, err := api.PostMessage(tt.channel, tt.opts...)
		var se slack.SlackErrorResponse
		if !errors.As(err, &se) || se.Err != tt.want {
			t.Errorf("%s: err = %v, want %s", tt.name, err, tt.want)
		}
	}
}

func TestUpdateAndDelete(t *testing.T) {
	srv, api := newClient(t)
	_, ts, err := api.PostMessage("C1", slack.MsgOptionText("v1", false))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessage("C1", ts, slack.MsgOptionText("v2", false)); err != nil {
		t.Fatalf("UpdateMessage: %v", err)
	}
	if got := srv.Posts()[0]; got.Text != "v1" || got.LatestText != "v2" || !got.Updated {
		t.Errorf("after update: Text %q LatestText %q Updated %v, want v1, v2, true", got.Text, got.LatestText, got.Updated)
	}
	if _, _, err := api.DeleteMessage("C1", ts); err != nil {
		t.Fatalf("DeleteMessage: %v", err)
	}
	if !srv.Posts()[0].Deleted {
		t.Error("post not marked deleted")
	}
	if diff := cmp.Diff([]slackfake.Update{{Channel: "C1", TS: ts, Text: "v2"}}, srv.Updates()); diff != "" {
		t.Errorf("Updates() (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]slackfake.Delete{{Channel: "C1", TS: ts}}, srv.Deletes()); diff != "" {
		t.Errorf("Deletes() (-want +got):\n%s", diff)
	}
	for name, call := range map[string]func() error{
		"update deleted": func() error {
			_, _, _, err := api.UpdateMessage("C1", ts, slack.MsgOptionText("v3", false))
			return err
		},
		"delete deleted": func() error { _, _, err := api.DeleteMessage("C1", ts); return err },
		"other channel":  func() error { _, _, err := api.DeleteMessage("C2", ts); return err },
		"unknown ts":     func() error { _, _, err := api.DeleteMessage("C1", "1.000001"); return err },
	} {
		var se slack.SlackErrorResponse
		if err := call(); !errors.As(err, &se) || se.Err != "message_not_found" {
			t.Errorf("%s: err = %v, want message_not_found", name, err)
		}
	}
}

func TestCannotChangePeoplesMessages(t *testing.T) {
	srv, api := newClient(t)
	reply := srv.AddReply("C1", "1795444233.000100", "U1", "hi")
	if _, _, err := api.DeleteMessage("C1", reply.TS); err == nil || err.Error() != "cant_delete_message" {
		t.Errorf("delete a person's message: err = %v, want cant_delete_message", err)
	}
}

func TestConversationsMembersAndUsers(t *testing.T) {
	srv, api := newClient(t)
	srv.SetMembers("C1", "UBOT", "U1", "U2")
	srv.SetUserName("U1", "Ola")
	members, _, err := api.GetUsersInConversation(&slack.GetUsersInConversationParameters{ChannelID: "C1"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"UBOT", "U1", "U2"}, members); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	if _, _, err := api.GetUsersInConversation(&slack.GetUsersInConversationParameters{ChannelID: "C9"}); err == nil || err.Error() != "channel_not_found" {
		t.Errorf("unknown channel: err = %v, want channel_not_found", err)
	}
	u, err := api.GetUserInfo("U1")
	if err != nil || u.Name != "Ola" || u.Profile.DisplayName != "Ola" || u.IsBot {
		t.Errorf("GetUserInfo(U1) = %+v, %v; want Ola, not a bot", u, err)
	}
	if _, err := api.GetUserInfo("U9"); err == nil || err.Error() != "user_not_found" {
		t.Errorf("GetUserInfo(U9) err = %v, want user_not_found", err)
	}
	auth, err := api.AuthTest()
	if err != nil || auth.UserID != slackfake.BotUserID || auth.BotID != slackfake.BotID || auth.TeamID != slackfake.TeamID {
		t.Errorf("AuthTest = %+v, %v", auth, err)
	}
}

func TestConversationRepliesReturnsTheThread(t *testing.T) {
	srv, api := newClient(t)
	_, parent, err := api.PostMessage("C1", slack.MsgOptionText("Case #7", false))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.PostMessage("C1", slack.MsgOptionText("migrant says hi", false), slack.MsgOptionTS(parent)); err != nil {
		t.Fatal(err)
	}
	reply := srv.AddReply("C1", parent, "U1", "consultant answers")
	if _, _, err := api.PostMessage("C1", slack.MsgOptionText("elsewhere", false)); err != nil {
		t.Fatal(err)
	}
	msgs, hasMore, _, err := api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: "C1", Timestamp: parent})
	if err != nil || hasMore {
		t.Fatalf("GetConversationReplies: has_more %v, err %v", hasMore, err)
	}
	type msg struct{ User, BotID, Text, TS, ThreadTS string }
	var got []msg
	for _, m := range msgs {
		got = append(got, msg{m.User, m.BotID, m.Text, m.Timestamp, m.ThreadTimestamp})
	}
	want := []msg{
		{"UBOT", "BBOT", "Case #7", parent, parent},
		{"UBOT", "BBOT", "migrant says hi", got[1].TS, parent},
		{"U1", "", "consultant answers", reply.TS, parent},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("replies (-want +got):\n%s", diff)
	}
	if msgs[0].ReplyCount != 2 {
		t.Errorf("parent reply_count = %d, want 2", msgs[0].ReplyCount)
	}
	if n := len(srv.Thread("C1", parent)); n != 3 {
		t.Errorf("Thread has %d messages, want 3", n)
	}
	if _, _, _, err := api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: "C1", Timestamp: "1.000001"}); err == nil || err.Error() != "thread_not_found" {
		t.Errorf("unknown thread: err = %v, want thread_not_found", err)
	}
}

// TestRawCalls covers what slack-go's typed calls do not: JSON bodies with
// a Bearer token, unknown methods and missing tokens.
func TestRawCalls(t *testing.T) {
	srv := slackfake.New(t)
	tests := []struct {
		name, method, contentType, auth, body string
		want                                  string
	}{
		{"json", "chat.postMessage", "application/json; charset=utf-8", "Bearer xoxb-test", `{"channel":"C1","text":"hi","unfurl_links":false}`, `"ok":true`},
		{"unknown method", "chat.frobnicate", "application/x-www-form-urlencoded", "", "token=xoxb-test", `"error":"unknown_method"`},
		{"no token", "auth.test", "application/x-www-form-urlencoded", "", "", `"error":"not_authed"`},
	}
	for _, tt := range tests {
		req, err := http.NewRequestWithContext(testContext(t), http.MethodPost, srv.APIURL()+tt.method, strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", tt.contentType)
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body json.RawMessage
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), tt.want) {
			t.Errorf("%s: status %d body %s err %v, want 200 with %s", tt.name, resp.StatusCode, body, err, tt.want)
		}
	}
	if p := srv.Posts(); len(p) != 1 || p[0].Text != "hi" || p[0].UnfurlLinks != "false" {
		t.Errorf("JSON post recorded as %+v, want text hi, unfurl_links false", p)
	}
}

func TestWaitPostsWakesOnRequests(t *testing.T) {
	srv, api := newClient(t)
	errc := make(chan error, 1)
	go func() {
		_, _, err := api.PostMessage("C1", slack.MsgOptionText("hi", false))
		errc <- err
	}()
	posts, err := srv.WaitPosts(testContext(t), 1)
	if err != nil || len(posts) != 1 {
		t.Fatalf("WaitPosts = %v, %v", posts, err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := srv.WaitPosts(ctx, 2); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitPosts on a cancelled context: err = %v, want context.Canceled", err)
	}
}
