package bot

import (
	"errors"
	"fmt"
	"time"

	"github.com/witaj/witaj/flows"
)

// ChatID identifies a migrant's chat on the messaging platform (Telegram's
// chat id). All state of a chat is keyed by it.
type ChatID int64

// Update is one incoming update from the migrants' platform, converted by
// the adapter: the engine event it carries, or a control change.
type Update struct {
	// ID is the platform's update id, used to handle every update once.
	ID   int64
	Chat ChatID
	// Event is the engine event; Control updates have none (HasEvent false).
	Event    flows.Event
	HasEvent bool
	// Control reports a change of the chat's reachability.
	Control Control
	// Reply, when set, is a message key to answer without running the
	// engine (e.g. "a group chat is not supported"); used for updates the
	// bot cannot handle but should acknowledge politely.
	Reply string
	// CallbackID identifies a button press to acknowledge on the platform
	// (Telegram's callback_query id); empty otherwise.
	CallbackID string
}

// Control is a change in whether the bot may write to a chat.
type Control int

// Controls.
const (
	NoControl Control = iota
	// Blocked: the user blocked the bot (Telegram my_chat_member "kicked").
	Blocked
	// Unblocked: the user allowed the bot again.
	Unblocked
)

// OutMessage is one message ready for the platform: text already in the
// platform's markup and within its length limit, with its buttons. It is
// stored in the outbox as JSON until sent.
type OutMessage struct {
	// ID is unique per chat and stable across retries ("<update>-<n>").
	ID string `json:"id"`
	// Text is in the platform's markup (Telegram HTML), escaped.
	Text string `json:"text"`
	// Buttons are inline buttons under the message.
	Buttons [][]Button `json:"buttons,omitempty"`
	// Plain marks text without markup (no parse mode).
	Plain bool `json:"plain,omitempty"`
	// Broadcast names the broadcast the message belongs to, if any, so
	// that its progress can be counted.
	Broadcast string `json:"bc,omitempty"`
}

// Errors a platform adapter returns from Send, matched with errors.Is and
// errors.As.
var (
	// ErrBlocked: the user blocked the bot or deleted their account;
	// never retry.
	ErrBlocked = errors.New("chat unreachable: bot blocked or user deactivated")
	// ErrRejected: the platform refused the message itself (400); retrying
	// the same message cannot help.
	ErrRejected = errors.New("message rejected by the platform")
	// ErrMaybeSent: the request went out but no answer came in time; the
	// platform may have delivered the message. It is sent at most once
	// more.
	ErrMaybeSent = errors.New("no answer in time; the message may have been sent")
)

// SendTimeout bounds one call to a platform, well inside the sender's
// lease (30 s): a hung call must end before another replica may take the
// chat and send the same message.
const SendTimeout = 10 * time.Second

// RetryAfterError asks to wait before sending to the chat again
// (Telegram 429 with retry_after).
type RetryAfterError struct {
	After time.Duration
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("rate limited: retry after %s", e.After)
}
