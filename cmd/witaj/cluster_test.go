package main

import (
	"context"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/witaj/witaj/bot/redis/redistest"
	"github.com/witaj/witaj/bot/telegram/telegramtest"
)

// TestServeOnCluster: witaj serve on a 3-master Redis Cluster answers
// every update once, with the chats' keys spread over all masters (so
// that every script really runs where its hash slot lives).
func TestServeOnCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the built binary")
	}
	t.Parallel()
	cluster := redistest.StartCluster(t, 3)
	tg := telegramtest.New(t)
	env := map[string]string{
		"WITAJ_TELEGRAM_TOKEN":     "123:test",
		"WITAJ_TELEGRAM_API_URL":   tg.URL(),
		"WITAJ_REDIS_URL":          "redis+cluster://" + cluster.Addrs[0] + "?addr=" + cluster.Addrs[1] + "&addr=" + cluster.Addrs[2],
		"WITAJ_ADMIN_LISTEN":       freeAddr(t),
		"WITAJ_LISTEN":             freeAddr(t),
		"WITAJ_SEND_RATE":          "1000",
		"WITAJ_SEND_RATE_PER_CHAT": "1000",
		"WITAJ_LOG_FORMAT":         "json",
	}
	p := startProc(t, env)
	defer p.stop()
	const chats, perChat = 30, 3
	ids := chatIDs(9600, chats)
	for range perChat {
		for _, id := range ids {
			tg.QueueUpdate(telegramtest.Command(telegramtest.User(id, "Test", "en"), "help", ""))
		}
	}
	r := &faultRig{t: t, tg: tg}
	r.settle(ids, perChat, 30*time.Second)
	lost, dup := r.tally(ids, perChat)
	if lost+dup > 0 {
		t.Errorf("on the cluster: %d replies lost, %d duplicated\n%s", lost, dup, tail(p.stderr.String(), 20))
	}
	// Every master holds some chats' sessions.
	for _, addr := range cluster.Addrs {
		rdb := goredis.NewClient(&goredis.Options{Addr: addr})
		keys, err := rdb.Keys(context.Background(), "witaj:{chat:*}:session").Result()
		rdb.Close()
		if err != nil || len(keys) == 0 {
			t.Errorf("master %s holds no chat sessions (%v): the chats were not spread", addr, err)
		}
	}
	if strings.Contains(p.stderr.String(), "CROSSSLOT") {
		t.Errorf("a command crossed hash slots:\n%s", tail(p.stderr.String(), 20))
	}
}

// TestSentinelFailover: witaj serve on Sentinel (a master, a replica,
// three sentinels) while updates flow; the master is killed. witaj
// follows the failover; every update is answered, none twice, and the
// pause in replies is measured.
func TestSentinelFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the built binary")
	}
	t.Parallel()
	s := redistest.StartSentinel(t)
	tg := telegramtest.New(t)
	env := map[string]string{
		"WITAJ_TELEGRAM_TOKEN":     "123:test",
		"WITAJ_TELEGRAM_API_URL":   tg.URL(),
		"WITAJ_REDIS_URL":          s.URL(),
		"WITAJ_ADMIN_LISTEN":       freeAddr(t),
		"WITAJ_LISTEN":             freeAddr(t),
		"WITAJ_SEND_RATE":          "1000",
		"WITAJ_SEND_RATE_PER_CHAT": "1000",
		"WITAJ_LOG_FORMAT":         "json",
	}
	p := startProc(t, env)
	defer p.stop()
	const chats, rounds = 20, 12
	ids := chatIDs(9700, chats)
	var killed time.Time
	for round := range rounds {
		for _, id := range ids {
			tg.QueueUpdate(telegramtest.Command(telegramtest.User(id, "Test", "en"), "help", ""))
		}
		if round == 3 {
			time.Sleep(200 * time.Millisecond)
			killed = time.Now()
			s.Master.Stop()
		}
		time.Sleep(300 * time.Millisecond)
	}
	r := &faultRig{t: t, tg: tg}
	r.settle(ids, rounds, 60*time.Second)
	lost, dup := r.tally(ids, rounds)
	// The pause: the longest gap between replies after the kill.
	var gap time.Duration
	last := killed
	for _, req := range tg.RequestsFor("sendMessage") {
		if req.Time.Before(killed) {
			continue
		}
		gap = max(gap, req.Time.Sub(last))
		last = req.Time
	}
	master, _ := s.MasterAddr(context.Background())
	t.Logf("failover: master %s → %s; longest pause in replies %v; %d updates, lost %d, duplicated %d",
		s.Master.Addr, master, gap.Round(10*time.Millisecond), chats*rounds, lost, dup)
	if master == s.Master.Addr {
		t.Fatalf("the sentinels did not fail over")
	}
	if lost > 0 || dup > 0 {
		t.Errorf("through the failover: %d replies lost, %d duplicated\n%s", lost, dup, tail(p.stderr.String(), 30))
	}
	if gap > 30*time.Second {
		t.Errorf("replies paused %v", gap)
	}
}
