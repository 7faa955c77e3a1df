package bot

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
)

// The durable state, split by who uses it: the Service handles updates
// (Sessions), the Sender drains the outbox (Outbox), commands and
// operators read (Reports). One backend (Redis) provides them all as a
// Store. All data of one chat lives under one key prefix and expires with
// the retention period; /forget deletes it.

// Sessions is what the Service needs to handle each update exactly once.
type Sessions interface {
	// Begin starts handling update updateID of chat. It returns
	// ErrDuplicate when the update was handled already and ErrBusy while
	// another worker holds the chat; otherwise the chat is locked with
	// token for lease and its session is returned.
	Begin(ctx context.Context, chat ChatID, updateID int64, token string, lease time.Duration) (Begun, error)
	// Commit stores the outcome of an update atomically — session,
	// outgoing messages, audit records, the handled mark — and releases
	// the lock. Outgoing messages put the chat on the send schedule at
	// c.Now and gaps are counted, in the same round trip where the store
	// can keep the order (Redis Cluster takes two). It returns ErrLeaseLost when the lock is no longer held
	// with token; nothing is stored then. Committing the same update again
	// (a retry after a lost reply) succeeds and stores nothing more.
	Commit(ctx context.Context, chat ChatID, token string, c Commit) error
	// Release gives up the chat's lock if token still holds it, after a
	// commit that failed: the next update of the chat need not wait for
	// the lease to run out.
	Release(ctx context.Context, chat ChatID, token string) error
	// Fail records a failed attempt at an update, releases the lock and
	// returns the number of attempts so far.
	Fail(ctx context.Context, chat ChatID, updateID int64, token string) (int, error)
	// Schedule makes the chat's outbox due at t and counts the questions
	// the update could not answer directly, in one round trip. (Commit
	// does both itself; this is for a redelivered update.)
	Schedule(ctx context.Context, chat ChatID, t time.Time, gaps []flows.Gap) error
	// DeadLetter parks an update that failed too often, for operators.
	DeadLetter(ctx context.Context, rec DeadLetter) error
}

// Committer is a Sessions store whose commit can do more for the
// replica that calls it (CommitWith). Redis on one server is one.
type Committer interface {
	// CommitWith is Commit with options: claim the chat's send lane for
	// the local sender, keep the chat's lock for the update waiting next.
	// A retry of a commit whose reply was lost reports the first try's
	// claim.
	CommitWith(ctx context.Context, chat ChatID, token string, c Commit, o CommitOptions) (Committed, error)
	// Hold gives a claimed lane back to the schedule, due at t.
	Hold(ctx context.Context, chat ChatID, t time.Time) error
}

// CommitOptions are what CommitWith may do besides Commit.
type CommitOptions struct {
	// Claim, when set, claims the chat's send lane for that long when the
	// commit queued the lane's first messages and the chat may be sent to
	// now: the replica that handled the update then sends them at once,
	// without asking the schedule which lanes are due nor the lane for its
	// head. A lane claimed is the caller's, as after Queue.Due.
	Claim time.Duration
	// Keep, when set, keeps the chat's lock with the commit's token for
	// that long instead of releasing it, for update Next, which waits in
	// this replica and goes on without Begin.
	Keep time.Duration
	Next int64
	// Retry: an earlier try of this commit may have been stored (its
	// reply was lost), and may have kept the lock with the same token.
	Retry bool
}

// Committed is what CommitWith reports.
type Committed struct {
	// Claimed: the chat's send lane is the caller's.
	Claimed bool
	// Kept: the chat's lock is still the caller's, for update Next;
	// NextSeen says whether Next was handled before.
	Kept, NextSeen bool
}

// Handoff is a sender in the same process that takes lanes from the
// commits that claimed them.
type Handoff interface {
	// Claim is how long a commit claims a lane for it; 0 when it would
	// not take one now.
	Claim() time.Duration
	// Take starts sending the chat's messages, the first of them given
	// (queued in all), if a worker is free; false leaves the lane to the
	// caller, who gives it back to the schedule.
	Take(chat ChatID, first OutMessage, queued int) bool
}

// Outbox is what the Sender needs: each chat's durable queue of outgoing
// messages (a lane per chat), which remembers messages that may have
// been sent and chats that blocked the bot, and the global send rate.
type Outbox interface {
	Queue[ChatID, OutMessage]
	Uncertain[ChatID]
	Blockable[ChatID]
	Reserver
}

// Reports is what commands and operators read.
type Reports interface {
	// Gaps returns the most frequent unanswered questions of the last days.
	Gaps(ctx context.Context, now time.Time, days, limit int) ([]GapCount, error)
	// Audit returns the chat's recorded answers, newest first.
	Audit(ctx context.Context, chat ChatID) ([]AuditRecord, error)
}

// Store is the whole durable state, as one backend provides it.
type Store interface {
	Sessions
	Outbox
	Reports
	// Lead takes or keeps the named leadership (one polling replica) for
	// ttl; it returns whether token holds it.
	Lead(ctx context.Context, name, token string, ttl time.Duration) (bool, error)
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
}

// Begun is what Begin returns.
type Begun struct {
	Session flows.Session
}

// Commit is the outcome of one update.
type Commit struct {
	UpdateID int64
	Session  flows.Session
	// Forget deletes everything kept about the chat before the rest of
	// the commit (which then holds only the confirmation message).
	Forget  bool
	Out     []OutMessage
	Audit   []AuditRecord
	Control Control
	Now     time.Time
	// Follow and Unfollow change the subscription index: what the chat
	// follows, in its language (the session holds the same, and decides).
	Follow, Unfollow []Sub
	// Stats are what the update adds to the day's counters for reports
	// (no identifier, no text).
	Stats map[string]int64
	// Gaps are the questions the update could not answer directly,
	// counted without any user identifier.
	Gaps []flows.Gap
}

// AuditRecord says which FAQ text a chat was shown, and when.
type AuditRecord struct {
	Ref string    `json:"ref"` // "legal.pesel@3"
	KB  string    `json:"kb"`  // knowledge-base version
	At  time.Time `json:"at"`
	// Facet is the section of the answer shown first, if only that was
	// asked for ("cost").
	Facet string `json:"facet,omitempty"`
}

// GapCount is an unanswered question and how often it was asked.
type GapCount struct {
	Lang     knowledge.Lang
	Question string
	Count    int
}

// SortGaps orders the most frequent questions first, then by language
// and text, so that a listing is stable whatever the store.
func SortGaps(gs []GapCount) {
	slices.SortFunc(gs, func(a, b GapCount) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Lang, b.Lang); c != 0 {
			return c
		}
		return cmp.Compare(a.Question, b.Question)
	})
}

// DeadLetter is an update that could not be handled.
type DeadLetter struct {
	Chat     ChatID    `json:"chat"`
	UpdateID int64     `json:"update_id"`
	Error    string    `json:"error"`
	At       time.Time `json:"at"`
}

// Store errors.
var (
	ErrDuplicate = errors.New("update already handled")
	ErrBusy      = errors.New("chat is being handled by another worker")
	ErrLeaseLost = errors.New("chat lock lost before commit")
	ErrEmpty     = errors.New("outbox empty")
)
