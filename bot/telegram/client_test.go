package telegram

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/bot/telegram/telegramtest"
	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge/markup"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTestClient(t *testing.T) (*Client, *telegramtest.Server) {
	t.Helper()
	srv := telegramtest.New(t)
	c, err := NewClient("123:secret-token", srv.URL(), quiet(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSendAndErrors(t *testing.T) {
	c, srv := newTestClient(t)
	ctx := waitCtx(t)
	msg := c.Format(bot.Message{Doc: markup.PlainDoc("Tom & Jerry <b> [x](y) \\ _*"), Buttons: [][]bot.Button{{{Label: "Menu", Data: "menu"}}}})
	if err := c.Send(ctx, 42, msg[0]); err != nil {
		t.Fatalf("Send: %v", err)
	}
	sent := srv.Sent(42)
	if len(sent) != 1 || sent[0].Visible != "Tom & Jerry <b> [x](y) \\ _*" || sent[0].ParseMode != "HTML" {
		t.Fatalf("sent %+v", sent)
	}
	if len(sent[0].Keyboard) != 1 || sent[0].Keyboard[0][0].CallbackData != "menu" {
		t.Errorf("keyboard %+v", sent[0].Keyboard)
	}
	// FAQ answers link official pages: no preview card under each.
	if reqs := srv.RequestsFor("sendMessage"); len(reqs) != 1 || !strings.Contains(reqs[0].Params["link_preview_options"], `"is_disabled":true`) {
		t.Errorf("link previews not disabled: %+v", reqs)
	}
	tests := []struct {
		f     telegramtest.Failure
		check func(error) bool
	}{
		{telegramtest.TooManyRequests(3), func(err error) bool {
			var r *bot.RetryAfterError
			return errors.As(err, &r) && r.After == 3*time.Second
		}},
		{telegramtest.Blocked(), func(err error) bool { return errors.Is(err, bot.ErrBlocked) }},
		{telegramtest.Deactivated(), func(err error) bool { return errors.Is(err, bot.ErrBlocked) }},
		{telegramtest.BadRequest("Bad Request: chat not found"), func(err error) bool { return errors.Is(err, bot.ErrRejected) }},
		{telegramtest.InternalError(), func(err error) bool {
			return err != nil && !errors.Is(err, bot.ErrBlocked) && !errors.Is(err, bot.ErrRejected)
		}},
	}
	for _, tt := range tests {
		srv.Fail("sendMessage", 43, tt.f, 1)
		err := c.Send(ctx, 43, msg[0])
		if !tt.check(err) {
			t.Errorf("failure %+v: Send error %v", tt.f, err)
		}
		if err != nil && strings.Contains(err.Error(), "secret-token") {
			t.Errorf("error leaks the token: %v", err)
		}
	}
}

func TestSetCommands(t *testing.T) {
	c, srv := newTestClient(t)
	err := c.SetCommands(waitCtx(t), []string{"pl", "uk"}, []string{"start", "help"}, func(lang, cmd string) string { return lang + ":" + cmd })
	if err != nil {
		t.Fatal(err)
	}
	reqs := srv.RequestsFor("setMyCommands")
	if len(reqs) != 3 {
		t.Fatalf("%d setMyCommands calls, want default + 2 languages", len(reqs))
	}
	if reqs[1].Params["language_code"] != "pl" || !strings.Contains(reqs[1].Params["commands"], "pl:help") {
		t.Errorf("second call %+v", reqs[1].Params)
	}
}

// recorder is a Handler that records updates and fails as told.
type recorder struct {
	mu      sync.Mutex
	got     []bot.Update
	fail    error
	release chan struct{} // when set, Handle waits for it
}

func (r *recorder) Handle(ctx context.Context, u bot.Update) error {
	if r.release != nil {
		<-r.release
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.got = append(r.got, u)
	return nil
}

func (r *recorder) updates() []bot.Update {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bot.Update(nil), r.got...)
}

func TestWebhook(t *testing.T) {
	c, srv := newTestClient(t)
	rec := &recorder{}
	hook := httptest.NewServer(NewWebhook("s3cret", rec, c, quiet(), nil))
	t.Cleanup(hook.Close)
	ctx := waitCtx(t)
	user := telegramtest.User(7, "Olena", "uk")
	post := func(secret string, text string) int {
		resp, err := srv.PostWebhook(ctx, hook.URL, secret, telegramtest.Text(user, text))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("", "no secret"); code != http.StatusUnauthorized {
		t.Errorf("missing secret: %d", code)
	}
	if code := post("wrong", "wrong secret"); code != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d", code)
	}
	if n := len(rec.updates()); n != 0 {
		t.Fatalf("%d updates processed without the secret", n)
	}
	if code := post("s3cret", "pesel"); code != http.StatusOK {
		t.Errorf("right secret: %d", code)
	}
	rec.mu.Lock()
	rec.fail = errors.New("redis down")
	rec.mu.Unlock()
	if code := post("s3cret", "pesel again"); code != http.StatusInternalServerError {
		t.Errorf("store failure: %d, want 500 so Telegram retries", code)
	}
	rec.mu.Lock()
	rec.fail = bot.ErrBusy
	rec.mu.Unlock()
	if code := post("s3cret", "busy"); code != http.StatusServiceUnavailable {
		t.Errorf("busy chat: %d, want 503", code)
	}
	got := rec.updates()
	if len(got) != 1 || got[0].Event.Kind != flows.TextMessage || got[0].Event.Text != "pesel" {
		t.Errorf("handled %+v", got)
	}
	// Malformed bodies never crash and are acknowledged.
	req, _ := http.NewRequest(http.MethodPost, hook.URL, http.NoBody)
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "s3cret")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("empty body: %v %v", resp, err)
	}
}

