package slackfake

import (
	"net/http"
	"slices"
	"time"
)

// Failure is an answer the server gives instead of the normal one, to test
// how a client copes with Slack's errors and slowness.
type Failure struct {
	// Status is the HTTP status to answer, e.g. 429 or 500; 0 means 200.
	// A 429 carries {"ok":false,"error":"ratelimited"}, a 5xx an HTML page
	// (as Slack's edge sends), other statuses {"ok":false,"error":Error}.
	Status int
	// RetryAfter, when positive, is sent as the Retry-After header
	// (seconds). slack-go turns a 429 into *slack.RateLimitedError only when
	// the header is present.
	RetryAfter int
	// Error is the ok:false error code, e.g. "channel_not_found"; with
	// Status 0 it is answered with HTTP 200, as Slack does.
	Error string
	// Delay is how long the server waits before answering (less if the
	// client gives up or the server closes).
	Delay time.Duration
	// Commit lets the call take effect although the client gets the
	// failure: the message is posted (updated, deleted) and then a 5xx or
	// error is answered, Slack's ambiguous outcome. A Failure with only a
	// Delay always takes effect before its late answer.
	Commit bool
}

// fails reports whether f answers with an error rather than just late.
func (f Failure) fails() bool {
	return (f.Status != 0 && f.Status != http.StatusOK) || f.Error != ""
}

func (f Failure) reply() reply {
	status := f.Status
	if status == 0 {
		status = http.StatusOK
	}
	code := f.Error
	if code == "" && status == http.StatusTooManyRequests {
		code = "ratelimited"
	}
	return reply{status: status, body: map[string]any{"ok": false, "error": code}, retryAfter: f.RetryAfter}
}

// failureRule is one Fail call; left < 0 means no limit.
type failureRule struct {
	method string
	f      Failure
	left   int
}

// Fail makes the next times calls of method (e.g. "chat.postMessage"; ""
// matches every method) answer with f. times <= 0 means every matching call
// until ClearFailures. Each matching request consumes one failure; rules
// apply in the order they were added.
func (s *Server) Fail(method string, f Failure, times int) {
	if times <= 0 {
		times = -1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, &failureRule{method: method, f: f, left: times})
}

// ClearFailures removes every failure not yet consumed.
func (s *Server) ClearFailures() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = nil
}

// takeFailure consumes the first failure that matches method.
func (s *Server) takeFailure(method string) (Failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.failures {
		if r.method != "" && r.method != method {
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
