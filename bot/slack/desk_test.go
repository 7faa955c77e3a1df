package slack

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/bot/redis"
	"github.com/witaj/witaj/bot/redis/redistest"
	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
)

var ctx = context.Background()

func newDesk(t *testing.T) (*Desk, *redis.Store) {
	t.Helper()
	st := redis.New(redistest.Start(t).Client(t), redis.Options{Retention: time.Hour})
	base, _, err := knowledge.Load(knowledge.DefaultFS(), knowledge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	always, _ := ParseHours("", time.UTC)
	d := NewDesk(st, func() *knowledge.Base { return base }, Config{Channel: "CCONS", Hours: always, Reminder: 15 * time.Minute},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	return d, st
}

// TestOpenTwiceAtOnce: escalating twice at the same moment opens one
// case and queues one parent message.
func TestOpenTwiceAtOnce(t *testing.T) {
	d, st := newDesk(t)
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Go(func() {
			o, err := d.Open(ctx, 42, flows.Escalate{Lang: knowledge.UK, Question: "q"})
			if err != nil {
				t.Error(err)
			}
			ids[i] = o.CaseID
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("case ids %v", ids)
		}
	}
	if n, _ := st.SlackBacklog(ctx, "CCONS"); n != 1 {
		t.Errorf("%d items queued, want one parent message", n)
	}
}

func TestAheadAndAfterHours(t *testing.T) {
	d, _ := newDesk(t)
	for i, chat := range []bot.ChatID{1, 2, 3} {
		o, err := d.Open(ctx, chat, flows.Escalate{Lang: knowledge.EN})
		if err != nil || o.Ahead != i {
			t.Fatalf("case %d: ahead %d, %v; want %d", chat, o.Ahead, err, i)
		}
	}
	d.cfg.Hours, _ = ParseHours("Mon 09:00-10:00", time.UTC)
	d.now = func() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) } // Tuesday
	o, _ := d.Open(ctx, 4, flows.Escalate{Lang: knowledge.EN})
	want := flows.Hours{{From: time.Monday, To: time.Monday, Open: 9 * 60, Close: 10 * 60}}
	if !o.AfterHours || !o.Back.Equal(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)) || !slices.Equal(o.Hours, want) {
		t.Errorf("after hours: %+v", o)
	}
}

