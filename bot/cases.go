package bot

import (
	"context"
	"errors"
	"time"

	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
)

// Case is a migrant's conversation with consultants, as the consultants'
// side keeps it. It lives under the chat's keys and expires with them.
type Case struct {
	ID        string             `json:"id"` // short and readable: "W-7KQ2"
	Chat      ChatID             `json:"chat"`
	Lang      knowledge.Lang     `json:"lang"`
	Category  knowledge.Category `json:"category,omitempty"`
	Urgent    bool               `json:"urgent,omitempty"`
	Status    flows.CaseStatus   `json:"status"`
	ClaimedBy string             `json:"claimed_by,omitempty"` // consultant's Slack user id
	Opened    time.Time          `json:"opened"`
	Closed    time.Time          `json:"closed,omitzero"`
	Channel   string             `json:"channel"`
	ThreadTS  string             `json:"thread_ts,omitempty"` // the parent message, once posted
	Question  string             `json:"question,omitempty"`
	Guesses   []string           `json:"guesses,omitempty"`
	FirstName string             `json:"first_name,omitempty"`
	// Transcript is the conversation with the bot before the case.
	Transcript []flows.Turn `json:"transcript,omitempty"`
	Rating     int          `json:"rating,omitempty"`
	Reminded   bool         `json:"reminded,omitempty"`
}

// Open reports whether the case still takes messages.
func (c Case) Open() bool { return c.Status != flows.StatusResolved }

// SlackItem is one queued request to Slack. Items of one channel are sent
// in order, about one per second.
type SlackItem struct {
	ID   string    `json:"id"`
	Kind SlackKind `json:"kind"`
	Chat ChatID    `json:"chat,omitempty"` // the case the item belongs to
	Text string    `json:"text,omitempty"` // fallback text, escaped for Slack
	// Blocks is the Block Kit JSON, if any.
	Blocks []byte `json:"blocks,omitempty"`
	// TS is the message to update or delete.
	TS string `json:"ts,omitempty"`
}

// SlackKind tells what a SlackItem does.
type SlackKind string

// Slack item kinds.
const (
	SlackParent SlackKind = "parent" // the case's parent message; its ts becomes the thread
	SlackReply  SlackKind = "reply"  // a message in the case's thread
	SlackUpdate SlackKind = "update" // replace the parent message
	SlackDelete SlackKind = "delete" // delete a message the bot posted
	SlackNotice SlackKind = "notice" // a message in the channel, outside threads
)

// CaseStore keeps cases and the Slack outbox.
type CaseStore interface {
	// OpenCase stores c as the chat's case unless the chat has an open
	// one; it returns the chat's open case and whether it was created now.
	OpenCase(ctx context.Context, c Case) (Case, bool, error)
	// CaseOf returns the chat's case (open or last closed), or ErrNoCase.
	CaseOf(ctx context.Context, chat ChatID) (Case, error)
	// ChatOfThread returns the chat whose case thread is channel/ts, or
	// ErrNoCase.
	ChatOfThread(ctx context.Context, channel, ts string) (ChatID, error)
	// SetThread records the case's parent message; ErrNoCase when the
	// case was forgotten meanwhile (the message must then go).
	SetThread(ctx context.Context, chat ChatID, channel, ts string) error
	// CancelQueued removes the chat's requests still queued for channel,
	// except deletions, and returns how many.
	CancelQueued(ctx context.Context, channel string, chat ChatID) (int, error)
	// Claim gives the open case to user unless someone has it; it returns
	// the case and whether this call claimed it.
	Claim(ctx context.Context, chat ChatID, user string, now time.Time) (Case, bool, error)
	// Resolve closes the case; it returns the case and whether this call
	// closed it.
	Resolve(ctx context.Context, chat ChatID, now time.Time) (Case, bool, error)
	// RateCase records the user's rating.
	RateCase(ctx context.Context, chat ChatID, score int) (Case, error)
	// Ahead returns how many open, unclaimed cases were opened before the
	// chat's.
	Ahead(ctx context.Context, chat ChatID) (int, error)
	// ActiveCases returns the chats whose case is open or claimed.
	ActiveCases(ctx context.Context) ([]ChatID, error)
	// Unclaimed returns chats whose case has waited unclaimed since before
	// t and has had no reminder; MarkReminded records the reminder.
	Unclaimed(ctx context.Context, before time.Time) ([]ChatID, error)
	MarkReminded(ctx context.Context, chat ChatID) error
	// Posted records a message the bot posted for the chat's case, so that
	// /forget can delete it; ForgetCase deletes the case and returns those
	// messages.
	Posted(ctx context.Context, chat ChatID, channel, ts string) error
	ForgetCase(ctx context.Context, chat ChatID) (Case, []SlackPost, error)

	// SlackPush queues items for a channel, except those whose id was
	// queued already.
	SlackPush(ctx context.Context, channel string, items ...SlackItem) error
	// SlackQueue is the queue of requests to Slack, a lane per channel.
	SlackQueue() Queue[string, SlackItem]
	// SlackBacklog reports whether the channel has items waiting.
	SlackBacklog(ctx context.Context, channel string) (int, error)
	// SetSlackDown records whether posting to Slack is failing (shared by
	// replicas; it expires on its own); SlackDown reads it.
	SetSlackDown(ctx context.Context, down bool) error
	SlackDown(ctx context.Context) bool
}

// SlackPost is a message the bot posted in Slack.
type SlackPost struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
}

// ErrNoCase: the chat or thread has no case.
var ErrNoCase = errors.New("no such case")
