package bot

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// SendConfig tunes the sender.
type SendConfig struct {
	// Rate is the most messages per second to the platform overall, shared
	// by all replicas (Telegram: about 30).
	Rate float64
	// RatePerChat is the most messages per second to one chat (Telegram:
	// about 1).
	RatePerChat float64
	// Workers is how many chats one replica sends to at once.
	Workers int
	// Lease is how long a claimed chat is this sender's before another
	// replica may take it (a crashed sender's chats are free after it).
	Lease time.Duration
	// Poll is the longest an idle sender sleeps before looking for due
	// chats again. It wakes earlier when the service commits a reply
	// (Wake) or when the earliest scheduled chat is due; Poll only bounds
	// how late it sees replies committed by other replicas.
	Poll time.Duration
	// MaxAttempts is how often a message failing with a transient error is
	// tried before it is dropped and logged.
	MaxAttempts int
}

// DefaultSendConfig returns Telegram's limits and production defaults.
func DefaultSendConfig() SendConfig {
	return SendConfig{Rate: 30, RatePerChat: 1, Workers: 16, Lease: 30 * time.Second, Poll: 2 * time.Second, MaxAttempts: 10}
}

// Sender delivers the outbox: it claims chats with due messages, sends
// each chat's messages in order within the global and per-chat rates,
// waits out 429s for that chat only, retries transient errors with
// backoff and stops at a chat whose user blocked the bot.
type Sender struct {
	store    Outbox
	migrants Migrants
	cfg      SendConfig
	log      *slog.Logger
	metrics  *Metrics
	wake     chan struct{}
	now      func() time.Time
	// OnBlocked, when set, is told about a chat that became unreachable
	// (the consultants' side notes it in the case).
	OnBlocked func(ctx context.Context, chat ChatID)
	// OnSettled, when set, hears what became of each message: "sent",
	// "failed" (dropped) or "unreachable" (broadcast progress).
	OnSettled func(ctx context.Context, m OutMessage, result string)

	mu       sync.Mutex
	attempts map[ChatID]attempts
	// delivered counts successful sends; a failure counts against a
	// message only if some send succeeded since that chat's last
	// failure, so an outage of the whole platform drops nothing.
	delivered uint64
	// platform follows the messaging platform's transient failures: an
	// outage is logged once, not once per message.
	platform *Outage
	// redis follows the store through the loop: an outage is logged
	// once, and the loop backs off instead of spinning.
	redis *Outage
	pace  *pacer
}

// NewSender returns a sender; Wake is the channel the service signals.
func NewSender(store Outbox, migrants Migrants, cfg SendConfig, log *slog.Logger, metrics *Metrics) *Sender {
	return &Sender{store: store, migrants: migrants, cfg: cfg, log: log, metrics: metrics,
		wake: make(chan struct{}, 1), now: time.Now, attempts: map[ChatID]attempts{}, redis: metrics.Follow(NewOutage("Redis (sender)", log), "redis"),
		platform: metrics.Follow(NewOutage("messaging platform (sending)", log), "telegram"),
		pace:     newPacer(store, cfg.Rate)}
}

func (s *Sender) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Wake is signalled to look for due messages at once.
func (s *Sender) Wake() chan<- struct{} { return s.wake }

// Run sends until ctx ends.
func (s *Sender) Run(ctx context.Context) {
	s.loop(ctx, false)
}

// Drain sends until nothing is due or ctx ends: for shutdown.
func (s *Sender) Drain(ctx context.Context) {
	s.loop(ctx, true)
}

func (s *Sender) loop(ctx context.Context, untilIdle bool) {
	sem := make(chan struct{}, max(1, s.cfg.Workers))
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	var lastDue time.Time
	for {
		// Under load, claim chats in batches: wait until a quarter of the
		// workers are free rather than ask Redis each time one is. Claim
		// no more than the free workers take, so that no claimed chat
		// waits for a worker while its lease runs.
		for len(sem) > cap(sem)-max(1, cap(sem)/4) {
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
			}
		}
		// Under load every commit wakes the loop: look at most every
		// dueGap then, so that one look claims many chats.
		if gap := dueGap - time.Since(lastDue); gap > 0 && !untilIdle {
			time.Sleep(gap)
		}
		lastDue = time.Now()
		want := cap(sem) - len(sem)
		chats, next, err := s.store.Due(ctx, s.now(), want, s.cfg.Lease)
		if err != nil && ctx.Err() == nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(s.redis.Fail(err)):
			}
			continue
		}
		if err == nil {
			s.redis.OK()
		}
		for _, chat := range chats {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				s.sendChat(ctx, chat)
				// The chat may be due again (deferred for its own rate,
				// or a message came while it was claimed): look again
				// rather than sleep until Poll.
				s.poke()
			}()
		}
		if len(chats) == want {
			continue // perhaps more are due
		}
		if untilIdle {
			wg.Wait()
			if more, _, _ := s.store.Due(ctx, s.now(), 1, 0); len(more) == 0 {
				return
			}
			continue
		}
		sleep := s.cfg.Poll
		if !next.IsZero() {
			sleep = min(sleep, max(next.Sub(s.now()), time.Millisecond))
		}
		timer.Reset(sleep)
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-timer.C:
		}
	}
}

