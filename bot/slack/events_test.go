package slack

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/bot/slack/slackfake"
)

// countingHandler counts what reaches the service.
type countingHandler struct{ n int }

func (h *countingHandler) Handle(context.Context, bot.Update) error { h.n++; return nil }

// TestEventsRejectBadSignatures: a stale or future timestamp, a missing
// v0= prefix, a forged or missing signature get 401 and nothing is
// processed, on both endpoints.
func TestEventsRejectBadSignatures(t *testing.T) {
	const secret = "s3cret-signing"
	h := &countingHandler{}
	e := NewEvents(nil, h, nil, nil, secret, "UBOT", slog.New(slog.NewTextHandler(io.Discard, nil)))
	mux := http.NewServeMux()
	mux.HandleFunc("POST /slack/events", e.ServeEvents)
	mux.HandleFunc("POST /slack/interactions", e.ServeInteractions)
	hs := httptest.NewServer(mux)
	defer hs.Close()
	srv := slackfake.New(t)
	body := slackfake.MessageEvent("Ev1", "C1", "U1", "hi", "1.000001")
	tests := []struct {
		name   string
		secret string
		opts   []slackfake.RequestOption
	}{
		{"stale", secret, []slackfake.RequestOption{slackfake.SignedAt(time.Now().Add(-6 * time.Minute))}},
		{"future", secret, []slackfake.RequestOption{slackfake.SignedAt(time.Now().Add(6 * time.Minute))}},
		{"forged", "another-secret", nil},
		{"no v0 prefix", secret, []slackfake.RequestOption{slackfake.WithHeader("X-Slack-Signature", strings.Repeat("ab", 32))}},
		{"no signature", secret, []slackfake.RequestOption{slackfake.WithHeader("X-Slack-Signature", "")}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tt := range tests {
		for _, path := range []string{"/slack/events", "/slack/interactions"} {
			var resp *http.Response
			var err error
			if path == "/slack/events" {
				resp, err = srv.PostEvent(ctx, hs.URL+path, tt.secret, body, tt.opts...)
			} else {
				resp, err = srv.PostInteraction(ctx, hs.URL+path, tt.secret, []byte(`{"type":"block_actions"}`), tt.opts...)
			}
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s: %d, want 401", tt.name, path, resp.StatusCode)
			}
		}
	}
	if h.n != 0 {
		t.Errorf("%d updates processed from badly signed requests", h.n)
	}
}
