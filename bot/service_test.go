package bot_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	goredis "github.com/redis/go-redis/v9"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/bot/memstore"
	"github.com/witaj/witaj/bot/redis"
	"github.com/witaj/witaj/bot/redis/redistest"
	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
	"github.com/witaj/witaj/locales"
)

// fakeMigrants is an in-memory platform: Format renders plain text, Send
// records what was sent and fails as told.
type fakeMigrants struct {
	mu    sync.Mutex
	hang  map[bot.ChatID]chan struct{} // Send to the chat blocks until closed
	calls map[bot.ChatID]int
	sent  map[bot.ChatID][]sentMsg
	fail  map[bot.ChatID][]error // errors to return, in order, per chat
	panic bool                   // Format panics (a bug in an adapter)
	cond  *sync.Cond
}

type sentMsg struct {
	ID, Text string
	At       time.Time
}

func newFakeMigrants() *fakeMigrants {
	f := &fakeMigrants{sent: map[bot.ChatID][]sentMsg{}, fail: map[bot.ChatID][]error{}}
	f.cond = sync.NewCond(&f.mu)
	return f
}

func (f *fakeMigrants) Format(m bot.Message) []bot.OutMessage {
	f.mu.Lock()
	p := f.panic
	f.mu.Unlock()
	if p {
		panic("format exploded")
	}
	return []bot.OutMessage{{Text: m.Doc.PlainText(), Buttons: m.Buttons}}
}

func (f *fakeMigrants) Send(_ context.Context, chat bot.ChatID, m bot.OutMessage) error {
	f.mu.Lock()
	hang := f.hang[chat]
	if f.calls == nil {
		f.calls = map[bot.ChatID]int{}
	}
	f.calls[chat]++
	f.mu.Unlock()
	if hang != nil {
		<-hang
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.cond.Broadcast()
	if errs := f.fail[chat]; len(errs) > 0 {
		f.fail[chat] = errs[1:]
		return errs[0]
	}
	f.sent[chat] = append(f.sent[chat], sentMsg{m.ID, m.Text, time.Now()})
	return nil
}

// total is the number of messages sent to all chats.
func (f *fakeMigrants) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, ms := range f.sent {
		n += len(ms)
	}
	return n
}

func (f *fakeMigrants) failNext(chat bot.ChatID, errs ...error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[chat] = append(f.fail[chat], errs...)
}

func (f *fakeMigrants) sentTo(chat bot.ChatID) []sentMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentMsg(nil), f.sent[chat]...)
}

// waitSent waits until chat has n messages or the deadline passes.
func (f *fakeMigrants) waitSent(t *testing.T, chat bot.ChatID, n int, within time.Duration) []sentMsg {
	t.Helper()
	deadline := time.Now().Add(within)
	stop := time.AfterFunc(within, func() { f.mu.Lock(); f.cond.Broadcast(); f.mu.Unlock() })
	defer stop.Stop()
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(f.sent[chat]) < n && time.Now().Before(deadline) {
		f.cond.Wait()
	}
	if len(f.sent[chat]) < n {
		t.Fatalf("chat %d: %d messages sent within %v, want %d", chat, len(f.sent[chat]), within, n)
	}
	return append([]sentMsg(nil), f.sent[chat]...)
}

// harness runs the service against one store. The Redis fields are set
// on the Redis backend only: tests that look at Redis keys, or use what
// only the Redis store provides (broadcasts, stats, the fault proxy),
// read them.
type harness struct {
	rdb      *goredis.Client // nil on memstore
	store    *redis.Store    // nil on memstore
	mem      *memstore.Store // nil on Redis
	migrants *fakeMigrants
	faq      *bot.FAQ
	log      *slog.Logger
}

// backends are the stores the service tests run on, as the contract suite
// (bot/storetest) runs on both: the in-process store, so that the service
// is tested without a Redis server, and a real redis-server, what
// production uses.
var backends = []struct {
	name string
	open func(t testing.TB, h *harness)
}{
	{"memstore", func(t testing.TB, h *harness) {
		h.mem = memstore.New(memstore.Options{Retention: time.Hour})
	}},
	{"redis", func(t testing.TB, h *harness) {
		h.rdb = redistest.Start(t).Client(t)
		h.store = redis.New(h.rdb, redis.Options{Retention: time.Hour})
	}},
}

