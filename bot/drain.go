package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// DrainConfig tunes a Drainer.
type DrainConfig struct {
	// Platform names what items go to, in logs ("Telegram", "Slack").
	Platform string
	// Rate is the most items per second overall, shared by every replica
	// through the store's Reserve; 0 sets no overall limit.
	Rate float64
	// Interval is the least time between two items of one lane.
	Interval time.Duration
	// Workers is how many lanes one replica sends to at once.
	Workers int
	// Lease is how long a claimed lane is this drainer's before another
	// replica may take it (a crashed drainer's lanes are free after it).
	// A send in progress renews it.
	Lease time.Duration
	// Poll is the longest an idle drainer sleeps before looking for due
	// lanes again. It wakes earlier when told items were queued (Wake) or
	// when the earliest scheduled lane is due; Poll only bounds how late
	// it sees items other replicas queued.
	Poll time.Duration
	// MaxAttempts is how often an item failing with a transient error is
	// tried before it is dropped and logged (failures while nothing at
	// all gets through, an outage, do not count).
	MaxAttempts int
}

// Drainer delivers a Queue: it claims lanes with due items, sends each
// lane's items in order within the overall and per-lane rates, waits out
// rate limits for that lane only, retries transient errors with backoff,
// sends an item that may have arrived at most once more, and stops at a
// lane that cannot be reached. The platform adapter gives it only the
// send, whose errors say what happened in the terms of ErrBlocked,
// ErrRejected, ErrMaybeSent and RetryAfterError.
type Drainer[L comparable, T any] struct {
	queue Queue[L, T]
	send  func(ctx context.Context, lane L, item T) error
	id    func(T) string
	cfg   DrainConfig
	log   *slog.Logger
	wake  chan struct{}
	now   func() time.Time
	pace  *pacer // nil without an overall rate

	// OnBlocked, when set, is told about a lane that became unreachable
	// (the consultants' side notes it in the case).
	OnBlocked func(ctx context.Context, lane L)
	// OnSettled, when set, hears what became of each item: "sent",
	// "failed" (dropped) or "unreachable" (broadcast progress).
	OnSettled func(ctx context.Context, item T, result string)
	// OnResult, when set, hears the result of each attempt, for metrics:
	// ok, rate_limited, blocked, rejected, maybe_sent_retry,
	// maybe_sent_dropped or error.
	OnResult func(result string)
	// OnHealth, when set, hears after each attempt whether the platform
	// took it (a refusal counts as taken: the platform answered).
	OnHealth func(ctx context.Context, ok bool)

	// sem has a token per busy worker, whether the lane came from the
	// schedule or from a commit (Take).
	sem chan struct{}
	// freed is signalled when a worker finishes, for a loop waiting for
	// free workers.
	freed chan struct{}
	// runMu guards running, the context of Run while it runs: Take
	// starts workers only then, and workers counts them for shutdown.
	runMu   sync.Mutex
	running context.Context
	workers sync.WaitGroup

	mu       sync.Mutex
	attempts map[L]attempts
	// delivered counts successful sends; a failure counts against an
	// item only if some send succeeded since that lane's last failure,
	// so an outage of the whole platform drops nothing.
	delivered uint64
	// platform follows the platform's transient failures: an outage is
	// logged once, not once per item.
	platform *Outage
	// store follows the queue's store through the loop: an outage is
	// logged once, and the loop backs off instead of spinning.
	store *Outage
}

// NewDrainer returns a drainer of q that delivers each item with send;
// id names an item to the queue. With cfg.Rate > 0, rate reserves the
// overall rate's slots.
func NewDrainer[L comparable, T any](q Queue[L, T], send func(context.Context, L, T) error, id func(T) string, rate Reserver, cfg DrainConfig, log *slog.Logger) *Drainer[L, T] {
	d := &Drainer[L, T]{queue: q, send: send, id: id, cfg: cfg, log: log,
		wake: make(chan struct{}, 1), now: time.Now, attempts: map[L]attempts{},
		sem: make(chan struct{}, max(1, cfg.Workers)), freed: make(chan struct{}, 1),
		platform: NewOutage(cfg.Platform+" (sending)", log), store: NewOutage("Redis ("+cfg.Platform+" queue)", log)}
	if cfg.Rate > 0 && rate != nil {
		d.pace = newPacer(rate, cfg.Rate)
	}
	return d
}

// Follow reports the drainer's outages in m: the store's as "redis", the
// platform's as platform.
func (d *Drainer[L, T]) Follow(m *Metrics, platform string) {
	d.store = m.Follow(d.store, "redis")
	d.platform = m.Follow(d.platform, platform)
}

func (d *Drainer[L, T]) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Wake is signalled to look for due items at once.
func (d *Drainer[L, T]) Wake() chan<- struct{} { return d.wake }

