package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/witaj/witaj/bot/slack/slackfake"
	"github.com/witaj/witaj/bot/telegram/telegramtest"
)

// TestSlackPacing: ten migrants with a case each send three messages at
// once, 30 relays into one channel. Every request to the channel comes at
// least the configured interval after the one before (WITAJ_SLACK_RATE=5:
// 200 ms; production's 1/s is the same code with a longer interval) and
// the median gap stays near it; a 429 with Retry-After: 2 halfway keeps
// the channel quiet for 2 s; each thread gets its three messages once, in
// the order sent.
func TestSlackPacing(t *testing.T) {
	if testing.Short() {
		t.Skip("about 15 s of paced posting")
	}
	const (
		rate       = 5 // WITAJ_SLACK_RATE
		interval   = time.Second / rate
		cases      = 10
		perCase    = 3
		retryAfter = 2 // seconds
	)
	d := startDeskEnv(t, "en", 720, map[string]string{"WITAJ_SLACK_RATE": strconv.Itoa(rate)})
	users := make([]models.User, cases)
	for i := range users {
		users[i] = telegramtest.User(int64(720+i), "M", "en")
		d.tg.QueueUpdate(telegramtest.Command(users[i], "start", "en"))
		d.tg.QueueUpdate(telegramtest.Command(users[i], "human", ""))
		d.tg.QueueUpdate(telegramtest.Callback(users[i], fmt.Sprintf("c%d", i), "consent:yes", 1))
	}
	parents := d.posts(cases)
	chatOf := map[string]int64{} // thread ts -> chat
	for _, p := range parents {
		chat, err := d.rdb.Get(context.Background(), "witaj:thread:"+p.Channel+":"+p.TS).Int64()
		if err != nil {
			t.Fatalf("thread %s: %v", p.TS, err)
		}
		chatOf[p.TS] = chat
	}

	for n := range perCase {
		for i, u := range users {
			d.tg.QueueUpdate(telegramtest.Text(u, fmt.Sprintf("case %d message %d", i, n)))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	relays := func(s *slackfake.Server) int {
		n := 0
		for _, p := range s.Posts() {
			if p.ThreadTS != "" && strings.Contains(p.Text, " message ") {
				n++
			}
		}
		return n
	}
	if err := d.slack.WaitFor(ctx, func(s *slackfake.Server) bool { return relays(s) >= 5 }); err != nil {
		t.Fatal(err)
	}
	d.slack.Fail("chat.postMessage", slackfake.Failure{Status: http.StatusTooManyRequests, RetryAfter: retryAfter}, 1)
	if err := d.slack.WaitFor(ctx, func(s *slackfake.Server) bool { return relays(s) >= cases*perCase }); err != nil {
		t.Fatalf("%d of %d relays posted: %v", relays(d.slack), cases*perCase, err)
	}

	var reqs []slackfake.Request
	for _, r := range d.slack.Requests("chat.postMessage") {
		if r.Params.Get("channel") == consultants {
			reqs = append(reqs, r)
		}
	}
	limited, gaps := 0, []time.Duration{}
	for i := 1; i < len(reqs); i++ {
		gap := reqs[i].Time.Sub(reqs[i-1].Time)
		if reqs[i-1].Status == http.StatusTooManyRequests {
			limited++
			if gap < retryAfter*time.Second {
				t.Errorf("request %d came %v after a 429 with Retry-After: %d", i, gap, retryAfter)
			}
			continue
		}
		gaps = append(gaps, gap)
		if gap < interval*9/10 {
			t.Errorf("request %d came %v after the one before, want at least %v", i, gap, interval)
		}
	}
	if limited != 1 {
		t.Errorf("%d requests answered 429, want 1", limited)
	}
	slices.Sort(gaps)
	median := gaps[len(gaps)/2]
	t.Logf("%d requests to %s, gaps: min %v, median %v, max %v", len(reqs), consultants, gaps[0], median, gaps[len(gaps)-1])
	if median > interval*3/2 {
		t.Errorf("median gap %v: posting far slower than the configured %v", median, interval)
	}

	threads := map[int64][]string{}
	for _, p := range d.slack.Posts() {
		if p.ThreadTS != "" && strings.Contains(p.Text, " message ") {
			threads[chatOf[p.ThreadTS]] = append(threads[chatOf[p.ThreadTS]], p.Text)
		}
	}
	for i := range users {
		got := threads[int64(720+i)]
		var want []string
		for n := range perCase {
			want = append(want, fmt.Sprintf("💬 Migrant: case %d message %d", i, n))
		}
		if !slices.Equal(got, want) {
			t.Errorf("thread of case %d:\n got %q\nwant %q", i, got, want)
		}
	}
	// The last post is taken off the queue once Slack's answer is in.
	queue := "witaj:{slack:" + consultants + "}:out"
	for n := d.rdb.LLen(ctx, queue).Val(); n != 0; n = d.rdb.LLen(ctx, queue).Val() {
		if ctx.Err() != nil {
			t.Fatalf("%d requests still queued for Slack", n)
		}
		time.Sleep(10 * time.Millisecond) // Redis has no event to wait on
	}
}

// TestSlackRateDefault: unless configured otherwise, witaj posts at most
// once a second per channel, Slack's limit for chat.postMessage (the
// interval TestSlackPacing checks at a faster rate).
func TestSlackRateDefault(t *testing.T) {
	env := map[string]string{"WITAJ_TELEGRAM_TOKEN": "123:test", "WITAJ_SLACK_BOT_TOKEN": "xoxb-test",
		"WITAJ_SLACK_CHANNEL": consultants, "WITAJ_SLACK_SIGNING_SECRET": slackSecret}
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SlackRate != 1 {
		t.Errorf("default Slack rate %v posts/s per channel, want 1", cfg.SlackRate)
	}
}
