package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	goredis "github.com/redis/go-redis/v9"

	"github.com/witaj/witaj/bot/redis/redistest"
	"github.com/witaj/witaj/bot/slack/slackfake"
	"github.com/witaj/witaj/bot/telegram/telegramtest"
)

const (
	slackSecret = "slack-signing-secret"
	consultants = "CCONS"
)

// desk is a running witaj with consultants on a fake Slack.
type desk struct {
	*instance
	slack *slackfake.Server
	user  models.User
	chat  int64
	seen  int // Telegram messages already checked
	t     *testing.T
	rdb   *goredis.Client
}

func startDesk(t *testing.T, lang string, chat int64) *desk {
	return startDeskEnv(t, lang, chat, nil)
}

// startDeskEnv is startDesk with more (or other) environment variables.
func startDeskEnv(t *testing.T, lang string, chat int64, extra map[string]string) *desk {
	rs := redistest.Start(t)
	tg := telegramtest.New(t)
	sl := slackfake.New(t)
	sl.SetMembers(consultants, "UCONS1", "UCONS2")
	env := map[string]string{
		"WITAJ_SLACK_BOT_TOKEN":      "xoxb-test",
		"WITAJ_SLACK_API_URL":        sl.APIURL(),
		"WITAJ_SLACK_CHANNEL":        consultants,
		"WITAJ_SLACK_SIGNING_SECRET": slackSecret,
		"WITAJ_SLACK_RATE":           "50",
		"WITAJ_HOURS":                "Mon-Sun 00:00-24:00",
		"WITAJ_SLACK_RECONCILE":      "100ms",
	}
	for k, v := range extra {
		env[k] = v
	}
	in := startServe(t, tg, rs.Addr, env)
	return &desk{instance: in, slack: sl, user: telegramtest.User(chat, "Olena", lang), chat: chat, t: t, rdb: rs.Client(t)}
}

func (d *desk) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	d.t.Cleanup(cancel)
	return ctx
}

// say sends an update from the migrant and returns the replies it got.
func (d *desk) say(u models.Update, n int) string {
	d.t.Helper()
	d.tg.QueueUpdate(u)
	return d.replies(n)
}

func (d *desk) replies(n int) string {
	d.t.Helper()
	got := waitSent(d.t, d.tg, d.chat, d.seen+n)
	var b strings.Builder
	for _, m := range got[d.seen:] {
		b.WriteString(m.Visible + "\n")
	}
	d.seen += n
	return b.String()
}