// Run sends until ctx ends.
func (d *Drainer[L, T]) Run(ctx context.Context) {
	d.runMu.Lock()
	d.running = ctx
	d.runMu.Unlock()
	defer func() {
		d.runMu.Lock()
		d.running = nil
		d.runMu.Unlock()
		d.workers.Wait()
	}()
	d.loop(ctx, false)
}

// Claim implements Handoff: a commit claims a lane for as long as the
// schedule would, but not while every worker is busy (a surge at Telegram's
// rate): the lane would only go back to the schedule.
func (d *Drainer[L, T]) Claim() time.Duration {
	d.runMu.Lock()
	running := d.running != nil
	d.runMu.Unlock()
	if !running || len(d.sem) == cap(d.sem) {
		return 0
	}
	return d.cfg.Lease
}

// Take implements Handoff for a lane claimed by a commit: if Run is
// running and a worker is free, it sends the lane's items, first the one
// given (the commit knows it: the lane was empty before), as for a lane
// from the schedule.
func (d *Drainer[L, T]) Take(lane L, first T, queued int) bool {
	d.runMu.Lock()
	defer d.runMu.Unlock()
	ctx := d.running
	if ctx == nil || ctx.Err() != nil {
		return false
	}
	select {
	case d.sem <- struct{}{}:
	default:
		return false
	}
	d.workers.Add(1)
	go func() {
		defer d.workers.Done()
		d.work(ctx, lane, &head[T]{item: first, queued: queued})
	}()
	return true
}

// work is a worker's turn at a lane, from the schedule or from a commit:
// it sends, then gives its token back.
func (d *Drainer[L, T]) work(ctx context.Context, lane L, first *head[T]) {
	defer d.free()
	// The lane may be due again (deferred for its own rate, or an item
	// came while it was claimed): look again rather than sleep until
	// Poll.
	if !d.sendLane(ctx, lane, first) {
		d.poke()
	}
}

// free gives a worker's token back and tells a loop waiting for one.
func (d *Drainer[L, T]) free() {
	<-d.sem
	select {
	case d.freed <- struct{}{}:
	default:
	}
}

// head is a lane's first item and how many are queued, when the caller
// knows them.
type head[T any] struct {
	item   T
	queued int
}

// Drain sends until nothing is due or ctx ends: for shutdown.
func (d *Drainer[L, T]) Drain(ctx context.Context) {
	d.loop(ctx, true)
}

func (d *Drainer[L, T]) loop(ctx context.Context, untilIdle bool) {
	sem := d.sem
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	var lastDue time.Time
	for {
		// Under load, claim lanes in batches: wait until a quarter of the
		// workers are free rather than ask the store each time one is.
		// Claim no more than the free workers take, so that no claimed
		// lane waits for a worker while its lease runs.
		for len(sem) > cap(sem)-max(1, cap(sem)/4) {
			select {
			case <-ctx.Done():
				return
			case <-d.wake:
			case <-d.freed:
			}
		}
		// Under load every commit wakes the loop: look at most every
		// dueGap then, so that one look claims many lanes.
		if gap := dueGap - time.Since(lastDue); gap > 0 && !untilIdle {
			time.Sleep(gap)
		}
		lastDue = time.Now()
		want := cap(sem) - len(sem)
		lanes, next, err := d.queue.Due(ctx, d.now(), want, d.cfg.Lease)
		if err != nil && ctx.Err() == nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(d.store.Fail(err)):
			}
			continue
		}
		if err == nil {
			d.store.OK()
		}
		for _, lane := range lanes {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Go(func() { d.work(ctx, lane, nil) })
		}
		if len(lanes) == want {
			continue // perhaps more are due
		}
		if untilIdle {
			wg.Wait()
			if more, _, _ := d.queue.Due(ctx, d.now(), 1, 0); len(more) == 0 {
				return
			}
			continue
		}
		sleep := d.cfg.Poll
		if !next.IsZero() {
			sleep = min(sleep, max(next.Sub(d.now()), time.Millisecond))
		}
		timer.Reset(sleep)
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-timer.C:
		}
	}
}

