package bot_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/witaj/witaj/bot"
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

type harness struct {
	rdb      *goredis.Client
	store    *redis.Store
	migrants *fakeMigrants
	faq      *bot.FAQ
	log      *slog.Logger
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	base, _, err := knowledge.Load(os.DirFS("../flows/testdata/faq"), knowledge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	rdb := redistest.Start(t).Client(t)
	return &harness{
		rdb:      rdb,
		store:    redis.New(rdb, redis.Options{Retention: time.Hour}),
		migrants: newFakeMigrants(),
		faq: &bot.FAQ{
			Engine: flows.New(base, knowledge.NewMatcher(base, knowledge.DefaultThresholds()), flows.DefaultConfig()),
			Render: bot.NewRenderer(base, cat),
		},
		log: slog.New(slog.NewTextHandler(logOut(), nil)),
	}
}

func (h *harness) service(wake chan<- struct{}) *bot.Service {
	return bot.NewService(h.store, h.migrants, nil, h.faq, bot.DefaultConfig(), h.log, nil, wake)
}

func (h *harness) sender(cfg bot.SendConfig) *bot.Sender {
	return bot.NewSender(h.store, h.migrants, cfg, h.log, nil)
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
	h := newHarness(t)
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
	if n, _ := h.rdb.LLen(ctx, "witaj:{chat:42}:out").Result(); n != 0 {
		t.Errorf("outbox still holds %d messages", n)
	}
}

// TestTwoReplicas delivers every update of one chat to two services at
// once: each update is handled once, and the replies come in update order.
func TestTwoReplicas(t *testing.T) {
	h := newHarness(t)
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
}

// TestCrashBeforeSend: a replica decides and stores its replies, then dies
// before sending; a replica started later sends them, once.
func TestCrashBeforeSend(t *testing.T) {
	h := newHarness(t)
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
}

func TestPanicIsParked(t *testing.T) {
	h := newHarness(t)
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
	if n, _ := h.rdb.LLen(ctx, "witaj:dead").Result(); n != 1 {
		t.Errorf("dead letters = %d, want 1", n)
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
}

func TestForgetLeavesNoKey(t *testing.T) {
	h := newHarness(t)
	svc := h.service(nil)
	stopSender := h.runSender(t, h.sender(fastSend()))
	var got []sentMsg
	// Each update after the reply to the one before, as a person taps.
	for i, u := range []bot.Update{command(1, 11, "start", "uk"), text(2, 11, "песель"), command(3, 11, "forget", ""), press(4, 11, "forget:yes")} {
		if err := svc.Handle(ctx, u); err != nil {
			t.Fatal(err)
		}
		got = h.migrants.waitSent(t, 11, i+1, 5*time.Second)
	}
	stopSender()
	if !strings.Contains(got[3].Text, "видалено") {
		t.Errorf("last message = %q, want the Ukrainian confirmation", got[3].Text)
	}
	assertForgotten(t, h.rdb, 11, 4)
	if n, _ := h.rdb.ZScore(ctx, "witaj:sendq", "11").Result(); n != 0 {
		t.Errorf("chat still scheduled")
	}
	// Telegram delivers "forget: yes" again: it is not handled twice.
	if err := svc.Handle(ctx, press(4, 11, "forget:yes")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(h.migrants.sentTo(11)); n != 4 {
		t.Errorf("the redelivered erasure was answered again: %d messages", n)
	}
	assertForgotten(t, h.rdb, 11, 4)
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

// TestRetryAfter: a 429 for one chat pauses that chat for retry_after
// while other chats go on.
func TestRetryAfter(t *testing.T) {
	h := newHarness(t)
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
}

func TestBlockedChat(t *testing.T) {
	h := newHarness(t)
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
	if n, _ := h.rdb.LLen(ctx, "witaj:{chat:3}:out").Result(); n != 0 {
		t.Errorf("%d messages kept for a blocked chat", n)
	}
	if got := h.migrants.sentTo(3); len(got) != 0 {
		t.Errorf("sent %d messages to a blocked chat", len(got))
	}
}

// TestSurgeRespectsDefaultRates: 60 chats with one message each and one
// chat with 5, at the default rates: never more than 30 messages in any
// second overall or 1 per second to one chat, and nothing is dropped.
func TestSurgeRespectsDefaultRates(t *testing.T) {
	if testing.Short() {
		t.Skip("takes a few seconds")
	}
	h := newHarness(t)
	svc := h.service(nil)
	for c := bot.ChatID(100); c < 160; c++ {
		svc.Handle(ctx, command(int64(c), c, "start", "en"))
	}
	for i := range 5 {
		svc.Handle(ctx, command(int64(1000+i), 99, "help", ""))
	}
	h.runSender(t, h.sender(bot.DefaultSendConfig()))
	busy := h.migrants.waitSent(t, 99, 5, 15*time.Second)
	var all []time.Time
	for c := bot.ChatID(100); c < 160; c++ {
		got := h.migrants.waitSent(t, c, 1, 15*time.Second)
		all = append(all, got[0].At)
	}
	for _, m := range busy {
		all = append(all, m.At)
	}
	for i := 1; i < len(busy); i++ {
		if d := busy[i].At.Sub(busy[i-1].At); d < 950*time.Millisecond {
			t.Errorf("two messages to one chat %v apart", d)
		}
	}
	for _, t0 := range all {
		n := 0
		for _, t1 := range all {
			if !t1.Before(t0) && t1.Sub(t0) < time.Second {
				n++
			}
		}
		if n > 31 { // 30 per second plus the one starting the window
			t.Fatalf("%d messages within one second", n)
		}
	}
}

func TestBusyChatTimesOut(t *testing.T) {
	h := newHarness(t)
	cfg := bot.DefaultConfig()
	cfg.BusyTimeout = 50 * time.Millisecond
	svc := bot.NewService(h.store, h.migrants, nil, h.faq, cfg, h.log, nil, nil)
	if _, err := h.store.Begin(ctx, 12, 99, "other-worker", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := svc.Handle(ctx, text(1, 12, "pesel")); !errors.Is(err, bot.ErrBusy) {
		t.Fatalf("Handle on a chat held elsewhere: %v, want ErrBusy", err)
	}
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
	h := newHarness(t)
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
	for time.Now().Before(deadline) {
		if n, _ := h.rdb.LLen(ctx, "witaj:{chat:51}:out").Result(); n == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	stop()
	if n, _ := h.rdb.LLen(ctx, "witaj:{chat:51}:out").Result(); n != 0 {
		t.Errorf("the message is still queued after two timeouts")
	}
	h.migrants.mu.Lock()
	left := len(h.migrants.fail[51])
	h.migrants.mu.Unlock()
	if left != 1 {
		t.Errorf("the message was tried %d times, want 2", 3-left)
	}
}

// TestHungSendIsNotRepeated: a send that hangs longer than the lease
// keeps its chat (the claim is renewed while it runs), so a second
// replica's sender does not send the same message.
func TestHungSendIsNotRepeated(t *testing.T) {
	h := newHarness(t)
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
}

// TestSlowChatDoesNotDelayOthers: while a send to one chat hangs, other
// chats' replies still go out at once.
func TestSlowChatDoesNotDelayOthers(t *testing.T) {
	h := newHarness(t)
	svc := h.service(nil)
	hang := make(chan struct{})
	defer close(hang)
	h.migrants.hang = map[bot.ChatID]chan struct{}{60: hang}
	h.runSender(t, h.sender(fastSend()))
	if err := svc.Handle(ctx, command(1, 60, "start", "en")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the send to chat 60 is under way and hangs
	start := time.Now()
	for i := range 5 {
		chat := bot.ChatID(61 + i)
		if err := svc.Handle(ctx, command(int64(i+2), chat, "start", "en")); err != nil {
			t.Fatal(err)
		}
		h.migrants.waitSent(t, chat, 1, 5*time.Second)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("other chats waited %v behind a hanging chat", took)
	}
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
		h := newHarness(t)
		svc := h.service(nil)
		h.migrants.failNext(1, down, down, down)
		h.runSender(t, h.sender(cfg))
		svc.Handle(ctx, command(1, 1, "start", "en"))
		h.migrants.waitSent(t, 1, 1, 20*time.Second)
	})
	t.Run("one message failing", func(t *testing.T) {
		h := newHarness(t)
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
		if n, _ := h.rdb.LLen(ctx, "witaj:{chat:1}:out").Result(); n != 0 {
			t.Errorf("chat 1 still has %d messages queued", n)
		}
	})
}

// TestBusyChatWaitsItsTurn: many updates of one chat arriving at once on
// one replica wait their turn in the process: each takes the chat's Redis
// lock once, none retries it (that put hundreds of milliseconds on busy
// chats' replies), none is told "busy".
func TestBusyChatWaitsItsTurn(t *testing.T) {
	h := newHarness(t)
	store := &countingStore{Store: h.store}
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