// sendChat sends the chat's due messages, in order, until the chat must
// wait (per-chat rate, 429, error) or its outbox is empty.
func (s *Sender) sendChat(ctx context.Context, chat ChatID) {
	interval := time.Duration(float64(time.Second) / s.cfg.RatePerChat)
	for ctx.Err() == nil {
		now := s.now()
		m, queued, wait, err := s.store.Next(ctx, chat, now)
		switch {
		case errors.Is(err, ErrEmpty):
			s.idle(ctx, chat)
			return
		case errors.Is(err, ErrBlocked):
			// The user blocked the bot: nothing is sent until they
			// unblock it, and what waits is dropped.
			if err := s.store.Unreachable(ctx, chat); err != nil {
				s.log.Warn("mark unreachable", "err", err)
			}
			s.idle(ctx, chat)
			return
		case err != nil:
			s.log.Warn("read outbox", "err", err)
			return
		case wait > 0:
			s.deferChat(ctx, chat, now.Add(wait))
			return
		}
		if !s.takeSlot(ctx) {
			return
		}
		release := s.hold(ctx, chat)
		err = s.migrants.Send(ctx, chat, m)
		left, last := -1, queued <= 1
		if err == nil {
			// Still holding the chat: a message sent but not marked
			// would be sent again by whoever claims the chat next.
			left = s.markSent(ctx, chat, m.ID, interval, last)
		}
		release()
		// Record the outcome even when shutting down: a message sent but
		// not marked would be sent again after a restart.
		if !s.settle(context.WithoutCancel(ctx), chat, m, err, left, last, interval) || ctx.Err() != nil {
			return
		}
	}
}

// settle records the outcome of one send and reports whether to go on
// with the chat's next message now.
// left is what markSent returned for a message sent, last whether it was
// the last queued (markSent then took the chat off the schedule, or put
// it back for a message that came meanwhile: another sender takes it).
func (s *Sender) settle(ctx context.Context, chat ChatID, m OutMessage, err error, left int, last bool, interval time.Duration) bool {
	now := s.now()
	var retry *RetryAfterError
	switch {
	case err == nil:
		s.metrics.sent("ok")
		s.settled(ctx, m, "sent")
		s.resetAttempts(chat)
		s.succeeded()
		if left < 0 || last {
			return false
		}
		if left == 0 {
			s.idle(ctx, chat)
			return false
		}
		if interval > 0 {
			return false // Sent made the chat due again after interval
		}
		return true
	case errors.As(err, &retry):
		s.platform.OK() // it answered
		s.metrics.sent("rate_limited")
		s.deferChat(ctx, chat, now.Add(retry.After))
	case errors.Is(err, ErrBlocked):
		s.metrics.sent("blocked")
		s.settled(ctx, m, "unreachable")
		if err := s.store.Unreachable(ctx, chat); err != nil {
			s.log.Warn("mark unreachable", "err", err)
		}
		s.idle(ctx, chat)
		if s.OnBlocked != nil {
			s.OnBlocked(ctx, chat)
		}
	case errors.Is(err, ErrRejected):
		s.metrics.sent("rejected")
		s.log.Error("message rejected by the platform; dropped", "message", m.ID, "err", err)
		s.settled(ctx, m, "failed")
		if _, err := s.store.Drop(ctx, chat, m.ID); err != nil {
			s.log.Warn("drop message", "err", err)
		}
		return true
	case errors.Is(err, ErrMaybeSent):
		again, merr := s.store.MaybeSent(ctx, chat, m.ID)
		if merr != nil {
			s.log.Warn("mark maybe sent", "err", merr)
			s.deferChat(ctx, chat, now.Add(Backoff(1)))
			return false
		}
		if again {
			s.metrics.sent("maybe_sent_retry")
			s.log.Warn("no answer in time; sending once more", "message", m.ID)
			s.deferChat(ctx, chat, now.Add(Backoff(1)))
			return false
		}
		s.metrics.sent("maybe_sent_dropped")
		s.log.Error("no answer in time, twice; the message is dropped (it may have arrived)", "message", m.ID)
		s.settled(ctx, m, "failed")
		if _, err := s.store.Drop(ctx, chat, m.ID); err != nil {
			s.log.Warn("drop message", "err", err)
		}
		return true
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		// Shutting down: the message stays first in the outbox.
	default:
		s.metrics.sent("error")
		n := s.failAttempt(chat)
		if n >= s.cfg.MaxAttempts {
			s.log.Error("message failed repeatedly; dropped", "message", m.ID, "attempts", n, "err", err)
			s.settled(ctx, m, "failed")
			s.resetAttempts(chat)
			if _, err := s.store.Drop(ctx, chat, m.ID); err != nil {
				s.log.Warn("drop message", "err", err)
			}
			return true
		}
		s.platform.Fail(err)
		s.log.Debug("send failed; will retry", "attempt", n, "err", err)
		s.deferChat(ctx, chat, now.Add(Jitter(Backoff(n))))
	}
	return false
}

