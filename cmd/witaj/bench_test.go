package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/bot/redis"
	"github.com/witaj/witaj/bot/redis/redistest"
	"github.com/witaj/witaj/bot/telegram"
	"github.com/witaj/witaj/bot/telegram/telegramtest"
	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
	"github.com/witaj/witaj/locales"
)

// roundTrips counts a client's round trips to Redis: one per command or
// pipeline sent.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (r *roundTrips) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error { r.n.Add(1); return next(ctx, cmd) }
}
func (r *roundTrips) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error { r.n.Add(1); return next(ctx, cmds) }
}

// BenchmarkWebhookPath measures the whole path of an update: webhook
// request → engine → Redis → fake Telegram. Updates come from many chats
// in parallel; the send rates are raised because this measures witaj's own
// capacity, not Telegram's limit. Reported: updates per second, p50/p99
// time from request to 200 (the update stored), and Redis round trips per
// update for handling and for sending.
func BenchmarkWebhookPath(b *testing.B) {
	srv := redistest.Start(b)
	tg := telegramtest.New(b)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	handleRT, sendRT := &roundTrips{}, &roundTrips{}
	newStore := func(h *roundTrips) *redis.Store {
		c := goredis.NewClient(&goredis.Options{Addr: srv.Addr, PoolSize: 64})
		c.AddHook(h)
		b.Cleanup(func() { c.Close() })
		return redis.New(c, redis.Options{})
	}
	base, _, err := knowledge.Load(knowledge.DefaultFS(), knowledge.Options{})
	if err != nil {
		b.Fatal(err)
	}
	cat, _ := locales.New()
	faq := &bot.FAQ{Engine: flows.New(base, knowledge.NewMatcher(base, knowledge.DefaultThresholds()), flows.DefaultConfig()), Render: bot.NewRenderer(base, cat)}
	client, err := telegram.NewClient("1:bench", tg.URL(), log, nil)
	if err != nil {
		b.Fatal(err)
	}
	sendCfg := bot.DefaultSendConfig()
	sendCfg.Rate, sendCfg.RatePerChat, sendCfg.Workers = 100000, 100000, 32
	sender := bot.NewSender(newStore(sendRT), client, sendCfg, log, nil)
	svc := bot.NewService(newStore(handleRT), client, nil, faq, bot.DefaultConfig(), log, nil, sender.Wake())
	hook := httptest.NewServer(telegram.NewWebhook("s", svc, nil, log, nil))
	b.Cleanup(hook.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sender.Run(ctx); close(done) }()
	b.Cleanup(func() { cancel(); <-done })

	questions := []string{"jak dostać pesel", "my residence card was stolen", "як знайти роботу в гданську", "минимальная зарплата 2026", "free polish courses"}
	var (
		mu   sync.Mutex
		lats []time.Duration
		next atomic.Int64
	)
	b.SetParallelism(8)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			i := next.Add(1)
			user := telegramtest.User(10000+i%500, "B", "pl")
			u := tg.Stamp(telegramtest.Text(user, questions[i%int64(len(questions))]))
			t0 := time.Now()
			resp, err := tg.PostWebhook(context.Background(), hook.URL, "s", u)
			if err != nil {
				b.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lats = append(lats, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lats)
	n := float64(len(lats))
	b.ReportMetric(n/elapsed.Seconds(), "updates/s")
	b.ReportMetric(float64(lats[len(lats)/2].Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(lats[len(lats)*99/100].Microseconds())/1000, "p99_ms")
	b.ReportMetric(float64(handleRT.n.Load())/n, "redis_rt/update")
	// Wait for the sender to finish before counting its round trips.
	waitCtx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	_ = tg.WaitFor(waitCtx, func(s *telegramtest.Server) bool { return len(s.RequestsFor("sendMessage")) >= len(lats) })
	b.ReportMetric(float64(sendRT.n.Load())/n, "send_rt/update")
}
