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