// posts waits until the fake Slack holds n posts matching in channel.
func (d *desk) posts(n int) []slackfake.Post {
	d.t.Helper()
	ctx := d.ctx()
	err := d.slack.WaitFor(ctx, func(s *slackfake.Server) bool { return len(s.Posts()) >= n })
	if err != nil {
		d.t.Fatalf("waiting for %d Slack posts: %v (have %d)", n, err, len(d.slack.Posts()))
	}
	// witaj records a case's thread just after Slack answers the post;
	// a consultant cannot click that fast, a test can.
	for _, p := range d.slack.Posts() {
		if p.ThreadTS != "" || !strings.Contains(string(p.Blocks), "witaj_claim") {
			continue
		}
		for d.rdb.Exists(ctx, "witaj:thread:"+p.Channel+":"+p.TS).Val() == 0 {
			if ctx.Err() != nil {
				d.t.Fatalf("thread %s never recorded", p.TS)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return d.slack.Posts()
}

func (d *desk) event(body []byte, opts ...slackfake.RequestOption) int {
	d.t.Helper()
	resp, err := d.slack.PostEvent(d.ctx(), "http://"+d.listen+"/slack/events", slackSecret, body, opts...)
	if err != nil {
		d.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (d *desk) click(payload []byte) int {
	d.t.Helper()
	resp, err := d.slack.PostInteraction(d.ctx(), "http://"+d.listen+"/slack/interactions", slackSecret, payload)
	if err != nil {
		d.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func mustContain(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: %.300q lacks %q", what, got, w)
		}
	}
}

// TestConsultantCase follows a case end to end: the bot cannot help →
// case in Slack → claim → consultant reply reaches Telegram → the
// migrant's replies reach the thread in order → an FAQ answer in
// Ukrainian chosen by a consultant who writes English → resolve → rating.
func TestConsultantCase(t *testing.T) {
	d := startDesk(t, "uk", 700)
	d.say(telegramtest.Command(d.user, "start", "uk"), 1)
	d.say(telegramtest.Text(d.user, "де купити дешевий велосипед"), 1)
	reply := d.say(telegramtest.Text(d.user, "а де ремонтують велосипеди"), 2)
	mustContain(t, "offer after two misses", reply, "консультант", "ім'я")
	reply = d.say(telegramtest.Callback(d.user, "cb1", "consent:yes", 1), 2)
	mustContain(t, "queued", reply, "Консультант відповість", "перші")

	parent := d.posts(1)[0]
	if parent.Channel != consultants || parent.ThreadTS != "" {
		t.Fatalf("parent %+v", parent)
	}
	mustContain(t, "parent message", string(parent.Blocks), "Case W-", "witaj_claim", "witaj_resolve", "witaj_faq", "велосипед", "legal.pesel")
	if strings.Contains(parent.Text, "велосипед") {
		t.Errorf("the notification text carries the migrant's words: %q", parent.Text)
	}

	if code := d.click(slackfake.BlockAction("UCONS1", consultants, parent.TS, "witaj_claim", "x")); code != http.StatusOK {
		t.Fatalf("claim: %d", code)
	}
	mustContain(t, "claimed", d.replies(1), "узявся")

	code := d.event(slackfake.MessageEvent("Ev1", consultants, "UCONS1", "Hello! *Please* see <https://www.gov.pl/web/udsc|UdSC> &amp; write back", parent.TS))
	if code != http.StatusOK {
		t.Fatalf("event: %d", code)
	}
	mustContain(t, "consultant reply", d.replies(1), "Консультант:", "Hello! Please see UdSC (https://www.gov.pl/web/udsc) & write back")

	d.say(telegramtest.Text(d.user, "дякую! перше питання"), 0)
	d.say(telegramtest.Text(d.user, "друге питання <!channel>"), 0)
	err := d.slack.WaitFor(d.ctx(), func(s *slackfake.Server) bool {
		return strings.Contains(threadTexts(s, parent.TS), "друге питання")
	})
	if err != nil {
		t.Fatalf("migrant messages not in the thread: %v", err)
	}
	thread := threadTexts(d.slack, parent.TS)
	first, second := strings.Index(thread, "перше питання"), strings.Index(thread, "друге питання")
	if first < 0 || second < first {
		t.Errorf("thread out of order:\n%s", thread)
	}
	if !strings.Contains(thread, "&lt;!channel&gt;") || strings.Contains(thread, "<!channel>") {
		t.Errorf("<!channel> was not made harmless:\n%s", thread)
	}

	if code := d.click(slackfake.SelectAction("UCONS2", consultants, parent.TS, "witaj_faq", "legal.pesel")); code != http.StatusOK {
		t.Fatalf("faq: %d", code)
	}
	mustContain(t, "FAQ answer in Ukrainian", d.replies(1), "PESEL", "Офіційні джерела")
	d.slack.WaitFor(d.ctx(), func(s *slackfake.Server) bool { return strings.Contains(threadTexts(s, parent.TS), "legal.pesel@") })

	d.click(slackfake.BlockAction("UCONS1", consultants, parent.TS, "witaj_resolve", "x"))
	mustContain(t, "resolved", d.replies(2), "завершено", "1 = зовсім ні")
	d.say(telegramtest.Callback(d.user, "cb2", "rate:5", 1), 1)
	if err := d.slack.WaitFor(d.ctx(), func(s *slackfake.Server) bool {
		return strings.Contains(threadTexts(s, parent.TS), "rated the help 5/5")
	}); err != nil {
		t.Errorf("rating not noted in the thread")
	}
	for _, p := range d.slack.Posts() {
		if p.TS == parent.TS && !strings.Contains(string(p.LatestBlocks), "resolved") {
			t.Errorf("parent not updated to resolved: %s", p.LatestBlocks)
		}
	}
}

func threadTexts(s *slackfake.Server, ts string) string {
	var b strings.Builder
	for _, p := range s.Posts() {
		if p.ThreadTS == ts {
			b.WriteString(p.Text + "\n")
		}
	}
	return b.String()
}

// TestConsultantSafety: strangers and forged requests change nothing,
// Slack's redeliveries relay once, a violence message opens an urgent case
// at once with the emergency numbers.
func TestConsultantSafety(t *testing.T) {
	d := startDesk(t, "pl", 701)
	reply := d.say(telegramtest.Text(d.user, "mąż mnie bije, boję się"), 3)
	mustContain(t, "danger", reply, "112", "Przemoc", "pilną")
	parent := d.posts(1)[0]
	mustContain(t, "urgent parent", string(parent.Blocks), "URGENT")
	if !strings.Contains(parent.Text, "URGENT") {
		t.Errorf("urgent case notification: %q", parent.Text)
	}

	if code := d.event(slackfake.MessageEvent("EvX", consultants, "USTRANGER", "I am not a consultant", parent.TS)); code != http.StatusOK {
		t.Fatalf("stranger event: %d", code)
	}
	stale := slackfake.MessageEvent("EvS", consultants, "UCONS1", "stale", parent.TS)
	if code := d.event(stale, slackfake.SignedAt(time.Now().Add(-6*time.Minute))); code != http.StatusUnauthorized {
		t.Errorf("stale signature: %d", code)
	}
	if code := d.event(stale, slackfake.WithHeader("X-Slack-Signature", "v0=deadbeef")); code != http.StatusUnauthorized {
		t.Errorf("forged signature: %d", code)
	}
	ev := slackfake.MessageEvent("EvD", consultants, "UCONS1", "Jesteśmy z Tobą.", parent.TS)
	d.event(ev)
	d.event(ev, slackfake.Retry(1, "http_timeout"))
	mustContain(t, "consultant", d.replies(1), "Jesteśmy z Tobą.")
	// Nothing else arrives: the stranger's and the duplicate were dropped.
	d.say(telegramtest.Command(d.user, "help", ""), 1)
	for _, m := range d.tg.Sent(d.chat) {
		if strings.Contains(m.Visible, "not a consultant") || strings.Contains(m.Visible, "stale") {
			t.Errorf("relayed: %q", m.Visible)
		}
	}
	if n := strings.Count(strings.Join(visible(d.tg.Sent(d.chat)), "\n"), "Jesteśmy z Tobą."); n != 1 {
		t.Errorf("consultant reply delivered %d times", n)
	}
}

func visible(ms []telegramtest.SentMessage) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Visible)
	}
	return out
}

// TestSlackDown: Slack answers 429 (and then 200): relayed messages wait
// and arrive once, in order, and the migrant is told they wait.
func TestSlackDown(t *testing.T) {
	d := startDesk(t, "en", 702)
	d.say(telegramtest.Command(d.user, "start", "en"), 1)
	d.say(telegramtest.Command(d.user, "human", ""), 1)
	d.say(telegramtest.Callback(d.user, "c", "consent:yes", 1), 2)
	parent := d.posts(1)[0]
	d.slack.Fail("chat.postMessage", slackfake.Failure{Status: http.StatusTooManyRequests, RetryAfter: 1}, 2)
	d.say(telegramtest.Text(d.user, "message one"), 0)
	err := d.slack.WaitFor(d.ctx(), func(s *slackfake.Server) bool { return len(s.Requests("chat.postMessage")) >= 3 })
	if err != nil {
		t.Fatal(err)
	}
	reply := d.say(telegramtest.Text(d.user, "message two"), 1)
	mustContain(t, "waiting notice", reply, "waiting")
	d.say(telegramtest.Text(d.user, "message three"), 0)
	err = d.slack.WaitFor(d.ctx(), func(s *slackfake.Server) bool { return strings.Contains(threadTexts(s, parent.TS), "message three") })
	if err != nil {
		t.Fatalf("messages never reached Slack: %v", err)
	}
	thread := threadTexts(d.slack, parent.TS)
	for _, m := range []string{"message one", "message two", "message three"} {
		if strings.Count(thread, m) != 1 {
			t.Errorf("%q appears %d times in the thread:\n%s", m, strings.Count(thread, m), thread)
		}
	}
	if !(strings.Index(thread, "message one") < strings.Index(thread, "message two") && strings.Index(thread, "message two") < strings.Index(thread, "message three")) {
		t.Errorf("out of order:\n%s", thread)
	}
}

// TestForgetDuringCase: /forget during a case deletes the bot's messages
// of the case in Slack and every key of the chat.
func TestForgetDuringCase(t *testing.T) {
	d := startDesk(t, "ru", 703)
	d.say(telegramtest.Command(d.user, "start", "ru"), 1)
	d.say(telegramtest.Command(d.user, "human", ""), 1)
	d.say(telegramtest.Callback(d.user, "c", "consent:yes", 1), 2)
	parent := d.posts(1)[0]
	d.say(telegramtest.Text(d.user, "моё личное сообщение"), 0)
	d.slack.WaitFor(d.ctx(), func(s *slackfake.Server) bool { return strings.Contains(threadTexts(s, parent.TS), "личное") })
	d.say(telegramtest.Command(d.user, "forget", ""), 1)
	mustContain(t, "forget", d.say(telegramtest.Callback(d.user, "f", "forget:yes", 1), 1), "удалено")
	err := d.slack.WaitFor(d.ctx(), func(s *slackfake.Server) bool {
		for _, p := range s.Posts() {
			if (p.TS == parent.TS || p.ThreadTS == parent.TS) && !p.Deleted {
				return false
			}
		}
		return true
	})
	if err != nil {
		t.Errorf("the case's Slack messages were not deleted: %+v", d.slack.Posts())
	}
}

// TestSlackFailsAfterPosting: Slack posts a relayed message but answers
// 500; the retry finds it in the thread and does not post it again.
func TestSlackFailsAfterPosting(t *testing.T) {
	d := startDesk(t, "pl", 704)
	d.say(telegramtest.Command(d.user, "start", "pl"), 1)
	d.say(telegramtest.Command(d.user, "human", ""), 1)
	d.say(telegramtest.Callback(d.user, "c", "consent:yes", 1), 2)
	parent := d.posts(1)[0]
	d.slack.Fail("chat.postMessage", slackfake.Failure{Status: http.StatusInternalServerError, Commit: true}, 1)
	d.say(telegramtest.Text(d.user, "wiadomość raz"), 0)
	d.say(telegramtest.Text(d.user, "wiadomość dwa"), 0)
	err := d.slack.WaitFor(d.ctx(), func(s *slackfake.Server) bool { return strings.Contains(threadTexts(s, parent.TS), "wiadomość dwa") })
	if err != nil {
		t.Fatal(err)
	}
	thread := threadTexts(d.slack, parent.TS)
	if n := strings.Count(thread, "wiadomość raz"); n != 1 {
		t.Errorf("posted %d times:\n%s", n, thread)
	}
}

// TestReconcileLostReply: a consultant's reply that Slack never sent as an
// event still reaches the migrant, once, through reconciliation; the same
// reply arriving later as an event is not delivered again.
func TestReconcileLostReply(t *testing.T) {
	d := startDesk(t, "en", 705)
	d.say(telegramtest.Command(d.user, "start", "en"), 1)
	d.say(telegramtest.Command(d.user, "human", ""), 1)
	d.say(telegramtest.Callback(d.user, "c", "consent:yes", 1), 2)
	parent := d.posts(1)[0]
	lost := d.slack.AddReply(consultants, parent.TS, "UCONS2", "Sorry for the wait, here is the link")
	mustContain(t, "reconciled reply", d.replies(1), "Sorry for the wait")
	if code := d.event(lost.Event("EvLate")); code != http.StatusOK {
		t.Fatalf("late event: %d", code)
	}
	d.say(telegramtest.Command(d.user, "help", ""), 1)
	if n := strings.Count(strings.Join(visible(d.tg.Sent(d.chat)), "\n"), "Sorry for the wait"); n != 1 {
		t.Errorf("reply delivered %d times", n)
	}
}

// TestParentPostedDespite500: Slack posts a case's parent but answers
// 500; the retry finds the post instead of posting a second parent, and
// /forget deletes it.
func TestParentPostedDespite500(t *testing.T) {
	d := startDesk(t, "uk", 706)
	d.say(telegramtest.Command(d.user, "start", "uk"), 1)
	d.slack.Fail("chat.postMessage", slackfake.Failure{Status: http.StatusInternalServerError, Commit: true}, 1)
	d.say(telegramtest.Command(d.user, "human", ""), 1)
	d.say(telegramtest.Callback(d.user, "c", "consent:yes", 1), 2)
	d.say(telegramtest.Text(d.user, "моє питання"), 0)
	err := d.slack.WaitFor(d.ctx(), func(s *slackfake.Server) bool {
		for _, p := range s.Posts() {
			if p.ThreadTS != "" && strings.Contains(p.Text, "моє питання") {
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("the relay never reached the thread: %+v", d.slack.Posts())
	}
	parents := 0
	for _, p := range d.slack.Posts() {
		if p.ThreadTS == "" && strings.Contains(p.Text, "case W-") {
			parents++
		}
	}
	if parents != 1 {
		t.Errorf("%d parent messages posted, want 1: %+v", parents, d.slack.Posts())
	}
	d.say(telegramtest.Command(d.user, "forget", ""), 1)
	d.say(telegramtest.Callback(d.user, "f", "forget:yes", 1), 1)
	err = d.slack.WaitFor(d.ctx(), func(s *slackfake.Server) bool {
		for _, p := range s.Posts() {
			if strings.Contains(p.Text, "case W-") && p.ThreadTS == "" && !p.Deleted {
				return false
			}
		}
		return true
	})
	if err != nil {
		t.Errorf("the parent was not deleted: %+v", d.slack.Posts())
	}
}

// TestForgetWhileSlackDown: /forget while the case's parent still waits
// for Slack: it is never posted, and no key of the case comes back.
func TestForgetWhileSlackDown(t *testing.T) {
	d := startDesk(t, "ru", 707)
	d.say(telegramtest.Command(d.user, "start", "ru"), 1)
	d.slack.Fail("chat.postMessage", slackfake.Failure{Status: http.StatusInternalServerError}, 0)
	d.say(telegramtest.Command(d.user, "human", ""), 1)
	d.say(telegramtest.Callback(d.user, "c", "consent:yes", 1), 2)
	d.say(telegramtest.Text(d.user, "моё личное сообщение"), 0)
	d.say(telegramtest.Command(d.user, "forget", ""), 1)
	d.say(telegramtest.Callback(d.user, "f", "forget:yes", 1), 1)
	d.slack.ClearFailures()
	// Wait for the notice that the case was deleted: everything queued
	// before it has had its turn.
	err := d.slack.WaitFor(d.ctx(), func(s *slackfake.Server) bool {
		for _, p := range s.Posts() {
			if strings.Contains(p.Text, "deleted at the migrant's request") {
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("no deletion notice: %+v", d.slack.Posts())
	}
	time.Sleep(300 * time.Millisecond)
	for _, p := range d.slack.Posts() {
		if !p.Deleted && (strings.Contains(p.Text, "case W-") || strings.Contains(p.Text, "личное")) {
			t.Errorf("posted after /forget: %+v", p)
		}
	}
	rdb := goredis.NewClient(&goredis.Options{Addr: d.redisAddr})
	defer rdb.Close()
	keys, _ := rdb.Keys(context.Background(), "witaj:{chat:707}:*").Result()
	for _, k := range keys {
		if !strings.HasSuffix(k, ":next") && !strings.HasSuffix(k, ":seen") {
			typ, _ := rdb.Type(context.Background(), k).Result()
			var body any = typ
			if typ == "list" {
				body, _ = rdb.LRange(context.Background(), k, 0, -1).Result()
			}
			t.Errorf("after /forget key %s remains: %v", k, body)
		}
	}
}

// TestNotRelayed: the bot's own messages, bot_message, message_changed
// and message_deleted events, and channel messages outside a case thread
// never reach the migrant.
func TestNotRelayed(t *testing.T) {
	d := startDesk(t, "en", 708)
	d.say(telegramtest.Command(d.user, "start", "en"), 1)
	d.say(telegramtest.Command(d.user, "human", ""), 1)
	d.say(telegramtest.Callback(d.user, "c", "consent:yes", 1), 2)
	parent := d.posts(1)[0]
	events := [][]byte{
		slackfake.BotMessageEvent("Ev1", consultants, "BOTHER", "from another bot", parent.TS),
		slackfake.MessageEvent("Ev2", consultants, slackfake.BotUserID, "witaj's own message", parent.TS),
		slackfake.MessageChangedEvent("Ev3", consultants, "UCONS1", "1.000001", parent.TS, "old", "edited text"),
		slackfake.MessageDeletedEvent("Ev4", consultants, "UCONS1", "1.000002", parent.TS, "deleted text"),
		slackfake.ChannelMessageEvent("Ev5", consultants, "UCONS1", "a message outside any thread"),
	}
	for _, ev := range events {
		if code := d.event(ev); code != http.StatusOK {
			t.Fatalf("event: %d", code)
		}
	}
	// A real reply after them: it arrives, and it is the only one.
	if code := d.event(slackfake.MessageEvent("Ev6", consultants, "UCONS1", "the real reply", parent.TS)); code != http.StatusOK {
		t.Fatal(code)
	}
	got := d.replies(1)
	mustContain(t, "real reply", got, "the real reply")
	time.Sleep(300 * time.Millisecond)
	all := strings.Join(visible(d.tg.Sent(d.chat)), "\n")
	for _, bad := range []string{"another bot", "own message", "edited text", "deleted text", "outside any thread"} {
		if strings.Contains(all, bad) {
			t.Errorf("relayed to the migrant: %q", bad)
		}
	}
}
