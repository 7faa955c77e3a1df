package slackfake_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/witaj/witaj/bot/slack/slackfake"
)

const parentTS = "1795444233.000100"

// seen is what witaj's filter needs from a parsed message event.
type seen struct {
	EventID, Channel, User, BotID, SubType, Text, ThreadTS, MsgTS, MsgThreadTS string
}

func parseMessage(t *testing.T, body []byte) (seen, *slackevents.MessageEvent) {
	t.Helper()
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		t.Fatalf("ParseEvent(%s): %v", body, err)
	}
	cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent)
	if ev.Type != slackevents.CallbackEvent || !ok || cb.TeamID != slackfake.TeamID || cb.APIAppID != slackfake.AppID || cb.EventTime == 0 {
		t.Fatalf("outer event = %+v, want an event_callback for T1/A1 with event_time", ev.Data)
	}
	m, ok := ev.InnerEvent.Data.(*slackevents.MessageEvent)
	if !ok {
		t.Fatalf("inner event is %T, want *slackevents.MessageEvent", ev.InnerEvent.Data)
	}
	if m.ChannelType != slackevents.ChannelTypeChannel {
		t.Errorf("channel_type = %q, want channel", m.ChannelType)
	}
	return seen{cb.EventID, m.Channel, m.User, m.BotID, m.SubType, m.Text, m.ThreadTimeStamp,
		m.Message.Timestamp, m.Message.ThreadTimestamp}, m
}

func TestEventBuildersParse(t *testing.T) {
	const edited = "1795444233.000200"
	tests := []struct {
		name string
		body []byte
		want seen // MsgTS is checked for being set, not compared, when "*"
	}{
		{"thread reply", slackfake.MessageEvent("Ev1", "C1", "U1", "a &amp; b", parentTS),
			seen{"Ev1", "C1", "U1", "", "", "a &amp; b", parentTS, "*", parentTS}},
		{"top-level", slackfake.ChannelMessageEvent("Ev2", "C1", "U1", "chatter"),
			seen{"Ev2", "C1", "U1", "", "", "chatter", "", "*", ""}},
		{"bot message", slackfake.BotMessageEvent("Ev3", "C1", "B9", "beep", parentTS),
			seen{"Ev3", "C1", "", "B9", "bot_message", "beep", parentTS, "*", parentTS}},
		{"changed", slackfake.MessageChangedEvent("Ev4", "C1", "U1", edited, parentTS, "old", "new"),
			seen{"Ev4", "C1", "", "", "message_changed", "", "", edited, parentTS}},
		{"deleted", slackfake.MessageDeletedEvent("Ev5", "C1", "U1", edited, parentTS, "old"),
			seen{"Ev5", "C1", "", "", "message_deleted", "", "", "*", ""}},
	}
	for _, tt := range tests {
		got, m := parseMessage(t, tt.body)
		if tt.want.MsgTS == "*" {
			if got.MsgTS == "" {
				t.Errorf("%s: no ts", tt.name)
			}
			tt.want.MsgTS = got.MsgTS
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
		switch tt.name {
		case "changed":
			if m.Message.Text != "new" || m.PreviousMessage == nil || m.PreviousMessage.Text != "old" || m.Message.Edited == nil {
				t.Errorf("changed: message %+v previous %+v", m.Message, m.PreviousMessage)
			}
		case "deleted":
			if m.DeletedTimeStamp != edited || m.PreviousMessage == nil || m.PreviousMessage.ThreadTimestamp != parentTS {
				t.Errorf("deleted: deleted_ts %q previous %+v", m.DeletedTimeStamp, m.PreviousMessage)
			}
		}
	}
}

func TestMessageEventsGetNewTimestamps(t *testing.T) {
	a, _ := parseMessage(t, slackfake.MessageEvent("Ev1", "C1", "U1", "x", ""))
	b, _ := parseMessage(t, slackfake.MessageEvent("Ev1", "C1", "U1", "x", ""))
	if a.MsgTS >= b.MsgTS {
		t.Errorf("ts %q then %q, want increasing", a.MsgTS, b.MsgTS)
	}
}

func TestPostEvent(t *testing.T) {
	srv, api := newClient(t)
	_, ts, err := api.PostMessage("C1", slack.MsgOptionText("Case #7", false))
	if err != nil {
		t.Fatal(err)
	}
	own, _ := parseMessage(t, srv.Posts()[0].Event("Ev1"))
	if diff := cmp.Diff(seen{"Ev1", "C1", slackfake.BotUserID, slackfake.BotID, "", "Case #7", "", ts, ""}, own); diff != "" {
		t.Errorf("own post event (-want +got):\n%s", diff)
	}
	reply := srv.AddReply("C1", ts, "U1", "hello")
	person, _ := parseMessage(t, reply.Event("Ev2"))
	if diff := cmp.Diff(seen{"Ev2", "C1", "U1", "", "", "hello", ts, reply.TS, ts}, person); diff != "" {
		t.Errorf("reply event (-want +got):\n%s", diff)
	}
}

func TestURLVerificationParses(t *testing.T) {
	ev, err := slackevents.ParseEvent(slackfake.URLVerification("3eZbrw1aB"), slackevents.OptionNoVerifyToken())
	if err != nil {
		t.Fatal(err)
	}
	uv, ok := ev.Data.(*slackevents.EventsAPIURLVerificationEvent)
	if ev.Type != slackevents.URLVerification || !ok || uv.Challenge != "3eZbrw1aB" {
		t.Errorf("ParseEvent = %+v, want url_verification with the challenge", ev)
	}
}

func TestInteractionBuildersUnmarshal(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		want    slack.BlockAction
	}{
		{"button", slackfake.BlockAction("U1", "C1", parentTS, "take", "case:7"),
			slack.BlockAction{ActionID: "take", Type: "button", Value: "case:7"}},
		{"select", slackfake.SelectAction("U1", "C1", parentTS, "lang", "uk"),
			slack.BlockAction{ActionID: "lang", Type: "static_select", SelectedOption: slack.OptionBlockObject{
				Text: &slack.TextBlockObject{Type: slack.PlainTextType, Text: "uk", Emoji: new(true)}, Value: "uk"}}},
	}
	for _, tt := range tests {
		var ic slack.InteractionCallback
		if err := json.Unmarshal(tt.payload, &ic); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		where := []string{string(ic.Type), ic.User.ID, ic.User.Name, ic.Channel.ID, ic.Container.Type,
			ic.Container.ChannelID, ic.Container.MessageTs, ic.Message.Timestamp, ic.Team.ID}
		if diff := cmp.Diff([]string{"block_actions", "U1", "u1", "C1", "message", "C1", parentTS, parentTS, "T1"}, where); diff != "" {
			t.Errorf("%s: context (-want +got):\n%s", tt.name, diff)
		}
		if ic.ResponseURL == "" || ic.TriggerID == "" {
			t.Errorf("%s: response_url %q trigger_id %q, want both", tt.name, ic.ResponseURL, ic.TriggerID)
		}
		acts := ic.ActionCallback.BlockActions
		if len(acts) != 1 || acts[0].ActionTs == "" || acts[0].BlockID == "" {
			t.Fatalf("%s: actions %+v, want one with action_ts and block_id", tt.name, acts)
		}
		got := *acts[0]
		got.ActionTs, got.BlockID, got.Text = "", "", slack.TextBlockObject{}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: action (-want +got):\n%s", tt.name, diff)
		}
	}
}
