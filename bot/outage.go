package bot

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Outage follows one dependency (Redis, Telegram, Slack) through a retry
// loop: the first failure is logged ("Redis unreachable"), the rest only
// counted, and recovery is logged once with the outage's length. Wait
// gives the loop its next pause: capped exponential backoff with jitter.
// Safe for concurrent use.
type Outage struct {
	what string
	log  *slog.Logger
	// OnChange, when set, hears when the dependency goes down or comes
	// back (for metrics).
	OnChange func(down bool)

	mu    sync.Mutex
	since time.Time
	fails int
}

// NewOutage follows what, logging to log.
func NewOutage(what string, log *slog.Logger) *Outage {
	return &Outage{what: what, log: log}
}

// Fail records a failure and returns how long to wait before trying again.
func (o *Outage) Fail(err error) time.Duration {
	o.mu.Lock()
	o.fails++
	n, first := o.fails, o.since.IsZero()
	if first {
		o.since = time.Now()
	}
	o.mu.Unlock()
	if first {
		o.log.Warn(o.what+" unreachable; retrying", "err", err)
		if o.OnChange != nil {
			o.OnChange(true)
		}
	}
	return Jitter(min(Backoff(n), 30*time.Second))
}

// OK records a success, logging the end of an outage.
func (o *Outage) OK() {
	o.mu.Lock()
	since, n := o.since, o.fails
	o.since, o.fails = time.Time{}, 0
	o.mu.Unlock()
	if since.IsZero() {
		return
	}
	o.log.Info(o.what+" back", "after", time.Since(since).Round(100*time.Millisecond).String(), "failures", n)
	if o.OnChange != nil {
		o.OnChange(false)
	}
}

// Insist runs record until it succeeds, through a Redis outage, for up
// to insistFor, or insistGrace once ctx is done (shutting down). It is
// for recording what already happened outside (a message delivered): an
// outcome forgotten is an action repeated. record gets a context that
// outlives ctx.
func Insist(ctx context.Context, record func(context.Context) error) error {
	wait := 50 * time.Millisecond
	giveUp := time.Now().Add(insistFor)
	for {
		err := record(context.WithoutCancel(ctx))
		if err == nil {
			return nil
		}
		if g := time.Now().Add(insistGrace); ctx.Err() != nil && g.Before(giveUp) {
			giveUp = g
		}
		if time.Now().Add(wait).After(giveUp) {
			return err
		}
		time.Sleep(Jitter(wait))
		wait = min(2*wait, 2*time.Second)
	}
}

const (
	insistFor   = 5 * time.Minute
	insistGrace = 5 * time.Second
)