// sendLane sends the lane's due items, in order, until the lane must
// wait (its own rate, a 429, an error) or has nothing left; it reports
// whether the lane was left with nothing queued. first, when known, is
// the lane's head, so that the first item needs no look at the queue.
func (d *Drainer[L, T]) sendLane(ctx context.Context, lane L, first *head[T]) (empty bool) {
	for ctx.Err() == nil {
		h := first
		first = nil
		if h == nil {
			if h, empty = d.next(ctx, lane, d.now()); h == nil {
				return empty
			}
		}
		item := h.item
		if !d.takeSlot(ctx) {
			return false
		}
		release := d.hold(ctx, lane)
		err := d.send(ctx, lane, item)
		left, last := -1, h.queued <= 1
		if err == nil {
			// Still holding the lane: an item sent but not marked would
			// be sent again by whoever claims the lane next.
			left = d.markSent(ctx, lane, d.id(item), last)
		}
		release()
		// Record the outcome even when shutting down: an item sent but
		// not marked would be sent again after a restart.
		if !d.settle(context.WithoutCancel(ctx), lane, item, err, left, last) || ctx.Err() != nil {
			return left == 0
		}
	}
	return false
}

// next asks the queue for the lane's head. It returns nil when the lane
// is not to be sent to now (it waits, cannot be reached, or the store
// failed), and empty when nothing is left in it.
func (d *Drainer[L, T]) next(ctx context.Context, lane L, now time.Time) (h *head[T], empty bool) {
	item, queued, wait, err := d.queue.Next(ctx, lane, now)
	switch {
	case errors.Is(err, ErrEmpty):
		d.idle(ctx, lane)
		return nil, true
	case errors.Is(err, ErrBlocked):
		// Nothing is sent until the lane is reachable again, and what
		// waits is dropped.
		d.unreachable(ctx, lane)
		d.idle(ctx, lane)
		return nil, true
	case err != nil:
		d.store.Fail(err)
		return nil, false
	case wait > 0:
		d.deferLane(ctx, lane, now.Add(wait))
		return nil, false
	}
	return &head[T]{item: item, queued: queued}, false
}

// settle records the outcome of one send and reports whether to go on
// with the lane's next item now.
// left is what markSent returned for an item sent, last whether it was
// the last queued (markSent then ended the claim: the lane left the
// schedule, or was put back for an item that came meanwhile).
func (d *Drainer[L, T]) settle(ctx context.Context, lane L, item T, err error, left int, last bool) bool {
	now := d.now()
	id := d.id(item)
	var retry *RetryAfterError
	switch {
	case err == nil:
		d.result(ctx, "ok", true)
		d.settled(ctx, item, "sent")
		d.resetAttempts(lane)
		d.succeeded()
		if left < 0 || last {
			return false
		}
		if left == 0 {
			d.idle(ctx, lane)
			return false
		}
		if d.cfg.Interval > 0 {
			return false // Settle made the lane due again after the interval
		}
		return true
	case errors.As(err, &retry):
		d.platform.OK() // it answered
		d.result(ctx, "rate_limited", false)
		d.deferLane(ctx, lane, now.Add(retry.After))
	case errors.Is(err, ErrBlocked):
		d.result(ctx, "blocked", true)
		d.settled(ctx, item, "unreachable")
		d.unreachable(ctx, lane)
		d.idle(ctx, lane)
		if d.OnBlocked != nil {
			d.OnBlocked(ctx, lane)
		}
	case errors.Is(err, ErrRejected):
		d.result(ctx, "rejected", true)
		d.log.Error("rejected by the platform; dropped", "platform", d.cfg.Platform, "item", id, "err", err)
		return d.drop(ctx, lane, item)
	case errors.Is(err, ErrMaybeSent):
		again, merr := d.maybeSent(ctx, lane, id)
		if merr != nil {
			d.store.Fail(fmt.Errorf("mark maybe sent: %w", merr))
			d.deferLane(ctx, lane, now.Add(Backoff(1)))
			return false
		}
		if again {
			d.result(ctx, "maybe_sent_retry", false)
			d.log.Warn("no answer in time; sending once more", "platform", d.cfg.Platform, "item", id)
			d.deferLane(ctx, lane, now.Add(Backoff(1)))
			return false
		}
		d.result(ctx, "maybe_sent_dropped", false)
		d.log.Error("no answer in time, twice; dropped (it may have arrived)", "platform", d.cfg.Platform, "item", id)
		return d.drop(ctx, lane, item)
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		// Shutting down: the item stays first in the lane.
	default:
		d.result(ctx, "error", false)
		n := d.failAttempt(lane)
		if n >= d.cfg.MaxAttempts {
			d.log.Error("failed repeatedly; dropped", "platform", d.cfg.Platform, "item", id, "attempts", n, "err", err)
			d.resetAttempts(lane)
			return d.drop(ctx, lane, item)
		}
		d.platform.Fail(err)
		d.log.Debug("send failed; will retry", "platform", d.cfg.Platform, "attempt", n, "err", err)
		d.deferLane(ctx, lane, now.Add(Jitter(Backoff(n))))
	}
	return false
}

