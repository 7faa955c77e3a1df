package slackfake

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// userAgent is what Slack's deliveries identify as.
const userAgent = "Slackbot 1.0 (+https://api.slack.com/robots)"

// SignAt returns the headers Slack signs a request body with at time ts:
// X-Slack-Request-Timestamp (Unix seconds) and X-Slack-Signature,
// "v0=" + hex(HMAC-SHA256(secret, "v0:" + timestamp + ":" + body)). Sign
// with a time 6 minutes ago for a stale request, or with another secret for
// a forged one.
func SignAt(secret string, ts time.Time, body []byte) http.Header {
	stamp := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:", stamp)
	mac.Write(body)
	h := make(http.Header)
	h.Set("X-Slack-Request-Timestamp", stamp)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	return h
}

// RequestOption changes a signed request built by NewEventRequest,
// NewInteractionRequest, PostEvent or PostInteraction.
type RequestOption func(*requestConfig)

type requestConfig struct {
	at     time.Time
	header http.Header // set after signing; "" values delete
}

// SignedAt signs the request at t instead of now, e.g.
// time.Now().Add(-6*time.Minute) for a request outside Slack's 5-minute
// window.
func SignedAt(t time.Time) RequestOption {
	return func(c *requestConfig) { c.at = t }
}

// Retry marks the request as Slack's num-th redelivery of an event, with
// the X-Slack-Retry-Num and X-Slack-Retry-Reason headers. Slack's reasons
// are "http_timeout", "too_many_redirects", "connection_failed",
// "ssl_error", "http_error" and "unknown_error".
func Retry(num int, reason string) RequestOption {
	return func(c *requestConfig) {
		c.header.Set("X-Slack-Retry-Num", strconv.Itoa(num))
		c.header.Set("X-Slack-Retry-Reason", reason)
	}
}

// WithHeader sets header key to value after signing; an empty value removes
// the header. Use it to forge a signature, drop the "v0=" prefix or leave a
// header out.
func WithHeader(key, value string) RequestOption {
	return func(c *requestConfig) { c.header[http.CanonicalHeaderKey(key)] = []string{value} }
}

// NewEventRequest builds the POST Slack sends to an Events API request URL:
// body as JSON, signed with secret. Serve it to a handler directly, or send
// it with PostEvent.
func NewEventRequest(ctx context.Context, url, secret string, body []byte, opts ...RequestOption) (*http.Request, error) {
	return newSignedRequest(ctx, url, secret, "application/json", body, opts)
}

// NewInteractionRequest builds the POST Slack sends to an interactivity
// request URL: the payload JSON in the "payload" field of a form, signed
// with secret.
func NewInteractionRequest(ctx context.Context, reqURL, secret string, payload []byte, opts ...RequestOption) (*http.Request, error) {
	body := url.Values{"payload": {string(payload)}}.Encode()
	return newSignedRequest(ctx, reqURL, secret, "application/x-www-form-urlencoded", []byte(body), opts)
}

func newSignedRequest(ctx context.Context, url, secret, contentType string, body []byte, opts []RequestOption) (*http.Request, error) {
	c := requestConfig{at: time.Now(), header: make(http.Header)}
	for _, opt := range opts {
		opt(&c)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("slackfake: signed request to %s: %w", url, err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", userAgent)
	for k, v := range SignAt(secret, c.at, body) {
		req.Header[k] = v
	}
	for k, v := range c.header {
		if len(v) == 0 || v[0] == "" {
			req.Header.Del(k)
		} else {
			req.Header[k] = v
		}
	}
	return req, nil
}

// PostEvent sends body (e.g. from MessageEvent) to an Events API request
// URL the way Slack does: signed with secret at the current time, JSON,
// redirects not followed. The caller must close the response body.
func (s *Server) PostEvent(ctx context.Context, url, secret string, body []byte, opts ...RequestOption) (*http.Response, error) {
	req, err := NewEventRequest(ctx, url, secret, body, opts...)
	if err != nil {
		return nil, err
	}
	return s.send(req)
}

// PostInteraction sends payload (e.g. from BlockAction) to an interactivity
// request URL the way Slack does: form-encoded in the "payload" field and
// signed with secret. The caller must close the response body.
func (s *Server) PostInteraction(ctx context.Context, url, secret string, payload []byte, opts ...RequestOption) (*http.Response, error) {
	req, err := NewInteractionRequest(ctx, url, secret, payload, opts...)
	if err != nil {
		return nil, err
	}
	return s.send(req)
}

func (s *Server) send(req *http.Request) (*http.Response, error) {
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("slackfake: post to %s: %w", req.URL, err)
	}
	return resp, nil
}
