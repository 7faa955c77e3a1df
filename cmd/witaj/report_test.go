package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/witaj/witaj/bot/redis"
	"github.com/witaj/witaj/bot/redis/redistest"
)

// TestReportCommand: witaj report prints the week's figures from the
// service's Redis, and refuses a bad --days.
func TestReportCommand(t *testing.T) {
	srv := redistest.Start(t)
	store := redis.New(srv.Client(t), redis.Options{})
	now := time.Now()
	store.CountDay(context.Background(), now, map[string]int64{"conv:uk": 7, "decision:answer": 9, "decision:suggest": 1, "topic:legal.pesel": 5, "cases:opened": 2})
	store.RecordClaim(context.Background(), now, 3*time.Minute)
	env := map[string]string{"WITAJ_REDIS_URL": "redis://" + srv.Addr}
	out, errOut, err := witaj(t, env, "report", "--days", "7")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	for _, want := range []string{"uk 7", "answered directly: 90%", "1. legal.pesel", "2 opened", "median time to claim 3m0s"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	_, _, err = witaj(t, env, "report", "--days", "0")
	if err != errUsage {
		t.Errorf("--days 0: %v, want a usage error", err)
	}
	if _, _, err := witaj(t, map[string]string{}, "report"); err == nil || !strings.Contains(err.Error(), "WITAJ_REDIS_URL") {
		t.Errorf("without WITAJ_REDIS_URL: %v", err)
	}
}
