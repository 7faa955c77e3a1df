package slackfake_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/witaj/witaj/bot/slack/slackfake"
)

const secret = "8f742231b10e8888abcd99yyyzzz85a5"

// delivery is what the receiving app saw of one signed request.
type delivery struct {
	header      http.Header
	body        string
	verifyErr   error
	interaction slack.InteractionCallback
}

// receiver is an app endpoint that verifies each request as witaj must:
// the raw body through slack.NewSecretsVerifier, then Ensure.
func receiver(t *testing.T) (string, <-chan delivery) {
	t.Helper()
	got := make(chan delivery, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		d := delivery{header: r.Header.Clone(), body: string(body)}
		sv, err := slack.NewSecretsVerifier(r.Header, secret)
		if err == nil {
			_, _ = sv.Write(body)
			err = sv.Ensure()
		}
		d.verifyErr = err
		if err == nil && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			r.Body = io.NopCloser(strings.NewReader(string(body)))
			d.interaction, d.verifyErr = slack.InteractionCallbackParse(r)
		}
		got <- d
	}))
	t.Cleanup(hs.Close)
	return hs.URL, got
}

func TestSignedEventsVerify(t *testing.T) {
	srv := slackfake.New(t)
	url, got := receiver(t)
	body := slackfake.MessageEvent("Ev1", "C1", "U1", "hi", "")
	tests := []struct {
		name    string
		secret  string
		opts    []slackfake.RequestOption
		wantErr error
	}{
		{"fresh", secret, nil, nil},
		{"stale", secret, []slackfake.RequestOption{slackfake.SignedAt(time.Now().Add(-6 * time.Minute))}, slack.ErrExpiredTimestamp},
		{"future", secret, []slackfake.RequestOption{slackfake.SignedAt(time.Now().Add(6 * time.Minute))}, slack.ErrExpiredTimestamp},
		{"forged", "another-secret", nil, slack.ErrInvalidSignature},
		{"no v0 prefix", secret, []slackfake.RequestOption{slackfake.WithHeader("X-Slack-Signature", strings.Repeat("ab", 32))}, slack.ErrInvalidSignature},
		{"no signature", secret, []slackfake.RequestOption{slackfake.WithHeader("X-Slack-Signature", "")}, slack.ErrMissingHeaders},
	}
	for _, tt := range tests {
		resp, err := srv.PostEvent(testContext(t), url, tt.secret, body, tt.opts...)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		resp.Body.Close()
		d := <-got
		if !errors.Is(d.verifyErr, tt.wantErr) {
			t.Errorf("%s: verify err = %v, want %v", tt.name, d.verifyErr, tt.wantErr)
		}
		if d.body != string(body) || d.header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: body %q content type %q, want the event as JSON", tt.name, d.body, d.header.Get("Content-Type"))
		}
	}
}

func TestRetryHeaders(t *testing.T) {
	srv := slackfake.New(t)
	url, got := receiver(t)
	resp, err := srv.PostEvent(testContext(t), url, secret, slackfake.URLVerification("c"), slackfake.Retry(2, "http_timeout"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	d := <-got
	if d.verifyErr != nil || d.header.Get("X-Slack-Retry-Num") != "2" || d.header.Get("X-Slack-Retry-Reason") != "http_timeout" {
		t.Errorf("verify %v, retry headers %q %q; want valid, 2, http_timeout", d.verifyErr,
			d.header.Get("X-Slack-Retry-Num"), d.header.Get("X-Slack-Retry-Reason"))
	}
}

func TestSignedInteractionVerifiesAndParses(t *testing.T) {
	srv := slackfake.New(t)
	url, got := receiver(t)
	payload := slackfake.BlockAction("U1", "C1", "1795444233.000100", "take", "case:7")
	resp, err := srv.PostInteraction(testContext(t), url, secret, payload)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	d := <-got
	if d.verifyErr != nil {
		t.Fatalf("verify/parse: %v", d.verifyErr)
	}
	acts := d.interaction.ActionCallback.BlockActions
	if d.interaction.Type != slack.InteractionTypeBlockActions || len(acts) != 1 || acts[0].Value != "case:7" {
		t.Errorf("parsed %+v, want block_actions with value case:7", d.interaction)
	}
}

func TestSignAtMatchesSlacksExample(t *testing.T) {
	// The example from https://api.slack.com/authentication/verifying-requests-from-slack.
	body := []byte("token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
	h := slackfake.SignAt("8f742231b10e8888abcd99yyyzzz85a5", time.Unix(1531420618, 0), body)
	want := "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
	if got := h.Get("X-Slack-Signature"); got != want || h.Get("X-Slack-Request-Timestamp") != "1531420618" {
		t.Errorf("SignAt = %v, want signature %s at 1531420618", h, want)
	}
}