func TestSchedule(t *testing.T) {
	tests := []struct {
		spec string
		want flows.Hours
	}{
		{"Mon-Fri 09:00-17:00", flows.Hours{{From: time.Monday, To: time.Friday, Open: 540, Close: 1020}}},
		{"Mon-Thu 09:00-17:00, Fri 09:00-14:00", flows.Hours{{From: time.Monday, To: time.Thursday, Open: 540, Close: 1020}, {From: time.Friday, To: time.Friday, Open: 540, Close: 840}}},
		{"Fri-Mon 10:00-12:00", flows.Hours{{From: time.Friday, To: time.Monday, Open: 600, Close: 720}}},
		{"Sun-Sat 08:00-20:00", flows.Hours{{From: time.Sunday, To: time.Saturday, Open: 480, Close: 1200}}},
	}
	for _, tt := range tests {
		h, err := ParseHours(tt.spec, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		if got := h.Schedule(); !slices.Equal(got, tt.want) {
			t.Errorf("Schedule(%q) = %+v, want %+v", tt.spec, got, tt.want)
		}
	}
}

func TestReminderOnce(t *testing.T) {
	d, st := newDesk(t)
	start := time.Now()
	d.now = func() time.Time { return start }
	d.Open(ctx, 5, flows.Escalate{Lang: knowledge.PL})
	d.now = func() time.Time { return start.Add(10 * time.Minute) }
	d.Remind(ctx)
	if n, _ := st.SlackBacklog(ctx, "CCONS"); n != 1 {
		t.Fatalf("reminded before 15 minutes (%d items)", n)
	}
	d.now = func() time.Time { return start.Add(16 * time.Minute) }
	d.Remind(ctx)
	d.Remind(ctx)
	if n, _ := st.SlackBacklog(ctx, "CCONS"); n != 2 {
		t.Fatalf("%d items, want the parent and one reminder", n)
	}
	if _, won, _ := st.Claim(ctx, 5, "U1", time.Now()); !won {
		t.Fatal("claim")
	}
	if chats, _ := st.Unclaimed(ctx, start.Add(time.Hour)); len(chats) != 0 {
		t.Errorf("a claimed case still waits: %v", chats)
	}
}

func TestClaimRace(t *testing.T) {
	d, _ := newDesk(t)
	d.Open(ctx, 6, flows.Escalate{Lang: knowledge.RU})
	var wg sync.WaitGroup
	var mu sync.Mutex
	winners := 0
	for _, u := range []string{"UA", "UB", "UC"} {
		wg.Go(func() {
			won, err := d.Claim(ctx, 6, u)
			if err != nil {
				t.Error(err)
			}
			if won {
				mu.Lock()
				winners++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if winners != 1 {
		t.Errorf("%d consultants claimed the case", winners)
	}
}

// acker records Socket Mode acknowledgements.
type acker struct {
	mu   sync.Mutex
	acks []string
}

func (a *acker) Ack(req socketmode.Request, _ ...any) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.acks = append(a.acks, req.EnvelopeID)
	return nil
}

// recorder is a Handler that records updates.
type recorder struct {
	got chan bot.Update
}

func (r recorder) Handle(_ context.Context, u bot.Update) error { r.got <- u; return nil }

// TestSocketModeHandler: a Socket Mode event is acknowledged before any
// work, and a consultant's thread reply becomes an update of the chat.
func TestSocketModeHandler(t *testing.T) {
	d, st := newDesk(t)
	d.Open(ctx, 9, flows.Escalate{Lang: knowledge.UK})
	st.SetThread(ctx, 9, "CCONS", "1700000000.000100")
	rec := recorder{got: make(chan bot.Update, 1)}
	ev := NewEvents(d, rec, st, nil, "", "UBOT", slog.New(slog.NewTextHandler(io.Discard, nil)))
	d.cfg.Consultants = []string{"UCONS"}
	inner := `{"type":"message","channel":"CCONS","user":"UCONS","text":"Dobrze &amp; szybko","ts":"1700000001.000200","thread_ts":"1700000000.000100"}`
	outer := `{"type":"event_callback","event_id":"Ev9","team_id":"T1","api_app_id":"A1","event":` + inner + `}`
	parsed, err := slackevents.ParseEvent(json.RawMessage(outer), slackevents.OptionNoVerifyToken())
	if err != nil {
		t.Fatal(err)
	}
	a := &acker{}
	ev.SocketEvent(ctx, a, socketmode.Event{Type: socketmode.EventTypeEventsAPI, Data: parsed, Request: &socketmode.Request{EnvelopeID: "env-1"}})
	if len(a.acks) != 1 || a.acks[0] != "env-1" {
		t.Fatalf("acks %v", a.acks)
	}
	select {
	case u := <-rec.got:
		if u.Chat != 9 || u.Event.Kind != flows.ConsultantMessage || u.Event.Text != "Dobrze & szybko" {
			t.Errorf("update %+v", u)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no update from the socket event")
	}
	// The bot's own messages are never relayed, whatever their user.
	self := strings.Replace(inner, `"user":"UCONS"`, `"user":"UBOT"`, 1)
	parsed, _ = slackevents.ParseEvent(json.RawMessage(strings.Replace(outer, inner, self, 1)), slackevents.OptionNoVerifyToken())
	if err := ev.OnEvent(ctx, parsed); err != nil {
		t.Fatal(err)
	}
	select {
	case u := <-rec.got:
		t.Errorf("relayed the bot's own message: %+v", u)
	default:
	}
}

// TestRelayOnce: relaying with the same key again (a redelivered update,
// a push retried after its reply was lost) queues nothing more.
func TestRelayOnce(t *testing.T) {
	d, st := newDesk(t)
	if _, err := d.Open(ctx, 43, flows.Escalate{Lang: knowledge.UK, Question: "q"}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := d.Relay(ctx, 43, "c43-u7-r0", flows.Relay{Text: "і ще одне"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Relay(ctx, 43, "c43-u8-r0", flows.Relay{Text: "інше"}); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.SlackBacklog(ctx, "CCONS"); n != 3 {
		t.Errorf("%d items queued, want the parent and two relays", n)
	}
}

// TestRelayIsPlainText: the migrant's words go to Slack as plain_text,
// never mrkdwn, so that nothing in them can format, mention or link.
func TestRelayIsPlainText(t *testing.T) {
	d, st := newDesk(t)
	if _, err := d.Open(ctx, 44, flows.Escalate{Lang: knowledge.PL, Question: "q"}); err != nil {
		t.Fatal(err)
	}
	text := "<!channel> *bold* <https://evil.example|click>"
	if _, err := d.Relay(ctx, 44, "c44-u1-r0", flows.Relay{Text: text}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SlackQueue().Settle(ctx, "CCONS", mustNextSlack(t, st).ID, time.Now(), 0, false); err != nil { // the parent
		t.Fatal(err)
	}
	it := mustNextSlack(t, st)
	var blocks []map[string]any
	if err := json.Unmarshal(it.Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	for _, b := range blocks {
		txt, _ := b["text"].(map[string]any)
		if txt["type"] != "plain_text" {
			t.Errorf("relay block %v is not plain_text", b)
		}
	}
	if strings.Contains(it.Text, "<!channel>") || strings.Contains(it.Text, "<https://") {
		t.Errorf("fallback text not escaped: %q", it.Text)
	}
}

func mustNextSlack(t *testing.T, st *redis.Store) bot.SlackItem {
	t.Helper()
	it, _, _, err := st.SlackQueue().Next(ctx, "CCONS", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return it
}
