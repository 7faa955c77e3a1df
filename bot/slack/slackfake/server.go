// Package slackfake is a fake Slack Web API for tests, plus builders of
// signed Events API and interactivity requests shaped as Slack sends them.
//
// slack-go's own slacktest speaks the old RTM protocol and answers
// chat.postMessage with whole-second ts values that collide; this fake hands
// out unique, increasing ts values, records what the client sent, and lets a
// test inject Slack's failures (429 with Retry-After, 5xx, ok:false errors,
// slow answers). It also speaks Socket Mode (socket.go): hello, envelopes,
// acks, PINGs, disconnect.
//
// A typical test:
//
//	srv := slackfake.New(t)
//	api := slack.New("xoxb-test", slack.OptionAPIURL(srv.APIURL()))
//	…
//	posts, err := srv.WaitPosts(ctx, 1) // no sleeping: woken by each request
//	resp, err := srv.PostEvent(ctx, eventsURL, secret,
//		slackfake.MessageEvent("Ev1", "C1", "U1", "hello", posts[0].TS))
package slackfake

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The workspace, app and bot the fake server and the builders describe.
const (
	TeamID     = "T1"
	TeamName   = "Witaj Test"
	TeamDomain = "witaj-test"
	AppID      = "A1"
	BotUserID  = "UBOT"
	BotID      = "BBOT"
	BotName    = "witaj"
	// VerificationToken is the deprecated token Slack still puts in every
	// event and interaction; verify signatures instead.
	VerificationToken = "verification-token"
)

// ErrClosed is returned by the Wait methods when the server shuts down
// before the awaited condition holds.
var ErrClosed = errors.New("slackfake: server closed")

// Server is a fake Slack Web API. Create it with New; all methods are safe
// for concurrent use.
type Server struct {
	hs     *httptest.Server
	done   chan struct{} // closed when the server shuts down; ends delays
	client *http.Client  // for PostEvent and PostInteraction

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change; see notifyLocked

	requests []Request
	msgs     []message // every message in every channel, in ts order
	updates  []Update
	deletes  []Delete
	members  map[string][]string // by channel
	users    map[string]string   // user id -> name
	failures []*failureRule
	sm       socketMode // Socket Mode connections and acks (socket.go)
}

// New starts a fake Web API server and closes it when the test ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{
		done:    make(chan struct{}),
		changed: make(chan struct{}),
		members: make(map[string][]string),
		users:   map[string]string{BotUserID: BotName},
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
	}
	s.hs = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	tb.Cleanup(s.close)
	return s
}

// APIURL returns the base URL to pass to slack.OptionAPIURL. It ends with
// "/", as slack-go appends the method name to it.
func (s *Server) APIURL() string { return s.hs.URL + "/api/" }

// close ends pending delays first, because httptest's Close waits for every
// running handler.
func (s *Server) close() {
	close(s.done)
	s.closeSockets()
	s.hs.Close()
	s.client.CloseIdleConnections()
}

// notifyLocked wakes every WaitFor. The caller holds s.mu. Waiters take the
// current channel before checking their condition, so a change that happens
// in between is never missed.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// reply is the outcome of one API call: an HTTP status, Slack's JSON body
// and, for 429, the Retry-After header.
type reply struct {
	status     int
	body       map[string]any
	retryAfter int
}

func ok(fields map[string]any) reply {
	body := map[string]any{"ok": true}
	for k, v := range fields {
		body[k] = v
	}
	return reply{status: http.StatusOK, body: body}
}

// slackError is how Slack reports most failures: HTTP 200 with ok:false.
func slackError(code string) reply {
	return reply{status: http.StatusOK, body: map[string]any{"ok": false, "error": code}}
}

func (rep reply) failed() bool {
	return rep.status != http.StatusOK || rep.body["ok"] != true
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/link/" {
		s.serveSocket(w, r)
		return
	}
	method, found := strings.CutPrefix(r.URL.Path, "/api/")
	req := Request{Method: method, Time: time.Now()}
	p, err := readParams(r)
	var rep reply
	switch {
	case !found || method == "" || strings.Contains(method, "/"):
		rep = slackError("unknown_method")
	case err != nil:
		rep = slackError("invalid_form_data")
	default:
		req.Params, req.Token = p, token(r, p)
		rep = s.handle(r.Context(), method, req.Token, p)
	}
	req.Status = rep.status
	if rep.failed() {
		req.Error, _ = rep.body["error"].(string)
	}
	s.record(req)
	writeReply(w, rep)
}

// handle applies an injected failure, if one matches, and otherwise runs
// the method. A failure with Commit, or one that only delays, lets the call
// take effect before the (late or failed) answer, like a Slack request that
// was processed although the client saw a timeout or an error.
func (s *Server) handle(ctx context.Context, method, token string, p params) reply {
	f, failing := s.takeFailure(method)
	var rep reply
	if !failing || f.Commit || !f.fails() {
		rep = s.call(method, token, p)
	}
	if failing {
		s.sleep(ctx, f.Delay)
		if f.fails() {
			rep = f.reply()
		}
	}
	return rep
}

// call runs one Web API method. Method names are case-sensitive, as on Slack.
func (s *Server) call(method, token string, p params) reply {
	if token == "" {
		return slackError("not_authed")
	}
	switch method {
	case "auth.test":
		return authTest()
	case "apps.connections.open":
		return s.openConnection(token)
	case "chat.postMessage":
		return s.postMessage(p)
	case "chat.update":
		return s.updateMessage(p)
	case "chat.delete":
		return s.deleteMessage(p)
	case "conversations.members":
		return s.conversationMembers(p)
	case "conversations.replies":
		return s.conversationReplies(p)
	case "conversations.history":
		return s.conversationHistory(p)
	case "users.info":
		return s.userInfo(p)
	}
	return slackError("unknown_method")
}

// sleep waits d, or less if the request or the server ends first.
func (s *Server) sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	case <-s.done:
	}
}

// writeReply writes rep as Slack does: JSON, except for 5xx answers, which
// Slack's edge sends as HTML (slack-go does not parse them).
func writeReply(w http.ResponseWriter, rep reply) {
	if rep.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(rep.retryAfter))
	}
	if rep.status >= http.StatusInternalServerError {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(rep.status)
		_, _ = w.Write([]byte("<html><body>" + http.StatusText(rep.status) + "</body></html>"))
		return
	}
	body, err := json.Marshal(rep.body)
	if err != nil {
		rep.status = http.StatusInternalServerError
		body = []byte(`{"ok":false,"error":"fatal_error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(rep.status)
	_, _ = w.Write(body) // the client may be gone; nothing to do then
}

func authTest() reply {
	return ok(map[string]any{
		"url":     "https://" + TeamDomain + ".slack.com/",
		"team":    TeamName,
		"user":    BotName,
		"team_id": TeamID,
		"user_id": BotUserID,
		"bot_id":  BotID,
	})
}