// TestSendTimeoutMayHaveSent: a send that gets no answer in time ends
// well inside the sender's lease and says the message may have arrived.
func TestSendTimeoutMayHaveSent(t *testing.T) {
	c, srv := newTestClient(t)
	c.sendTimeout = 50 * time.Millisecond
	srv.Fail("sendMessage", 0, telegramtest.Slow(time.Second), 1)
	start := time.Now()
	err := c.Send(waitCtx(t), 7, bot.OutMessage{ID: "1-0", Text: "hi"})
	if !errors.Is(err, bot.ErrMaybeSent) {
		t.Fatalf("Send = %v, want ErrMaybeSent", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("Send took %v", d)
	}
	if err := c.Send(waitCtx(t), 7, bot.OutMessage{ID: "1-0", Text: "hi"}); err != nil {
		t.Fatalf("second Send: %v", err)
	}
}

// TestWebhookAnswersButtonPresses: a button press is answered (its
// spinner stops) even when Telegram answers more slowly than the update
// is stored, and Wait waits for that.
func TestWebhookAnswersButtonPresses(t *testing.T) {
	c, srv := newTestClient(t)
	srv.Fail("answerCallbackQuery", 0, telegramtest.Slow(50*time.Millisecond), 0)
	wh := NewWebhook("s3cret", &recorder{}, c, quiet(), nil)
	hook := httptest.NewServer(wh)
	t.Cleanup(hook.Close)
	ctx := waitCtx(t)
	user := telegramtest.User(7, "Olena", "uk")
	for i := range 5 {
		resp, err := srv.PostWebhook(ctx, hook.URL, "s3cret", telegramtest.Callback(user, fmt.Sprintf("cb%d", i), "menu", 1))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	wh.Wait()
	if n := len(srv.Answers()); n != 5 {
		t.Errorf("%d of 5 button presses answered", n)
	}
}

// TestPollerConfirmsAfterStore: the poller asks for a higher offset (which
// confirms the update to Telegram) only after the update is stored.
func TestPollerConfirmsAfterStore(t *testing.T) {
	c, srv := newTestClient(t)
	rec := &recorder{release: make(chan struct{})}
	p := NewPoller(c, rec, alwaysLead{}, "me", quiet())
	p.Retry = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	id := srv.QueueUpdate(telegramtest.Text(telegramtest.User(9, "Ivan", "ru"), "песель"))
	wctx := waitCtx(t)
	if _, err := srv.WaitRequests(wctx, "getUpdates", 1); err != nil {
		t.Fatal(err)
	}
	for _, off := range srv.Offsets() {
		if off > id {
			t.Fatalf("offset %d confirmed update %d before it was stored", off, id)
		}
	}
	close(rec.release)
	err := srv.WaitFor(wctx, func(s *telegramtest.Server) bool {
		for _, off := range s.Offsets() {
			if off > id {
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("update never confirmed: %v", err)
	}
	if got := rec.updates(); len(got) != 1 || got[0].Event.Text != "песель" {
		t.Errorf("handled %+v", got)
	}
}

type alwaysLead struct{}

func (alwaysLead) Lead(context.Context, string, string, time.Duration) (bool, error) {
	return true, nil
}

// TestPollerKeepsFailedUpdates: an update the service could not store is
// not confirmed; the poller tries it again until it is stored.
func TestPollerKeepsFailedUpdates(t *testing.T) {
	c, srv := newTestClient(t)
	rec := &recorder{fail: errors.New("redis down")}
	p := NewPoller(c, rec, alwaysLead{}, "me", quiet())
	p.Retry = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	id := srv.QueueUpdate(telegramtest.Text(telegramtest.User(9, "Ivan", "ru"), "песель"))
	wctx := waitCtx(t)
	if _, err := srv.WaitRequests(wctx, "getUpdates", 3); err != nil {
		t.Fatal(err)
	}
	for _, off := range srv.Offsets() {
		if off > id {
			t.Fatalf("offset %d confirmed update %d, which was never stored", off, id)
		}
	}
	rec.mu.Lock()
	rec.fail = nil
	rec.mu.Unlock()
	err := srv.WaitFor(wctx, func(s *telegramtest.Server) bool {
		return slices.ContainsFunc(s.Offsets(), func(o int64) bool { return o > id })
	})
	if err != nil {
		t.Fatalf("update never confirmed once stored: %v", err)
	}
	if got := rec.updates(); len(got) != 1 {
		t.Errorf("handled %d times once stored, want 1", len(got))
	}
}
