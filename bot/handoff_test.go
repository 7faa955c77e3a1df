package bot_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/witaj/witaj/bot"
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
