package telegramtest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"

	"github.com/witaj/witaj/bot/telegram/telegramtest"
)

func TestInjectedFailures(t *testing.T) {
	tests := []struct {
		name    string
		failure telegramtest.Failure
		check   func(error) bool
	}{
		{"429", telegramtest.TooManyRequests(7), func(err error) bool {
			tmr, found := errors.AsType[*tgbot.TooManyRequestsError](fmt.Errorf("wrapped: %w", err))
			return found && tmr.RetryAfter == 7
		}},
		{"blocked", telegramtest.Blocked(), func(err error) bool { return errors.Is(err, tgbot.ErrorForbidden) }},
		{"deactivated", telegramtest.Deactivated(), func(err error) bool { return errors.Is(err, tgbot.ErrorForbidden) }},
		{"400", telegramtest.BadRequest("chat not found"), func(err error) bool { return errors.Is(err, tgbot.ErrorBadRequest) }},
		{"500", telegramtest.InternalError(), func(err error) bool { return err != nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			srv := telegramtest.New(t)
			b := newClient(t, srv)
			srv.Fail("sendMessage", 42, tt.failure, 2)
			send := func(chat int64) error {
				_, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: chat, Text: "hi"})
				return err
			}
			if err := send(43); err != nil {
				t.Errorf("another chat failed: %v", err)
			}
			for i := range 2 {
				if err := send(42); !tt.check(err) {
					t.Errorf("send %d: error %v does not match", i+1, err)
				}
			}
			if err := send(42); err != nil {
				t.Errorf("send after the failures were used up: %v", err)
			}
			if got := len(srv.Sent(42)); got != 1 {
				t.Errorf("Sent(42) has %d messages, want 1", got)
			}
			if reqs := srv.RequestsFor("sendMessage"); reqs[1].Status != tt.failure.Code {
				t.Errorf("recorded status %d, want %d", reqs[1].Status, tt.failure.Code)
			}
		})
	}
}

func TestTooManyRequestsWireFormat(t *testing.T) {
	srv := telegramtest.New(t)
	srv.Fail("getUpdates", 0, telegramtest.TooManyRequests(3), 0)
	code, w := post(testContext(t), t, srv, "getUpdates", "application/json", `{}`)
	want := wireResponse{ErrorCode: 429, Description: "Too Many Requests: retry after 3"}
	want.Parameters.RetryAfter = 3
	if code != http.StatusTooManyRequests || w.OK || w.ErrorCode != want.ErrorCode ||
		w.Description != want.Description || w.Parameters != want.Parameters {
		t.Errorf("got %d %+v, want 429 %+v", code, w, want)
	}
	srv.ClearFailures()
	if code, _ := post(testContext(t), t, srv, "getUpdates", "application/json", `{}`); code != http.StatusOK {
		t.Errorf("after ClearFailures getUpdates = %d", code)
	}
}

func TestSlowAnswersAfterTheDelay(t *testing.T) {
	srv := telegramtest.New(t)
	b := newClient(t, srv)
	const delay = 20 * time.Millisecond
	srv.Fail("sendMessage", 0, telegramtest.Slow(delay), 1)
	start := time.Now()
	if _, err := b.SendMessage(testContext(t), &tgbot.SendMessageParams{ChatID: 1, Text: "hi"}); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	if elapsed := time.Since(start); elapsed < delay {
		t.Errorf("answered after %v, want at least %v", elapsed, delay)
	}
}

func TestSlowRespectsTheClientDeadline(t *testing.T) {
	srv := telegramtest.New(t)
	b := newClient(t, srv)
	srv.Fail("sendMessage", 0, telegramtest.Slow(time.Hour), 1)
	ctx, cancel := context.WithTimeout(testContext(t), 50*time.Millisecond)
	defer cancel()
	_, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: 1, Text: "hi"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("SendMessage error = %v, want deadline exceeded", err)
	}
	// The handler gives up when the client leaves; the server must not keep
	// the message.
	if _, err := srv.WaitRequests(testContext(t), "sendMessage", 1); err != nil {
		t.Fatal(err)
	}
	if got := srv.Sent(1); len(got) != 0 {
		t.Errorf("abandoned slow send was recorded: %+v", got)
	}
}

func TestConflict409(t *testing.T) {
	ctx := testContext(t)
	srv := telegramtest.New(t)
	srv.Fail("getUpdates", 0, telegramtest.Conflict409(), 1)
	_, w := post(ctx, t, srv, "getUpdates", "application/json", `{}`)
	if w.ErrorCode != http.StatusConflict {
		t.Errorf("getUpdates = %+v, want 409", w)
	}
	if _, err := newClient(t, srv).SetWebhook(ctx, &tgbot.SetWebhookParams{URL: "https://example.com/hook"}); err != nil {
		t.Fatal(err)
	}
	_, w = post(ctx, t, srv, "getUpdates", "application/json", `{}`)
	if w.ErrorCode != http.StatusConflict {
		t.Errorf("getUpdates with a webhook set = %+v, want 409", w)
	}
}
