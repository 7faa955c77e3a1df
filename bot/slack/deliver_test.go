package slack

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/witaj/witaj/bot"
)

// failingPoster answers every request with err.
type failingPoster struct {
	Poster
	err error
}

func (p failingPoster) DeleteMessageContext(context.Context, string, string) (string, string, error) {
	return "", "", p.err
}

// TestDeliverClassifies: the adapter's whole job besides posting is to
// say what Slack's answer means to the shared drain loop.
func TestDeliverClassifies(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		rejected  bool
		after     time.Duration
		mayRepeat bool // the next attempt must look before posting
	}{
		{name: "posted"},
		{name: "refused", err: slack.SlackErrorResponse{Err: "message_not_found"}, rejected: true},
		{name: "rate limited", err: &slack.RateLimitedError{RetryAfter: 3 * time.Second}, after: 3 * time.Second},
		{name: "server error", err: errors.New("slack server error: 500 Internal Server Error"), mayRepeat: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Sender{api: failingPoster{err: tt.err}, now: time.Now, failedAt: map[string]time.Time{}}
			err := s.deliver(context.Background(), "C1", bot.SlackItem{ID: "i1", Kind: bot.SlackDelete, TS: "1.2"})
			if got := errors.Is(err, bot.ErrRejected); got != tt.rejected {
				t.Errorf("rejected = %v, want %v (err %v)", got, tt.rejected, err)
			}
			var retry *bot.RetryAfterError
			if got := errors.As(err, &retry); got != (tt.after > 0) || (got && retry.After != tt.after) {
				t.Errorf("err = %v, want retry after %v", err, tt.after)
			}
			if (tt.err == nil) != (err == nil) {
				t.Errorf("err = %v, want an error: %v", err, tt.err != nil)
			}
			if got := !s.failedBefore("C1").IsZero(); got != tt.mayRepeat {
				t.Errorf("failure remembered = %v, want %v", got, tt.mayRepeat)
			}
		})
	}
}
