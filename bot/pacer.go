package bot

import (
	"context"
	"sync"
	"time"
)

// pacer hands out slots of the global send rate, which all replicas
// share through the store. It reserves them in batches that last about a
// tenth of a second: a busy sender asks the store about ten times a
// second at most, not once per message, and a worker told to wait for
// its slot waits instead of asking again.
type pacer struct {
	store    Reserver
	rate     float64
	interval time.Duration
	batch    int

	mu   sync.Mutex
	next time.Time // the next reserved slot
	left int       // slots reserved from next on
}

func newPacer(store Reserver, rate float64) *pacer {
	rate = max(rate, 0.001)
	return &pacer{store: store, rate: rate, interval: time.Duration(float64(time.Second) / rate),
		batch: min(max(1, int(rate/10)), 100)}
}

// take returns the time of the caller's slot; it may be in the past by
// less than one interval.
func (p *pacer) take(ctx context.Context, now time.Time) (time.Time, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// A slot not used in time is lost: using it late would send faster
	// than the rate. In time is within the batch's span (a tenth of a
	// second), so the burst is at most one batch.
	if late := now.Sub(p.next) - max(time.Duration(p.batch)*p.interval, 100*time.Millisecond); p.left > 0 && late > 0 {
		skip := min(p.left, int(late/p.interval)+1)
		p.next = p.next.Add(time.Duration(skip) * p.interval)
		p.left -= skip
	}
	if p.left == 0 {
		wait, err := p.store.Reserve(ctx, now, p.rate, p.batch)
		if err != nil {
			return time.Time{}, err
		}
		p.next, p.left = now.Add(wait), p.batch
	}
	at := p.next
	p.next = p.next.Add(p.interval)
	p.left--
	return at, nil
}
