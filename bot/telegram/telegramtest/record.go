package telegramtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"
)

// Request is one API call the server received.
type Request struct {
	Method string            // as in the URL, e.g. "sendMessage"
	Token  string            // the bot token from the URL
	Params map[string]string // strings raw, other values as JSON text
	Time   time.Time         // when the request arrived
	Status int               // the error_code answered, or 200
}

// SentMessage is a message the bot sent with sendMessage, in its latest
// state after edits and deletion.
type SentMessage struct {
	ID        int
	ChatID    int64
	Text      string                 // as the bot sent it, markup included
	Visible   string                 // what the user sees: Text after entity parsing
	Entities  []models.MessageEntity // parsed from HTML; nil for other parse modes
	ParseMode string                 // "" when none was given
	Keyboard  [][]Button             // the inline keyboard, nil without one
	Edited    bool                   // changed by editMessageText at least once
	Deleted   bool                   // removed by deleteMessage
}

// Button is one inline keyboard button.
type Button struct {
	Text         string
	CallbackData string
	URL          string
}

// CallbackAnswer is one answerCallbackQuery call.
type CallbackAnswer struct {
	QueryID   string
	Text      string
	ShowAlert bool
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r)
	s.notifyLocked()
}

// Requests returns every request received so far, oldest first.
func (s *Server) Requests() []Request {
	return s.RequestsFor("")
}

// Count returns how many requests of method (any when empty) arrived,
// without copying them: for wait conditions checked on every request.
func (s *Server) Count(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if method == "" || strings.EqualFold(r.Method, method) {
			n++
		}
	}
	return n
}

// RequestsFor returns the requests for method (case-insensitive), oldest
// first; "" means all methods.
func (s *Server) RequestsFor(method string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if method == "" || strings.EqualFold(r.Method, method) {
			r.Params = params(r.Params).clone()
			out = append(out, r)
		}
	}
	return out
}

// Sent returns the messages sent to chatID, oldest first.
func (s *Server) Sent(chatID int64) []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.sent[chatID])
	for i := range out {
		out[i].Keyboard = cloneKeyboard(out[i].Keyboard)
		out[i].Entities = slices.Clone(out[i].Entities)
	}
	return out
}

// Deleted returns the message ids deleteMessage removed in chatID, in order.
func (s *Server) Deleted(chatID int64) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deleted[chatID])
}

// Answers returns the answerCallbackQuery calls, oldest first.
func (s *Server) Answers() []CallbackAnswer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.answers)
}

func cloneKeyboard(k [][]Button) [][]Button {
	if k == nil {
		return nil
	}
	out := make([][]Button, len(k))
	for i, row := range k {
		out[i] = slices.Clone(row)
	}
	return out
}

// WaitFor blocks until cond holds, and checks it again after every change
// to the server (each request, queued update or sent message). cond runs
// without the server's lock held, so it may call any accessor. WaitFor
// returns an error wrapping the context's error when ctx ends first, or
// ErrClosed when the server shuts down.
func (s *Server) WaitFor(ctx context.Context, cond func(*Server) bool) error {
	for {
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()
		if cond(s) {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("telegramtest: wait: %w", context.Cause(ctx))
		case <-s.done:
			if cond(s) {
				return nil
			}
			return ErrClosed
		}
	}
}

// WaitSent waits until at least n messages were sent to chatID and returns
// all messages sent there.
func (s *Server) WaitSent(ctx context.Context, chatID int64, n int) ([]SentMessage, error) {
	var sent []SentMessage
	err := s.WaitFor(ctx, func(s *Server) bool {
		sent = s.Sent(chatID)
		return len(sent) >= n
	})
	if err != nil {
		return sent, fmt.Errorf("wait for %d messages to chat %d, got %d: %w", n, chatID, len(sent), err)
	}
	return sent, nil
}

// WaitRequests waits until method was called at least n times and returns
// those calls.
func (s *Server) WaitRequests(ctx context.Context, method string, n int) ([]Request, error) {
	var reqs []Request
	err := s.WaitFor(ctx, func(s *Server) bool {
		reqs = s.RequestsFor(method)
		return len(reqs) >= n
	})
	if err != nil {
		return reqs, fmt.Errorf("wait for %d %s calls, got %d: %w", n, method, len(reqs), err)
	}
	return reqs, nil
}
