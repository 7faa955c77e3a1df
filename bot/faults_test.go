package bot_test

import (
	"errors"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/bot/redis"
	"github.com/witaj/witaj/bot/redis/redistest"
)

// faultHarness is a harness whose store reaches Redis through a proxy
// that loses replies, delays them or pauses, with go-redis's own retries
// off as in production (redis.Connect).
func faultHarness(t *testing.T) (*harness, *redistest.Proxy) {
	t.Helper()
	h := newHarness(t)
	srv := redistest.Start(t)
	proxy := redistest.NewProxy(t, srv.Addr)
	rdb, err := redis.Connect("redis://" + proxy.Addr + "/0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	h.rdb = goredis.NewClient(&goredis.Options{Addr: srv.Addr})
	t.Cleanup(func() { h.rdb.Close() })
	h.store = redis.New(rdb, redis.Options{Retention: time.Hour})
	return h, proxy
}

// TestLostCommitReplyIsAnsweredOnce: Redis runs the commit but its reply
// is lost, and so is the reply to the service's one retry. The update is
// not acknowledged; its redelivery is a duplicate, and the reply stored
// by the first try is sent, once. (With one reply lost, the retry finds
// the commit stored and the update is acknowledged: TestFaults.)
func TestLostCommitReplyIsAnsweredOnce(t *testing.T) {
	h, proxy := faultHarness(t)
	svc := h.service(nil)
	if err := svc.Handle(ctx, command(1, 40, "start", "en")); err != nil {
		t.Fatal(err)
	}
	// begin, then commit: lose the commit's replies.
	u := text(2, 40, "minimum wage")
	proxy.LoseReplyTo([]byte(redis.ScriptSHA("commit")), 2)
	err := svc.Handle(ctx, u)
	if proxy.Lost() != 2 {
		t.Fatalf("the proxy lost %d replies, want the commit's two", proxy.Lost())
	}
	if err == nil {
		t.Fatalf("Handle acknowledged an update whose commit replies were lost")
	}
	// Telegram delivers it again.
	for i := 0; i < 3; i++ {
		if err = svc.Handle(ctx, u); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	stop := h.runSender(t, h.sender(fastSend()))
	got := h.migrants.waitSent(t, 40, 2, 5*time.Second) // welcome, answer
	time.Sleep(100 * time.Millisecond)
	stop()
	if n := len(h.migrants.sentTo(40)); n != 2 {
		t.Errorf("sent %d messages, want 2 (welcome and the answer, once): %v", n, got)
	}
}

// TestCommitFailureFreesTheChat: a commit that fails (Redis unreachable)
// releases the chat's lock, so the redelivery is handled at once instead
// of waiting out the lease.
func TestCommitFailureFreesTheChat(t *testing.T) {
	h, proxy := faultHarness(t)
	svc := h.service(nil)
	// The commit never reaches Redis, nor its retry: the connection
	// breaks on the way.
	proxy.DropRequestTo([]byte(redis.ScriptSHA("commit")), 2)
	if err := svc.Handle(ctx, text(1, 41, "hello")); err == nil {
		t.Fatal("Handle succeeded though its commit failed")
	}
	lock, _ := h.rdb.Get(ctx, "witaj:{chat:41}:lock").Result()
	if lock != "" {
		t.Errorf("chat still locked after a failed commit")
	}
	start := time.Now()
	if err := svc.Handle(ctx, text(2, 41, "hello again")); err != nil && !errors.Is(err, bot.ErrBusy) {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the next update waited %v for the lock", d)
	}
}

// TestLostSentMarkIsRetried: a message goes out, but recording it fails
// (the request or the reply is lost on the way). The sender records it
// again instead of leaving it first in the outbox, where the next claim
// of the chat would send it a second time.
func TestLostSentMarkIsRetried(t *testing.T) {
	for _, lose := range []string{"request", "reply"} {
		t.Run(lose, func(t *testing.T) {
			h, proxy := faultHarness(t)
			svc := h.service(nil)
			if err := svc.Handle(ctx, command(1, 42, "start", "en")); err != nil {
				t.Fatal(err)
			}
			pop := []byte(redis.ScriptSHA("pop"))
			if lose == "request" {
				proxy.DropRequestTo(pop, 2)
			} else {
				proxy.LoseReplyTo(pop, 2)
			}
			cfg := fastSend()
			cfg.Lease = 200 * time.Millisecond // a lost mark would resend soon after
			stop := h.runSender(t, h.sender(cfg))
			h.migrants.waitSent(t, 42, 1, 5*time.Second)
			time.Sleep(time.Second)
			stop()
			if n := len(h.migrants.sentTo(42)); n != 1 {
				t.Errorf("the welcome was sent %d times, want once", n)
			}
			if n, _ := h.rdb.LLen(ctx, "witaj:{chat:42}:out").Result(); n != 0 {
				t.Errorf("%d messages left in the outbox", n)
			}
		})
	}
}