func (s *Sender) settled(ctx context.Context, m OutMessage, result string) {
	if s.OnSettled != nil {
		s.OnSettled(ctx, m, result)
	}
}

// markSent removes a delivered message from the outbox and returns how
// many are left, or -1 when Redis could not be told.
// The last message queued also takes the chat off the schedule (Finish).
func (s *Sender) markSent(ctx context.Context, chat ChatID, id string, interval time.Duration, last bool) int {
	var left int
	err := Insist(ctx, func(ctx context.Context) (err error) {
		if last {
			left, err = s.store.Finish(ctx, chat, id, s.now(), interval)
		} else {
			left, err = s.store.Sent(ctx, chat, id, s.now(), interval)
		}
		return err
	})
	if err != nil {
		s.log.Error("could not record a delivered message; it may be sent again", "message", id, "err", err)
		return -1
	}
	return left
}

// hold keeps the chat claimed while a send runs, renewing the claim at a
// third of the lease, so that no other replica takes the chat and sends
// the same message. It returns the function that stops renewing.
func (s *Sender) hold(ctx context.Context, chat ChatID) (release func()) {
	hctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(max(s.cfg.Lease/3, time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
				if err := s.store.Hold(hctx, chat, s.now().Add(s.cfg.Lease)); err != nil && hctx.Err() == nil {
					s.log.Warn("hold chat", "err", err)
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// takeSlot waits for this sender's next slot of the global rate.
func (s *Sender) takeSlot(ctx context.Context) bool {
	at, err := s.pace.take(ctx, s.now())
	if err != nil {
		s.log.Warn("rate limiter", "err", err)
		return false
	}
	if wait := at.Sub(s.now()); wait > 0 {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
	}
	return true
}

func (s *Sender) idle(ctx context.Context, chat ChatID) {
	if err := s.store.Idle(ctx, chat); err != nil {
		s.log.Warn("idle chat", "err", err)
	}
}

func (s *Sender) deferChat(ctx context.Context, chat ChatID, t time.Time) {
	if err := s.store.Defer(ctx, chat, t); err != nil {
		s.log.Warn("defer chat", "err", err)
	}
}

// attempts are a chat's transient failures in a row.
type attempts struct {
	n         int
	delivered uint64 // Sender.delivered at the last failure
}

// failAttempt records a transient failure and returns how many count
// against the chat's first message: the first always does, a later one
// only if another send succeeded in between.
func (s *Sender) failAttempt(chat ChatID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.attempts[chat]
	if !ok || a.delivered != s.delivered {
		a.n++
	}
	a.delivered = s.delivered
	s.attempts[chat] = a
	return a.n
}

func (s *Sender) resetAttempts(chat ChatID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.attempts, chat)
}

// succeeded records a delivery.
func (s *Sender) succeeded() {
	s.mu.Lock()
	s.delivered++
	s.mu.Unlock()
	s.platform.OK()
}

// Jitter spreads a wait over ±20 %, so that replicas that failed
// together do not retry together.
func Jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d - d/5 + time.Duration(rand.Int64N(int64(d/5)*2+1))
}

// dueGap is the shortest time between two looks for due chats while
// commits keep waking the sender.
const dueGap = 5 * time.Millisecond

// Backoff is the wait after the nth transient failure in a row: 1 s,
// doubling, at most a minute.
func Backoff(n int) time.Duration {
	d := time.Second << min(n-1, 6)
	return min(d, time.Minute)
}
