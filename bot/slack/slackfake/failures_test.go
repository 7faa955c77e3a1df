package slackfake_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/witaj/witaj/bot/slack/slackfake"
)

func post(api *slack.Client, text string) error {
	_, _, err := api.PostMessage("C1", slack.MsgOptionText(text, false))
	if err != nil {
		return fmt.Errorf("post %q: %w", text, err) // wrapped, as callers do
	}
	return nil
}

func TestRateLimitedSurfacesAsRateLimitedError(t *testing.T) {
	srv, api := newClient(t)
	srv.Fail("chat.postMessage", slackfake.Failure{Status: http.StatusTooManyRequests, RetryAfter: 7}, 1)
	err := post(api, "a")
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second {
		t.Fatalf("err = %v, want *slack.RateLimitedError with RetryAfter 7s", err)
	}
	if err := post(api, "b"); err != nil {
		t.Errorf("second post (failure consumed): %v", err)
	}
	if posts := srv.Posts(); len(posts) != 1 || posts[0].Text != "b" {
		t.Errorf("Posts = %+v, want only b", posts)
	}
	reqs := srv.Requests("chat.postMessage")
	if len(reqs) != 2 || reqs[0].Status != http.StatusTooManyRequests || reqs[0].Error != "ratelimited" {
		t.Errorf("Requests = %+v, want a 429 ratelimited then a success", reqs)
	}
}

func TestServerErrorSurfacesAsStatusCodeError(t *testing.T) {
	srv, api := newClient(t)
	srv.Fail("chat.postMessage", slackfake.Failure{Status: http.StatusInternalServerError}, 2)
	for i := range 2 {
		var sce slack.StatusCodeError
		if err := post(api, "a"); !errors.As(err, &sce) || sce.Code != http.StatusInternalServerError {
			t.Errorf("call %d: err = %v, want StatusCodeError 500", i, err)
		}
	}
	if err := post(api, "b"); err != nil {
		t.Errorf("third post: %v", err)
	}
	if n := len(srv.Posts()); n != 1 {
		t.Errorf("%d posts, want 1 (failed calls take no effect)", n)
	}
}

func TestSlackErrorAndMethodMatching(t *testing.T) {
	srv, api := newClient(t)
	srv.Fail("chat.update", slackfake.Failure{Error: "channel_not_found"}, 0) // unrelated method
	srv.Fail("chat.postMessage", slackfake.Failure{Error: "channel_not_found"}, 0)
	for i := range 3 {
		var se slack.SlackErrorResponse
		if err := post(api, "a"); !errors.As(err, &se) || se.Err != "channel_not_found" {
			t.Errorf("call %d: err = %v, want channel_not_found", i, err)
		}
	}
	srv.ClearFailures()
	if err := post(api, "b"); err != nil {
		t.Errorf("after ClearFailures: %v", err)
	}
}

func TestCommitPostsAlthoughTheClientSeesAnError(t *testing.T) {
	srv, api := newClient(t)
	srv.Fail("chat.postMessage", slackfake.Failure{Status: http.StatusServiceUnavailable, Commit: true}, 1)
	if err := post(api, "a"); err == nil {
		t.Fatal("want an error")
	}
	if posts := srv.Posts(); len(posts) != 1 || posts[0].Text != "a" {
		t.Errorf("Posts = %+v, want a (committed)", posts)
	}
}

// TestDelayOutlastingTheClient is the ambiguous timeout: the client gives
// up, but the message was posted.
func TestDelayOutlastingTheClient(t *testing.T) {
	srv, api := newClient(t)
	srv.Fail("chat.postMessage", slackfake.Failure{Delay: time.Hour}, 1)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("a", false))
		errc <- err
	}()
	if _, err := srv.WaitPosts(testContext(t), 1); err != nil {
		t.Fatal(err)
	}
	cancel() // the client gives up while the answer is held back
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestDelayThenAnswer(t *testing.T) {
	srv, api := newClient(t)
	srv.Fail("", slackfake.Failure{Delay: 20 * time.Millisecond}, 1)
	start := time.Now()
	if err := post(api, "a"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Errorf("answered after %v, want at least 20ms", d)
	}
}