// drop gives an item up and reports whether to go on with the lane.
func (d *Drainer[L, T]) drop(ctx context.Context, lane L, item T) bool {
	d.settled(ctx, item, "failed")
	if _, err := d.queue.Settle(ctx, lane, d.id(item), d.now(), 0, false); err != nil {
		d.store.Fail(fmt.Errorf("drop item: %w", err))
		return false
	}
	return true
}

func (d *Drainer[L, T]) result(ctx context.Context, result string, healthy bool) {
	if d.OnResult != nil {
		d.OnResult(result)
	}
	if d.OnHealth != nil {
		d.OnHealth(ctx, healthy)
	}
}

func (d *Drainer[L, T]) settled(ctx context.Context, item T, result string) {
	if d.OnSettled != nil {
		d.OnSettled(ctx, item, result)
	}
}

// maybeSent asks the queue to remember an item that may have arrived;
// a queue that cannot remember sends it once more each time.
func (d *Drainer[L, T]) maybeSent(ctx context.Context, lane L, id string) (bool, error) {
	u, ok := d.queue.(Uncertain[L])
	if !ok {
		return true, nil
	}
	return u.MaybeSent(ctx, lane, id)
}

func (d *Drainer[L, T]) unreachable(ctx context.Context, lane L) {
	b, ok := d.queue.(Blockable[L])
	if !ok {
		return
	}
	if err := b.Unreachable(ctx, lane); err != nil {
		d.store.Fail(fmt.Errorf("mark unreachable: %w", err))
	}
}

// markSent removes a delivered item from the lane and returns how many
// are left, or -1 when the store could not be told.
func (d *Drainer[L, T]) markSent(ctx context.Context, lane L, id string, last bool) int {
	var left int
	err := Insist(ctx, func(ctx context.Context) (err error) {
		left, err = d.queue.Settle(ctx, lane, id, d.now(), d.cfg.Interval, last)
		return err
	})
	if err != nil {
		d.log.Error("could not record a delivered item; it may be sent again", "platform", d.cfg.Platform, "item", id, "err", err)
		return -1
	}
	return left
}

// hold keeps the lane claimed while a send runs, renewing the claim at a
// third of the lease, so that no other replica takes the lane and sends
// the same item. It returns the function that stops renewing.
func (d *Drainer[L, T]) hold(ctx context.Context, lane L) (release func()) {
	hctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(max(d.cfg.Lease/3, time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
				if err := d.queue.Hold(hctx, lane, d.now().Add(d.cfg.Lease)); err != nil && hctx.Err() == nil {
					d.store.Fail(fmt.Errorf("hold lane: %w", err))
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// takeSlot waits for this drainer's next slot of the overall rate.
func (d *Drainer[L, T]) takeSlot(ctx context.Context) bool {
	if d.pace == nil {
		return true
	}
	at, err := d.pace.take(ctx, d.now())
	if err != nil {
		d.store.Fail(fmt.Errorf("rate limiter: %w", err))
		return false
	}
	if wait := at.Sub(d.now()); wait > 0 {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
	}
	return true
}

func (d *Drainer[L, T]) idle(ctx context.Context, lane L) {
	if err := d.queue.Idle(ctx, lane); err != nil {
		d.store.Fail(fmt.Errorf("idle lane: %w", err))
	}
}

func (d *Drainer[L, T]) deferLane(ctx context.Context, lane L, t time.Time) {
	if err := d.queue.Defer(ctx, lane, t); err != nil {
		d.store.Fail(fmt.Errorf("defer lane: %w", err))
	}
}

// attempts are a lane's transient failures in a row.
type attempts struct {
	n         int
	delivered uint64 // Drainer.delivered at the last failure
}

// failAttempt records a transient failure and returns how many count
// against the lane's first item: the first always does, a later one
// only if another send succeeded in between.
func (d *Drainer[L, T]) failAttempt(lane L) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.attempts[lane]
	if !ok || a.delivered != d.delivered {
		a.n++
	}
	a.delivered = d.delivered
	d.attempts[lane] = a
	return a.n
}

func (d *Drainer[L, T]) resetAttempts(lane L) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.attempts, lane)
}

// succeeded records a delivery.
func (d *Drainer[L, T]) succeeded() {
	d.mu.Lock()
	d.delivered++
	d.mu.Unlock()
	d.platform.OK()
}

// Jitter spreads a wait over ±20 %, so that replicas that failed
// together do not retry together.
func Jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d - d/5 + time.Duration(rand.Int64N(int64(d/5)*2+1))
}

// dueGap is the shortest time between two looks for due lanes while
// commits keep waking the drainer.
const dueGap = 5 * time.Millisecond

// Backoff is the wait after the nth transient failure in a row: 1 s,
// doubling, at most a minute.
func Backoff(n int) time.Duration {
	d := time.Second << min(n-1, 6)
	return min(d, time.Minute)
}
