package telegramtest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Failure is an answer the server gives instead of the normal one, to test
// how a client copes with Telegram's errors and slowness.
type Failure struct {
	// Code is the error_code and HTTP status; 0 answers normally after Delay.
	Code int
	// Description is Telegram's description text.
	Description string
	// RetryAfter is sent as parameters.retry_after (seconds) when positive.
	RetryAfter int
	// Delay is how long the server waits before answering.
	Delay time.Duration
}

// TooManyRequests is Telegram's flood-control answer: 429 with retry_after.
func TooManyRequests(retryAfter int) Failure {
	return Failure{
		Code:        http.StatusTooManyRequests,
		Description: fmt.Sprintf("Too Many Requests: retry after %d", retryAfter),
		RetryAfter:  retryAfter,
	}
}

// Blocked is the answer to sending to a user who blocked the bot.
func Blocked() Failure {
	return Failure{Code: http.StatusForbidden, Description: "Forbidden: bot was blocked by the user"}
}

// Deactivated is the answer to sending to a deleted account.
func Deactivated() Failure {
	return Failure{Code: http.StatusForbidden, Description: "Forbidden: user is deactivated"}
}

// BadRequest is a 400 with the given description, e.g. "chat not found"
// (the "Bad Request: " prefix is added).
func BadRequest(description string) Failure {
	return Failure{Code: http.StatusBadRequest, Description: "Bad Request: " + description}
}

// InternalError is a 500, as Telegram answers when it has trouble itself.
func InternalError() Failure {
	return Failure{Code: http.StatusInternalServerError, Description: "Internal Server Error"}
}

// Slow answers normally, after d (less if the request or server ends).
func Slow(d time.Duration) Failure {
	return Failure{Delay: d}
}

// Conflict409 is what getUpdates answers when another getUpdates request
// (another bot instance) took over.
func Conflict409() Failure {
	return Failure{
		Code:        http.StatusConflict,
		Description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
	}
}

func (f Failure) reply() reply {
	return reply{status: f.Code, description: f.Description, retryAfter: f.RetryAfter}
}

// failureRule is one Fail call; left < 0 means no limit.
type failureRule struct {
	method string
	chatID int64
	f      Failure
	left   int
}

// Fail makes the next times calls of method (case-insensitive) for chatID
// answer with f; chatID 0 matches any call of method, including calls
// without a chat such as getUpdates. times <= 0 means every matching call
// until ClearFailures. Each matching request consumes one failure; rules
// apply in the order they were added.
func (s *Server) Fail(method string, chatID int64, f Failure, times int) {
	if times <= 0 {
		times = -1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, &failureRule{method: method, chatID: chatID, f: f, left: times})
}

// ClearFailures removes every failure not yet consumed.
func (s *Server) ClearFailures() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = nil
}

// takeFailure consumes the first failure that matches the request.
func (s *Server) takeFailure(method string, p params) (Failure, bool) {
	chat := p.int("chat_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.failures {
		if !strings.EqualFold(r.method, method) || (r.chatID != 0 && r.chatID != chat) {
			continue
		}
		if r.left > 0 {
			r.left--
			if r.left == 0 {
				s.failures = slices.Delete(s.failures, i, i+1)
			}
		}
		return r.f, true
	}
	return Failure{}, false
}
