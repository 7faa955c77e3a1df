// Package telegramtest is a fake Telegram Bot API server for tests. It runs
// on net/http/httptest, speaks Telegram's wire format (multipart, JSON and
// form requests; {"ok":…} envelopes; Telegram's error codes and texts),
// validates what the real server validates for the methods witaj uses,
// records every request, and lets a test inject failures, queue updates for
// getUpdates and deliver updates to a webhook.
//
// A typical test:
//
//	srv := telegramtest.New(t)
//	b, err := tgbot.New("1:token", tgbot.WithServerURL(srv.URL()), tgbot.WithSkipGetMe())
//	…
//	srv.QueueUpdate(telegramtest.Text(telegramtest.User(42, "Ala", "pl"), "/start"))
//	sent, err := srv.WaitSent(ctx, 42, 1) // no sleeping: woken by each request
//
// Updates go to the bot by long polling (QueueUpdate) or to a webhook
// handler (PostWebhook); Fail makes chosen calls answer 429, 403, 400, 500
// or slowly.
package telegramtest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
)

// The bot the fake server answers getMe with.
const (
	BotID        = 1000
	BotUsername  = "witaj_test_bot"
	BotFirstName = "Witaj Test"
)

// ErrClosed is returned by the Wait methods when the server shuts down
// before the awaited condition holds.
var ErrClosed = errors.New("telegramtest: server closed")

// Server is a fake Telegram Bot API. Create it with New; all methods are
// safe for concurrent use.
type Server struct {
	tb   testing.TB
	hs   *httptest.Server
	done chan struct{} // closed when the server shuts down; ends long polls
	now  func() time.Time

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change; see notifyLocked

	requests      []Request
	sent          map[int64][]SentMessage
	deleted       map[int64][]int
	answers       []CallbackAnswer
	commands      map[string][]models.BotCommand // by commandsKey
	webhook       Webhook
	failures      []*failureRule
	queue         []queuedUpdate
	offsets       []int64
	nextUpdateID  int64
	nextMessageID int
	pollGen       int // bumped by every getUpdates; an older poll then ends with 409
	// poster posts webhook updates, keeping connections for reuse as
	// Telegram does.
	poster *http.Client
}

// New starts a fake Bot API server and closes it when the test ends.
// Requests arrive as POST /bot<token>/<method>; any token is accepted and
// recorded.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{
		tb:           tb,
		done:         make(chan struct{}),
		now:          time.Now,
		changed:      make(chan struct{}),
		sent:         make(map[int64][]SentMessage),
		deleted:      make(map[int64][]int),
		commands:     make(map[string][]models.BotCommand),
		nextUpdateID: 1,
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	s.poster = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	tb.Cleanup(tr.CloseIdleConnections)
	s.hs = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	tb.Cleanup(s.close)
	return s
}

// URL returns the base URL to pass to tgbot.WithServerURL.
func (s *Server) URL() string { return s.hs.URL }

// close ends pending long polls and delays first, because httptest's Close
// waits for every running handler.
func (s *Server) close() {
	close(s.done)
	s.hs.Close()
}

// notifyLocked wakes every WaitFor and long poll. The caller holds s.mu.
// Waiters take the current channel before checking their condition, so a
// change that happens in between is never missed.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// reply is the outcome of one API call, written as Telegram's envelope.
type reply struct {
	status      int
	result      any
	description string
	retryAfter  int
}

func ok(result any) reply { return reply{status: http.StatusOK, result: result} }

func fail(code int, description string) reply {
	return reply{status: code, description: description}
}

func badRequest(description string) reply {
	return fail(http.StatusBadRequest, "Bad Request: "+description)
}

func notFound() reply { return fail(http.StatusNotFound, "Not Found") }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	token, method, found := splitPath(r.URL.Path)
	if !found {
		writeReply(w, notFound())
		return
	}
	req := Request{Method: method, Token: token, Time: s.now()}
	params, err := readParams(r)
	var rep reply
	if err != nil {
		rep = badRequest(err.Error())
	} else {
		req.Params = params
		rep = s.handle(r.Context(), method, params)
	}
	req.Status = rep.status
	s.record(req)
	writeReply(w, rep)
}

// splitPath takes /bot<token>/<method> (or /bot<token>/test/<method>, the
// test environment's form) apart.
func splitPath(path string) (token, method string, valid bool) {
	rest, found := strings.CutPrefix(path, "/bot")
	if !found {
		return "", "", false
	}
	token, rest, found = strings.Cut(rest, "/")
	rest = strings.TrimPrefix(rest, "test/")
	if !found || token == "" || rest == "" || strings.Contains(rest, "/") {
		return "", "", false
	}
	return token, rest, true
}

// handle applies an injected failure, if one matches, and otherwise runs
// the method. Method names are case-insensitive, as in the Bot API.
func (s *Server) handle(ctx context.Context, method string, p params) reply {
	if f, found := s.takeFailure(method, p); found {
		if !s.sleep(ctx, f.Delay) {
			return fail(http.StatusInternalServerError, "Internal Server Error: request ended during the injected delay")
		}
		if f.Code != 0 {
			return f.reply()
		}
	}
	switch strings.ToLower(method) {
	case "getme":
		return ok(botUser())
	case "setmycommands":
		return s.setMyCommands(p)
	case "deletemycommands":
		return s.deleteMyCommands(p)
	case "getmycommands":
		return s.getMyCommands(p)
	case "setwebhook":
		return s.setWebhook(p)
	case "deletewebhook":
		return s.deleteWebhook(p)
	case "getwebhookinfo":
		return s.getWebhookInfo()
	case "sendmessage":
		return s.sendMessage(p)
	case "editmessagetext":
		return s.editMessageText(p)
	case "deletemessage":
		return s.deleteMessage(p)
	case "answercallbackquery":
		return s.answerCallbackQuery(p)
	case "getupdates":
		return s.getUpdates(ctx, p)
	}
	return notFound()
}

// sleep waits d, or less if the request or the server ends first; it
// reports whether the whole delay passed.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.done:
	}
	return false
}

// envelope is Telegram's response object.
type envelope struct {
	OK          bool                `json:"ok"`
	Result      any                 `json:"result,omitempty"`
	ErrorCode   int                 `json:"error_code,omitempty"`
	Description string              `json:"description,omitempty"`
	Parameters  *responseParameters `json:"parameters,omitempty"`
}

type responseParameters struct {
	RetryAfter int `json:"retry_after,omitempty"`
}

// writeReply writes rep with its error code as the HTTP status, as
// Telegram does.
func writeReply(w http.ResponseWriter, rep reply) {
	env := envelope{OK: rep.status == http.StatusOK, Result: rep.result}
	if !env.OK {
		env.ErrorCode, env.Description = rep.status, rep.description
		if rep.retryAfter > 0 {
			env.Parameters = &responseParameters{RetryAfter: rep.retryAfter}
		}
	}
	body, err := json.Marshal(env)
	if err != nil {
		rep = fail(http.StatusInternalServerError, "Internal Server Error: "+err.Error())
		body, _ = json.Marshal(envelope{ErrorCode: rep.status, Description: rep.description})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	_, _ = w.Write(body) // the client may be gone; nothing to do then
}

func botUser() models.User {
	return models.User{
		ID:            BotID,
		IsBot:         true,
		FirstName:     BotFirstName,
		Username:      BotUsername,
		CanJoinGroups: true,
	}
}
