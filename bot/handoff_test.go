package bot_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/bot/redis"
)

// dueCounter counts how often a sender asks the schedule for due chats.
type dueCounter struct {
	bot.Outbox
	n atomic.Int64
}

func (d *dueCounter) Due(ctx context.Context, now time.Time, max int, lease time.Duration) ([]bot.ChatID, time.Time, error) {
	d.n.Add(1)
	return d.Outbox.Due(ctx, now, max, lease)
}

// handOffSender is a sender with raised rates that polls the schedule
// only every Poll (2 s by default): what it sends within a test, it was
// handed.
func (h *harness) handOffSender(workers int) (*bot.Sender, *dueCounter) {
	cfg := bot.DefaultSendConfig()
	cfg.Rate, cfg.RatePerChat, cfg.Workers = 1000, 1000, workers
	due := &dueCounter{Outbox: h.st()}
	return bot.NewSender(due, h.migrants, cfg, h.log, nil), due
}

// TestHandOffSendsWithoutTheSchedule: each reply goes out from the
// replica that committed it, once, without the sender asking the
// schedule which chats are due.
func TestHandOffSendsWithoutTheSchedule(t *testing.T) {
	h := newHarness(t)
	sender, due := h.handOffSender(16)
	h.runSender(t, sender)
	time.Sleep(100 * time.Millisecond) // past the sender's first look
	before := due.n.Load()
	svc := h.service(sender.Wake())
	svc.HandOff(sender)
	const chats = 20
	for i := range chats {
		if err := svc.Handle(ctx, command(int64(i+1), bot.ChatID(100+i), "start", "en")); err != nil {
			t.Fatal(err)
		}
	}
	for i := range chats {
		h.migrants.waitSent(t, bot.ChatID(100+i), 1, 5*time.Second)
	}
	time.Sleep(100 * time.Millisecond) // nothing more comes
	for i := range chats {
		if sent := h.migrants.sentTo(bot.ChatID(100 + i)); len(sent) != 1 {
			t.Errorf("chat %d got %d messages, want 1", 100+i, len(sent))
		}
	}
	if n := due.n.Load() - before; n > 2 {
		t.Errorf("the sender asked the schedule %d times for %d replies handed to it", n, chats)
	}
}

// TestHandOffWithoutAFreeWorker: a reply the sender cannot take at once
// (its one worker is busy, or it has stopped) goes back to the schedule
// and is sent once, by the schedule's sender.
func TestHandOffWithoutAFreeWorker(t *testing.T) {
	h := newHarness(t)
	hang := make(chan struct{})
	h.migrants.hang = map[bot.ChatID]chan struct{}{200: hang}
	sender, due := h.handOffSender(1)
	stop := h.runSender(t, sender)
	svc := h.service(sender.Wake())
	svc.HandOff(sender)
	if err := svc.Handle(ctx, command(1, 200, "start", "en")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the one worker hangs on chat 200
	before := due.n.Load()
	if err := svc.Handle(ctx, command(2, 201, "start", "en")); err != nil {
		t.Fatal(err)
	}
	close(hang)
	h.migrants.waitSent(t, 200, 1, 5*time.Second)
	h.migrants.waitSent(t, 201, 1, 5*time.Second)
	if due.n.Load() == before {
		t.Error("the reply no worker took was sent without the schedule")
	}

	// A stopped sender takes nothing: the reply waits for the next.
	stop()
	if err := svc.Handle(ctx, command(3, 202, "start", "en")); err != nil {
		t.Fatal(err)
	}
	next, _ := h.handOffSender(1)
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	next.Drain(dctx)
	h.migrants.waitSent(t, 202, 1, time.Second)
	for _, c := range []bot.ChatID{200, 201, 202} {
		if sent := h.migrants.sentTo(c); len(sent) != 1 {
			t.Errorf("chat %d got %d messages, want 1", c, len(sent))
		}
	}
}

// beginCounter counts Begin calls: updates that asked Redis for the
// chat's lock and session.
type beginCounter struct {
	*redis.Store
	n atomic.Int64
}

func (b *beginCounter) Begin(ctx context.Context, chat bot.ChatID, updateID int64, token string, lease time.Duration) (bot.Begun, error) {
	b.n.Add(1)
	return b.Store.Begin(ctx, chat, updateID, token, lease)
}

// TestHotChatKeepsTheLock: updates of one chat that arrive together are
// each handled once, and most go on from the one before without asking
// Redis for the chat's lock and session again. A redelivered update among
// them is a duplicate, not handled twice.
func TestHotChatKeepsTheLock(t *testing.T) {
	h := newHarness(t)
	st := &beginCounter{Store: h.store}
	svc := bot.NewService(st, h.migrants, nil, h.faq, bot.DefaultConfig(), h.log, nil, nil)
	if err := svc.Handle(ctx, command(1, 300, "start", "en")); err != nil {
		t.Fatal(err)
	}
	before := st.n.Load()
	const n = 30
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			// Every fifth is update 2 again: Telegram redelivering it.
			id := int64(2 + i)
			if i%5 == 4 {
				id = 2
			}
			if err := svc.Handle(ctx, text(id, 300, "minimum wage")); err != nil {
				t.Errorf("update %d: %v", id, err)
			}
		})
	}
	wg.Wait()
	begins := st.n.Load() - before
	want := 1 + n - n/5 // start, and each distinct question
	h.runSender(t, h.sender(fastSend()))
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && len(h.migrants.sentTo(300)) < want; {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // nothing more comes
	seen := map[string]bool{}
	updates := map[string]bool{}
	for _, m := range h.migrants.sentTo(300) {
		if seen[m.ID] {
			t.Errorf("message %s sent twice", m.ID)
		}
		seen[m.ID] = true
		u, _, _ := strings.Cut(m.ID, "-")
		updates[u] = true
	}
	if len(updates) != want {
		t.Errorf("replies to %d updates, want %d", len(updates), want)
	}
	if begins > n/2 {
		t.Errorf("%d of %d updates began with Redis; the others should go on from the one before", begins, n)
	}
	t.Logf("%d of %d updates began with Redis", begins, n)
}
