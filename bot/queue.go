package bot

import (
	"context"
	"time"
)

// Queue is a durable queue shared by every replica: items in lanes (a
// Telegram chat, a Slack channel), each lane's items delivered in order,
// and a schedule of the lanes that have items due. The Telegram outbox
// and the Slack queue are both one, and one Drainer delivers either.
type Queue[L comparable, T any] interface {
	// Due claims up to max lanes due at now; a claimed lane is not
	// returned again before now+lease. It also returns when the earliest
	// lane left on the schedule is due (zero when none is), so that an
	// idle drainer sleeps until then.
	Due(ctx context.Context, now time.Time, max int, lease time.Duration) ([]L, time.Time, error)
	// Next returns the lane's first item and how many are queued with it
	// (a store may count no further than 2: the drainer only asks whether
	// the item is the last), or the time to wait before the lane may be
	// sent to again (its own rate, a 429), or ErrEmpty, or ErrBlocked
	// while the lane cannot be reached (the user blocked the bot).
	Next(ctx context.Context, lane L, now time.Time) (item T, queued int, wait time.Duration, err error)
	// Settle removes item id from the head of the lane, delivered or
	// given up, keeps the lane quiet for interval and returns how many
	// items remain. Removing an item no longer at the head removes
	// nothing, so a retried Settle is safe. With interval > 0 the lane's
	// claim ends then: it is due again after interval, for whichever
	// drainer takes it. With last the claim ends now, in the same step:
	// the lane leaves the schedule when empty, or is due at once for an
	// item queued meanwhile.
	Settle(ctx context.Context, lane L, id string, now time.Time, interval time.Duration, last bool) (int, error)
	// Defer keeps the lane quiet until t (rate limits, failures).
	Defer(ctx context.Context, lane L, t time.Time) error
	// Hold keeps a claimed lane this drainer's until t, while a send runs.
	Hold(ctx context.Context, lane L, t time.Time) error
	// Idle takes a lane whose items ran out off the schedule; an item
	// queued meanwhile keeps it scheduled.
	Idle(ctx context.Context, lane L) error
}

// Uncertain is a Queue that can remember items that may have been
// delivered (a timeout after the request went out), so that such an item
// is delivered at most once more.
type Uncertain[L comparable] interface {
	// MaybeSent records that item id may have been delivered. It reports
	// true the first time (deliver it once more) and false after that
	// (drop it).
	MaybeSent(ctx context.Context, lane L, id string) (bool, error)
}

// Blockable is a Queue whose lanes can become unreachable for good (a
// user who blocked the bot).
type Blockable[L comparable] interface {
	// Unreachable drops the lane's items and marks it blocked, so that
	// Next answers ErrBlocked until the mark goes.
	Unreachable(ctx context.Context, lane L) error
}

// Reserver hands out the slots of an overall send rate shared by every
// replica.
type Reserver interface {
	// Reserve takes the next n slots of the rate and returns how long to
	// wait for the first; the others follow at 1/rate.
	Reserve(ctx context.Context, now time.Time, rate float64, n int) (time.Duration, error)
}