// forEachStore runs f as a subtest on each backend. The subtests run in
// parallel: most of their time is spent waiting for send rates and
// backoffs, so the second backend costs little wall time.
func forEachStore(t *testing.T, f func(t *testing.T, h *harness)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f(t, newHarnessOn(t, b.name))
		})
	}
}

// newHarness returns a harness on Redis, for the tests that need Redis.
func newHarness(t testing.TB) *harness {
	t.Helper()
	return newHarnessOn(t, "redis")
}

func newHarnessOn(t testing.TB, backend string) *harness {
	t.Helper()
	base, _, err := knowledge.Load(os.DirFS("../flows/testdata/faq"), knowledge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{
		migrants: newFakeMigrants(),
		faq: &bot.FAQ{
			Engine: flows.New(base, knowledge.NewMatcher(base, knowledge.DefaultThresholds()), flows.DefaultConfig()),
			Render: bot.NewRenderer(base, cat),
		},
		log: slog.New(slog.NewTextHandler(logOut(), nil)),
	}
	for _, b := range backends {
		if b.name == backend {
			b.open(t, h)
			return h
		}
	}
	t.Fatalf("no backend %q", backend)
	return nil
}

// st is the store under test. It is looked up on each call because
// faultHarness swaps h.store for one behind a proxy.
func (h *harness) st() bot.Store {
	if h.store != nil {
		return h.store
	}
	return h.mem
}

// queued returns how many messages chat's outbox holds.
func (h *harness) queued(t testing.TB, chat bot.ChatID) int {
	t.Helper()
	_, n := h.outbox(t, chat)
	return n
}

// outbox returns the id of the first message in chat's outbox and how
// many it holds, through the store's interface: Next at a time past any
// pacing mark answers with the head (and, on memstore, the length; the
// Redis store counts no further than 2, so its list is measured).
func (h *harness) outbox(t testing.TB, chat bot.ChatID) (head string, n int) {
	t.Helper()
	m, n, _, err := h.st().Next(ctx, chat, time.Now().Add(24*time.Hour))
	if errors.Is(err, bot.ErrEmpty) {
		return "", 0
	}
	if err != nil {
		t.Fatalf("outbox of chat %d: %v", chat, err)
	}
	if h.rdb != nil {
		l, err := h.rdb.LLen(ctx, fmt.Sprintf("witaj:{chat:%d}:out", chat)).Result()
		if err != nil {
			t.Fatal(err)
		}
		n = int(l)
	}
	return m.ID, n
}

// deadLetters returns the parked updates, newest first: what operators
// read. The interface only writes them, so each backend is read its way.
func (h *harness) deadLetters(t testing.TB) []bot.DeadLetter {
	t.Helper()
	if h.mem != nil {
		ds, err := h.mem.DeadLetters(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	raw, err := h.rdb.LRange(ctx, "witaj:dead", 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	ds := make([]bot.DeadLetter, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal([]byte(r), &ds[i]); err != nil {
			t.Fatalf("dead letter %q: %v", r, err)
		}
	}
	return ds
}

func (h *harness) service(wake chan<- struct{}) *bot.Service {
	return bot.NewService(h.st(), h.migrants, nil, h.faq, bot.DefaultConfig(), h.log, nil, wake)
}

func (h *harness) sender(cfg bot.SendConfig) *bot.Sender {
	return bot.NewSender(h.st(), h.migrants, cfg, h.log, nil)
}

// runSender runs a sender until stop is called or the test ends.
func (h *harness) runSender(t *testing.T, s *bot.Sender) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func text(id int64, chat bot.ChatID, s string) bot.Update {
	return bot.Update{ID: id, Chat: chat, HasEvent: true, Event: flows.Event{Kind: flows.TextMessage, Text: s, LangHint: "en"}}
}

func command(id int64, chat bot.ChatID, cmd, arg string) bot.Update {
	return bot.Update{ID: id, Chat: chat, HasEvent: true, Event: flows.Event{Kind: flows.CommandMessage, Command: cmd, Arg: arg}}
}

func press(id int64, chat bot.ChatID, data string) bot.Update {
	return bot.Update{ID: id, Chat: chat, HasEvent: true, Event: flows.Event{Kind: flows.ButtonPress, Data: data}}
}

var ctx = context.Background()

func fastSend() bot.SendConfig {
	cfg := bot.DefaultSendConfig()
	cfg.Rate, cfg.RatePerChat, cfg.Poll = 1000, 1000, 5*time.Millisecond
	return cfg
}

func TestRedeliveryRepliesOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, h *harness) {
		svc := h.service(nil)
		for range 3 { // Telegram redelivers the same update
			if err := svc.Handle(ctx, command(1, 42, "start", "en")); err != nil {
				t.Fatal(err)
			}
		}
		stop := h.runSender(t, h.sender(fastSend()))
		got := h.migrants.waitSent(t, 42, 1, 5*time.Second)
		if err := svc.Handle(ctx, command(1, 42, "start", "en")); err != nil {
			t.Fatal(err)
		}
		stop()
		if len(got) != 1 || !strings.Contains(got[0].Text, "witaj") {
			t.Fatalf("sent %v, want one welcome", got)
		}
		// Nothing more arrives: the sender is idle and the outbox empty.
		if n := h.queued(t, 42); n != 0 {
			t.Errorf("outbox still holds %d messages", n)
		}
	})
}

// TestTwoReplicas delivers every update of one chat to two services at
// once: each update is handled once, and the replies come in update order.
func TestTwoReplicas(t *testing.T) {
	forEachStore(t, func(t *testing.T, h *harness) {
		a, b := h.service(nil), h.service(nil)
		updates := []bot.Update{command(1, 7, "start", "en"), text(2, 7, "pesel"), text(3, 7, "minimum wage"), command(4, 7, "help", ""), text(5, 7, "residence card")}
		for _, u := range updates {
			var wg sync.WaitGroup
			for _, svc := range []*bot.Service{a, b} {
				wg.Go(func() {
					if err := svc.Handle(ctx, u); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
		}
		h.runSender(t, h.sender(fastSend()))
		got := h.migrants.waitSent(t, 7, 5, 5*time.Second)
		wants := []string{"witaj", "PESEL", "Minimum wage", "/forget", "Residence card"}
		for i, want := range wants {
			if !strings.Contains(got[i].Text, want) {
				t.Errorf("message %d = %.60q, want it to contain %q", i, got[i].Text, want)
			}
		}
		if len(h.migrants.sentTo(7)) != 5 {
			t.Errorf("%d messages sent, want 5 (one per update)", len(h.migrants.sentTo(7)))
		}
	})
}

// TestCrashBeforeSend: a replica decides and stores its replies, then dies
// before sending; a replica started later sends them, once.
func TestCrashBeforeSend(t *testing.T) {
	forEachStore(t, func(t *testing.T, h *harness) {
		if err := h.service(nil).Handle(ctx, command(1, 9, "start", "pl")); err != nil {
			t.Fatal(err)
		}
		// No sender ran: nothing went out before the "crash".
		if len(h.migrants.sentTo(9)) != 0 {
			t.Fatal("sent before any sender ran")
		}
		h.runSender(t, h.sender(fastSend()))
		h.migrants.waitSent(t, 9, 1, 5*time.Second)
		if err := h.service(nil).Handle(ctx, command(1, 9, "start", "pl")); err != nil {
			t.Fatal(err)
		}
		if got := len(h.migrants.sentTo(9)); got != 1 {
			t.Errorf("%d messages, want 1", got)
		}
	})
}

func TestPanicIsParked(t *testing.T) {
	forEachStore(t, func(t *testing.T, h *harness) {
		svc := h.service(nil)
		h.migrants.mu.Lock()
		h.migrants.panic = true
		h.migrants.mu.Unlock()
		max := bot.DefaultConfig().MaxAttempts
		for attempt := 1; attempt < max; attempt++ {
			if err := svc.Handle(ctx, command(1, 5, "start", "en")); err == nil || !strings.Contains(err.Error(), "panic") {
				t.Fatalf("attempt %d: err = %v, want the panic as an error", attempt, err)
			}
		}
		if err := svc.Handle(ctx, command(1, 5, "start", "en")); err != nil {
			t.Fatalf("attempt %d: %v, want the update parked", max, err)
		}
		if ds := h.deadLetters(t); len(ds) != 1 || ds[0].Chat != 5 || ds[0].UpdateID != 1 || !strings.Contains(ds[0].Error, "format exploded") {
			t.Errorf("%d dead letters, want one: update 1 of chat 5 with its panic", len(ds))
		}
		h.migrants.mu.Lock()
		h.migrants.panic = false
		h.migrants.mu.Unlock()
		// Parked means handled: a redelivery does nothing.
		if err := svc.Handle(ctx, command(1, 5, "start", "en")); err != nil {
			t.Fatal(err)
		}
		// Other chats are unaffected.
		if err := svc.Handle(ctx, command(2, 6, "start", "en")); err != nil {
			t.Fatal(err)
		}
		stop := h.runSender(t, h.sender(fastSend()))
		h.migrants.waitSent(t, 6, 1, 5*time.Second)
		stop()
		if got := h.migrants.sentTo(5); len(got) != 0 {
			t.Errorf("the parked chat got %v", got)
		}
		if n := len(h.deadLetters(t)); n != 1 {
			t.Errorf("%d dead letters after the redelivery, want still 1", n)
		}
	})
}

// TestForgetLeavesNoKey: after /forget nothing of the chat is kept but
// the ids of the updates handled. Both stores are checked through their
// interface; on Redis the keys are scanned as well (the in-memory store's
// equivalent is the contract's "forget leaves no key").
func TestForgetLeavesNoKey(t *testing.T) {
	forEachStore(t, func(t *testing.T, h *harness) {
		svc := h.service(nil)
		sender := h.sender(fastSend())
		var settled atomic.Int64
		sender.OnSettled = func(context.Context, bot.OutMessage, string) { settled.Add(1) }
		stopSender := h.runSender(t, sender)
		var got []sentMsg
		// Each update as soon as the reply to the one before arrives: the
		// erasure may be committed while the sender is still settling
		// the prompt, and its confirmation must not wait for the claim
		// to run out (Lease; waitSent gives it 5 s).
		for i, u := range []bot.Update{command(1, 11, "start", "uk"), text(2, 11, "песель"), command(3, 11, "forget", ""), press(4, 11, "forget:yes")} {
			if err := svc.Handle(ctx, u); err != nil {
				t.Fatal(err)
			}
			got = h.migrants.waitSent(t, 11, i+1, 5*time.Second)
		}
		// The last settle follows the confirmation's arrival.
		for deadline := time.Now().Add(5 * time.Second); settled.Load() < 4; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the confirmation was not settled in 5 s")
			}
		}
		stopSender()
		if !strings.Contains(got[3].Text, "видалено") {
			t.Errorf("last message = %q, want the Ukrainian confirmation", got[3].Text)
		}
		if h.rdb != nil {
			assertForgotten(t, h.rdb, 11, 4)
		}
		assertForgottenByStore(t, h, 11, 4, 2)
		// Telegram delivers "forget: yes" again: it is not handled twice.
		if err := svc.Handle(ctx, press(4, 11, "forget:yes")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		if n := len(h.migrants.sentTo(11)); n != 4 {
			t.Errorf("the redelivered erasure was answered again: %d messages", n)
		}
		if h.rdb != nil {
			assertForgotten(t, h.rdb, 11, 4)
		}
	})
}

// assertForgotten checks that after /forget only content-free keys of
// the chat remain: the short-lived send pacing mark, and the ids of the
// updates handled (no text), which keep a redelivered update from being
// handled twice.
func assertForgotten(t *testing.T, rdb *goredis.Client, chat int64, updateID int64) {
	t.Helper()
	keys, _ := rdb.Keys(ctx, fmt.Sprintf("witaj:{chat:%d}:*", chat)).Result()
	for _, k := range keys {
		switch {
		case strings.HasSuffix(k, ":next"):
		case strings.HasSuffix(k, ":seen"):
			ids, _ := rdb.ZRange(ctx, k, 0, -1).Result()
			if len(ids) != 1 || ids[0] != fmt.Sprint(updateID) {
				t.Errorf("after /forget the handled ids are %v, want only the erasure's", ids)
			}
			if ttl, _ := rdb.TTL(ctx, k).Result(); ttl <= 0 || ttl > 25*time.Hour {
				t.Errorf("handled ids kept for %v", ttl)
			}
		default:
			t.Errorf("after /forget key %s remains", k)
		}
	}
}

// assertForgottenByStore checks through the store's interface what
// assertForgotten checks in Redis: no audit, no outbox, nothing
// scheduled, no session, and of the handled ids the erasure's
// (a redelivery is a duplicate) but not an earlier update's. It leaves
// the chat unlocked.
func assertForgottenByStore(t *testing.T, h *harness, chat bot.ChatID, erasure, earlier int64) {
	t.Helper()
	st := h.st()
	if recs, err := st.Audit(ctx, chat); err != nil || len(recs) != 0 {
		t.Errorf("after /forget the audit holds %d records (err %v)", len(recs), err)
	}
	if n := h.queued(t, chat); n != 0 {
		t.Errorf("after /forget the outbox holds %d messages", n)
	}
	// (A redelivered update puts its chat on the schedule again whether
	// or not anything is queued, so this holds only before one.)
	due, _, err := st.Due(ctx, time.Now().Add(time.Hour), 100, time.Millisecond)
	if err != nil || slices.Contains(due, chat) {
		t.Errorf("after /forget the chat is still scheduled (due %v, err %v)", due, err)
	}
	if _, err := st.Begin(ctx, chat, erasure, "probe", time.Second); !errors.Is(err, bot.ErrDuplicate) {
		t.Errorf("Begin of the erasure's update again: %v, want ErrDuplicate", err)
	}
	b, err := st.Begin(ctx, chat, earlier, "probe", time.Second)
	if err != nil {
		t.Fatalf("Begin of update %d, handled before /forget: %v, want it not remembered", earlier, err)
	}
	if diff := cmp.Diff(flows.Session{}, b.Session); diff != "" {
		t.Errorf("after /forget the session is kept (-want +got):\n%s", diff)
	}
	if err := st.Release(ctx, chat, "probe"); err != nil {
		t.Fatal(err)
	}
}

// TestRetryAfter: a 429 for one chat pauses that chat for retry_after
// while other chats go on.
func TestRetryAfter(t *testing.T) {
	forEachStore(t, func(t *testing.T, h *harness) {
		svc := h.service(nil)
		h.migrants.failNext(1, &bot.RetryAfterError{After: 2 * time.Second})
		start := time.Now()
		h.runSender(t, h.sender(fastSend()))
		svc.Handle(ctx, command(1, 1, "start", "en"))
		svc.Handle(ctx, command(2, 2, "start", "en"))
		other := h.migrants.waitSent(t, 2, 1, 5*time.Second)
		limited := h.migrants.waitSent(t, 1, 1, 5*time.Second)
		if d := limited[0].At.Sub(start); d < 2*time.Second {
			t.Errorf("rate-limited chat resent after %v, want ≥ 2s", d)
		}
		if d := other[0].At.Sub(start); d > 1500*time.Millisecond {
			t.Errorf("other chat waited %v, as if the 429 held it too", d)
		}
	})
}

// TestBlockedChat: a chat whose user blocked the bot gets nothing more:
// its queued messages are dropped, not kept for when they unblock it.
func TestBlockedChat(t *testing.T) {
	forEachStore(t, func(t *testing.T, h *harness) {
		svc := h.service(nil)
		s := h.sender(fastSend())
		blocked := make(chan bot.ChatID, 1)
		s.OnBlocked = func(_ context.Context, chat bot.ChatID) { blocked <- chat }
		h.migrants.failNext(3, fmt.Errorf("send: %w", bot.ErrBlocked))
		svc.Handle(ctx, command(1, 3, "start", "en"))
		svc.Handle(ctx, command(2, 3, "help", ""))
		h.runSender(t, s)
		select {
		case c := <-blocked:
			if c != 3 {
				t.Fatalf("blocked chat %d", c)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("OnBlocked not called")
		}
		if _, _, _, err := h.st().Next(ctx, 3, time.Now()); !errors.Is(err, bot.ErrBlocked) {
			t.Errorf("Next for a blocked chat: %v, want ErrBlocked", err)
		}
		if h.rdb != nil {
			if n, _ := h.rdb.LLen(ctx, "witaj:{chat:3}:out").Result(); n != 0 {
				t.Errorf("%d messages kept for a blocked chat", n)
			}
		}
		if got := h.migrants.sentTo(3); len(got) != 0 {
			t.Errorf("sent %d messages to a blocked chat", len(got))
		}
		// The user unblocks the bot and writes: the first message they get
		// answers that, not what was queued while they had blocked it.
		if err := svc.Handle(ctx, bot.Update{ID: 3, Chat: 3, Control: bot.Unblocked}); err != nil {
			t.Fatal(err)
		}
		if err := svc.Handle(ctx, command(4, 3, "help", "")); err != nil {
			t.Fatal(err)
		}
		if got := h.migrants.waitSent(t, 3, 1, 5*time.Second); got[0].ID != "4-0" {
			t.Errorf("first message after unblocking is %s, want 4-0 (the messages queued before are dropped)", got[0].ID)
		}
	})
}

// TestSurgeRespectsDefaultRates is checklist item 10: the outbox holds 10
// messages for one chat and one for each of 200 chats. At the default
// rates the sender never sends more than Rate messages a second overall
// (over any 1 s and 5 s window, allowing the pacer's burst of a tenth of
// a second), nor two to one chat less than 1/RatePerChat apart, and sends
// every message once, each chat's in order.
//
// It stops once the 200 chats are served and the busy chat has had 4
// messages (about 10 s), and finds the busy chat's other 6 still queued, in
// order. Sending all 10 would take about 15 s: a chat paced by its own
// rate is due again only 1/RatePerChat after its last send, behind every
// chat due earlier, so the busy chat's second message waits until the
// other 200 (8 s at 25 a second) are sent.
func TestSurgeRespectsDefaultRates(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 10 s")
	}
	const (
		chats = 200
		busy  = bot.ChatID(99)
		many  = 10 // messages queued for the busy chat
		seen  = 4  // of them sent before the test stops
	)
	cfg := bot.DefaultSendConfig()
	interval := time.Duration(float64(time.Second) / cfg.RatePerChat)
	forEachStore(t, func(t *testing.T, h *harness) {
		svc := h.service(nil)
		for i := range many {
			if err := svc.Handle(ctx, command(int64(1000+i), busy, "help", "")); err != nil {
				t.Fatal(err)
			}
		}
		for c := range bot.ChatID(chats) {
			if err := svc.Handle(ctx, command(int64(100+c), 100+c, "start", "en")); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		stop := h.runSender(t, h.sender(cfg))
		for c := range bot.ChatID(chats) {
			h.migrants.waitSent(t, 100+c, 1, 12*time.Second)
		}
		h.migrants.waitSent(t, busy, seen, 5*time.Second)
		took := time.Since(start)
		stop()

		var all []time.Time
		for c := range bot.ChatID(chats) {
			got := h.migrants.sentTo(100 + c)
			if len(got) != 1 {
				t.Errorf("chat %d got %d messages, want 1", 100+c, len(got))
			}
			for _, m := range got {
				all = append(all, m.At)
			}
		}
		got := h.migrants.sentTo(busy)
		for i, m := range got {
			all = append(all, m.At)
			if want := fmt.Sprintf("%d-0", 1000+i); m.ID != want {
				t.Errorf("the busy chat's message %d is %s, want %s", i, m.ID, want)
			}
			if i == 0 {
				continue
			}
			// The pacing mark is in whole milliseconds: allow a few.
			if gap := m.At.Sub(got[i-1].At); gap < interval-5*time.Millisecond {
				t.Errorf("messages %d and %d to one chat %v apart, want ≥ %v", i-1, i, gap, interval)
			}
		}
		// Nothing dropped: what was not sent yet waits, in order.
		if head, n := h.outbox(t, busy); n != many-len(got) || n > 0 && head != fmt.Sprintf("%d-0", 1000+len(got)) {
			t.Errorf("after %d sent, the busy chat's outbox holds %d from %s, want %d from %d-0", len(got), n, head, many-len(got), 1000+len(got))
		}
		// A window starting at a send holds it and the slots that follow
		// 1/Rate apart. The pacer may use a slot up to a tenth of a second
		// late (a busy machine), so a window may also hold a tenth of a
		// second's slots from before it: a burst of Rate/10. The longer
		// window checks the sustained rate.
		var busiest []string
		for _, w := range []time.Duration{time.Second, 5 * time.Second} {
			most, at := busiestWindow(all, w)
			if limit := int(cfg.Rate*w.Seconds()) + 1 + int(cfg.Rate/10); most > limit {
				t.Errorf("%d messages in the %v from %v, want ≤ %d", most, w, at.Sub(start).Round(time.Millisecond), limit)
			}
			busiest = append(busiest, fmt.Sprintf("%d in %v", most, w))
		}
		t.Logf("%d messages in %v; at most %s", len(all), took.Round(time.Millisecond), strings.Join(busiest, ", "))
	})
}

// busiestWindow returns the most times within any window [t, t+w), and
// the t of the first such window. A busiest window can always be moved to
// start at one of the times, so only those starts are tried.
func busiestWindow(times []time.Time, w time.Duration) (int, time.Time) {
	ts := slices.Clone(times)
	slices.SortFunc(ts, time.Time.Compare)
	most, at := 0, time.Time{}
	end := 0
	for i, t0 := range ts {
		for end < len(ts) && ts[end].Sub(t0) < w {
			end++
		}
		if end-i > most {
			most, at = end-i, t0
		}
	}
	return most, at
}

func TestBusyChatTimesOut(t *testing.T) {
	forEachStore(t, func(t *testing.T, h *harness) {
		cfg := bot.DefaultConfig()
		cfg.BusyTimeout = 50 * time.Millisecond
		svc := bot.NewService(h.st(), h.migrants, nil, h.faq, cfg, h.log, nil, nil)
		if _, err := h.st().Begin(ctx, 12, 99, "other-worker", time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := svc.Handle(ctx, text(1, 12, "pesel")); !errors.Is(err, bot.ErrBusy) {
			t.Fatalf("Handle on a chat held elsewhere: %v, want ErrBusy", err)
		}
	})
}

func logOut() io.Writer {
	if os.Getenv("WITAJ_TEST_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}

// TestMaybeSentAtMostOnceMore: a message whose send timed out (it may
// have arrived) is sent once more; if that times out too it is dropped,
// never sent a third time.
func TestMaybeSentAtMostOnceMore(t *testing.T) {
	forEachStore(t, func(t *testing.T, h *harness) {
		svc := h.service(nil)
		maybe := fmt.Errorf("send: %w", bot.ErrMaybeSent)
		h.migrants.failNext(50, maybe)
		if err := svc.Handle(ctx, command(1, 50, "start", "en")); err != nil {
			t.Fatal(err)
		}
		cfg := fastSend()
		stop := h.runSender(t, h.sender(cfg))
		h.migrants.waitSent(t, 50, 1, 10*time.Second)
		stop()

		h.migrants.failNext(51, maybe, maybe, maybe)
		if err := svc.Handle(ctx, command(2, 51, "start", "en")); err != nil {
			t.Fatal(err)
		}
		stop = h.runSender(t, h.sender(cfg))
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) && h.queued(t, 51) != 0 {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		stop()
		if n := h.queued(t, 51); n != 0 {
			t.Errorf("the message is still queued after two timeouts")
		}
		h.migrants.mu.Lock()
		left := len(h.migrants.fail[51])
		h.migrants.mu.Unlock()
		if left != 1 {
			t.Errorf("the message was tried %d times, want 2", 3-left)
		}
	})
}

// TestHungSendIsNotRepeated: a send that hangs longer than the lease
// keeps its chat (the claim is renewed while it runs), so a second
// replica's sender does not send the same message.
func TestHungSendIsNotRepeated(t *testing.T) {
	forEachStore(t, func(t *testing.T, h *harness) {
		svc := h.service(nil)
		hang := make(chan struct{})
		h.migrants.hang = map[bot.ChatID]chan struct{}{52: hang}
		if err := svc.Handle(ctx, command(1, 52, "start", "en")); err != nil {
			t.Fatal(err)
		}
		cfg := fastSend()
		cfg.Lease = 150 * time.Millisecond
		h.runSender(t, h.sender(cfg))
		h.runSender(t, h.sender(cfg)) // another replica
		time.Sleep(5 * cfg.Lease)     // the send hangs for several leases
		close(hang)
		h.migrants.waitSent(t, 52, 1, 5*time.Second)
		time.Sleep(3 * cfg.Lease)
		h.migrants.mu.Lock()
		calls := h.migrants.calls[52]
		h.migrants.mu.Unlock()
		if calls != 1 {
			t.Errorf("the message was sent %d times, want once", calls)
		}
	})
}

// TestOutageDropsNothing: a message that fails while nothing else gets
// through (the platform is down) is kept however long that lasts; one
// that fails while other chats' messages are delivered is dropped after
// MaxAttempts.
func TestOutageDropsNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out a few backoffs")
	}
	down := errors.New("telegram: 502 Bad Gateway")
	cfg := fastSend()
	cfg.MaxAttempts = 2

	t.Run("platform down", func(t *testing.T) {
		forEachStore(t, func(t *testing.T, h *harness) {
			svc := h.service(nil)
			h.migrants.failNext(1, down, down, down)
			h.runSender(t, h.sender(cfg))
			svc.Handle(ctx, command(1, 1, "start", "en"))
			h.migrants.waitSent(t, 1, 1, 20*time.Second)
		})
	})
	t.Run("one message failing", func(t *testing.T) {
		forEachStore(t, func(t *testing.T, h *harness) {
			svc := h.service(nil)
			h.migrants.failNext(1, down, down, down)
			h.runSender(t, h.sender(cfg))
			svc.Handle(ctx, command(1, 1, "start", "en"))
			// Chat 2 keeps getting answers meanwhile.
			for i := int64(0); i < 20; i++ {
				svc.Handle(ctx, command(100+i, 2, "help", ""))
				time.Sleep(250 * time.Millisecond)
			}
			if got := h.migrants.sentTo(1); len(got) != 0 {
				t.Errorf("chat 1 got %d messages; its message should have been dropped after %d attempts", len(got), cfg.MaxAttempts)
			}
			if n := h.queued(t, 1); n != 0 {
				t.Errorf("chat 1 still has %d messages queued", n)
			}
		})
	})
}

// TestBusyChatWaitsItsTurn: many updates of one chat arriving at once on
// one replica wait their turn in the process: each takes the chat's store
// lock once, none retries it (that put hundreds of milliseconds on busy
// chats' replies), none is told "busy".
func TestBusyChatWaitsItsTurn(t *testing.T) {
	forEachStore(t, func(t *testing.T, h *harness) {
		store := &countingStore{Store: h.st()}
		svc := bot.NewService(store, h.migrants, nil, h.faq, bot.DefaultConfig(), h.log, nil, nil)
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := range 40 {
			wg.Go(func() { errs <- svc.Handle(ctx, text(int64(i+1), 13, "pesel")) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
		}
		if n := store.begins.Load(); n != 40 {
			t.Errorf("%d attempts to lock the chat for 40 updates, want 40", n)
		}
	})
}

// countingStore counts Begin calls.
type countingStore struct {
	bot.Store
	begins atomic.Int64
}

func (s *countingStore) Begin(ctx context.Context, chat bot.ChatID, updateID int64, token string, lease time.Duration) (bot.Begun, error) {
	s.begins.Add(1)
	return s.Store.Begin(ctx, chat, updateID, token, lease)
}
