package main

import (
	"context"
	"io"

	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	goredis "github.com/redis/go-redis/v9"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/bot/redis"
	"github.com/witaj/witaj/bot/redis/redistest"
	"github.com/witaj/witaj/bot/slack/slackfake"
	"github.com/witaj/witaj/bot/telegram"
	"github.com/witaj/witaj/bot/telegram/telegramtest"
	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
	"github.com/witaj/witaj/locales"
)

// redisCount counts a client's traffic to Redis: round trips (one per
// command or pipeline sent) and commands (a pipeline's each; a script
// call is one).
type redisCount struct{ trips, cmds atomic.Int64 }

func (r *redisCount) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (r *redisCount) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		r.trips.Add(1)
		r.cmds.Add(1)
		return next(ctx, cmd)
	}
}
func (r *redisCount) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		r.trips.Add(1)
		r.cmds.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

func (r *redisCount) reset() { r.trips.Store(0); r.cmds.Store(0) }

// benchRig is the whole serving path of one replica: webhook → engine →
// Redis (a real redis-server) → sender → fake Telegram.
type benchRig struct {
	redis        *goredis.Client // uncounted, for INFO
	tg           *telegramtest.Server
	hook         string
	handle, send *redisCount // nil when witaj runs in a process of its own
	questions    map[knowledge.Lang][]string
	// mallocs, when set, counts witaj's allocations so far in its own
	// process; otherwise this process's are counted, harness included.
	mallocs func() uint64
	// cpu, when set, is witaj's CPU time so far in its own process.
	cpu func() time.Duration
}

func newBenchRig(b *testing.B, sendCfg bot.SendConfig) *benchRig {
	return newBenchRigOn(b, sendCfg, redistest.Start(b).Addr)
}

// newBenchRigOn is newBenchRig on the Redis at addr.
func newBenchRigOn(b *testing.B, sendCfg bot.SendConfig, addr string) *benchRig {
	r := &benchRig{redis: goredis.NewClient(&goredis.Options{Addr: addr}), tg: telegramtest.New(b), handle: &redisCount{}, send: &redisCount{}, questions: faqQuestions(b)}
	b.Cleanup(func() { r.redis.Close() })
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	newStore := func(h *redisCount) *redis.Store {
		c := goredis.NewClient(&goredis.Options{Addr: addr, PoolSize: 64})
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
	client, err := telegram.NewClient("1:bench", r.tg.URL(), log, nil)
	if err != nil {
		b.Fatal(err)
	}
	sender := bot.NewSender(newStore(r.send), client, sendCfg, log, nil)
	svc := bot.NewService(newStore(r.handle), client, nil, faq, bot.DefaultConfig(), log, nil, sender.Wake())
	svc.HandOff(sender)
	hs := httptest.NewServer(telegram.NewWebhook("s", svc, nil, log, nil))
	b.Cleanup(hs.Close)
	r.hook = hs.URL
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sender.Run(ctx); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	return r
}

// faqQuestions are real questions: the FAQ's own examples, every topic,
// every language.
func faqQuestions(b *testing.B) map[knowledge.Lang][]string {
	base, _, err := knowledge.Load(knowledge.DefaultFS(), knowledge.Options{})
	if err != nil {
		b.Fatal(err)
	}
	qs := map[knowledge.Lang][]string{}
	for _, e := range base.Entries() {
		for lang, q := range e.Questions {
			qs[lang] = append(qs[lang], q...)
		}
	}
	return qs
}

var benchLangs = []knowledge.Lang{"pl", "en", "uk", "ru"}

// post delivers one update and fails the benchmark on anything but 200.
func (r *benchRig) post(b *testing.B, u models.Update) {
	resp, err := r.tg.PostWebhook(context.Background(), r.hook, "s", u)
	if err != nil {
		b.Fatal(err)
	}
	// Read to the end, so that the connection is used again.
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("webhook status %d", resp.StatusCode)
	}
}

// chooseLanguages starts chats and has each choose its language, as a
// user does before asking, and waits until the welcome is sent.
func (r *benchRig) chooseLanguages(b *testing.B, chats []int64) {
	for i, id := range chats {
		lang := benchLangs[i%len(benchLangs)]
		user := telegramtest.User(id, "B", "")
		r.post(b, r.tg.Stamp(telegramtest.Command(user, "start", "")))
		r.post(b, r.tg.Stamp(telegramtest.Callback(user, "cb"+strconv.FormatInt(id, 10), "lang:"+string(lang), 1)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := r.tg.WaitFor(ctx, func(s *telegramtest.Server) bool {
		for _, id := range chats {
			if len(s.Sent(id)) < 2 { // the language prompt, the welcome
				return false
			}
		}
		return true
	})
	if err != nil {
		b.Fatal("chats did not get their welcome")
	}
}

// sample is one timed update: its chat, when it was posted, and how long
// the webhook took to answer 200.
type sample struct {
	chat    int64
	posted  time.Time
	webhook time.Duration
}

// run posts b.N real questions from the chats, parallel senders at a
// time, and reports the figures.
func (r *benchRig) run(b *testing.B, chats []int64, parallel int) {
	langOf := map[int64]knowledge.Lang{}
	for i, id := range chats {
		langOf[id] = benchLangs[i%len(benchLangs)]
	}
	before := r.tg.Count("sendMessage")
	if r.handle != nil {
		r.handle.reset()
		r.send.reset()
	}
	calls0 := r.serverCalls(b)
	if testing.Verbose() && calls0 >= 0 {
		// Zero the counts, so that the log below shows this run's
		// commands alone.
		if err := r.redis.ConfigResetStat(context.Background()).Err(); err != nil {
			b.Fatal(err)
		}
		calls0 = 0
	}
	var (
		mu      sync.Mutex
		samples []sample
		next    atomic.Int64
		ms0     runtime.MemStats
	)
	runtime.ReadMemStats(&ms0)
	// WITAJ_BENCH_PROFILE=prefix writes the allocation profile before and
	// after the timed part (go test -memprofilerate=512): compare them
	// with go tool pprof -diff_base to see the answer path alone.
	profile := os.Getenv("WITAJ_BENCH_PROFILE")
	writeAllocs(b, profile, "before")
	var own0 uint64
	if r.mallocs != nil {
		own0 = r.mallocs()
	}
	cpu0 := r.cpuTimes(b)
	b.SetParallelism(max(1, parallel/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []sample
		for pb.Next() {
			i := next.Add(1)
			id := chats[i%int64(len(chats))]
			qs := r.questions[langOf[id]]
			u := r.tg.Stamp(telegramtest.Text(telegramtest.User(id, "B", ""), qs[(i/int64(len(chats)))*7919%int64(len(qs))]))
			t0 := time.Now()
			r.post(b, u)
			mine = append(mine, sample{chat: id, posted: t0, webhook: time.Since(t0)})
		}
		mu.Lock()
		samples = append(samples, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	// Every update is answered with at least one message: wait for them.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	_ = r.tg.WaitFor(ctx, func(s *telegramtest.Server) bool {
		// Count, not RequestsFor: this runs on every request, and copying
		// them all each time cost more than witaj itself.
		return s.Count("sendMessage")-before >= len(samples)
	})
	answered := time.Since(start)
	b.StopTimer()
	calls := r.serverCalls(b) - calls0
	if calls0 < 0 {
		calls = -1 // the embedded Redis keeps no command counts
	}
	if testing.Verbose() && calls0 >= 0 {
		info, _ := r.redis.Info(context.Background(), "commandstats").Result()
		b.Log(info)
	}
	writeAllocs(b, profile, "after")
	var ms1 runtime.MemStats
	runtime.ReadMemStats(&ms1)
	var own1 uint64
	if r.mallocs != nil {
		own1 = r.mallocs()
	}
	cpu1 := r.cpuTimes(b)
	n := float64(len(samples))
	b.ReportMetric(n/elapsed.Seconds(), "received/s")
	b.ReportMetric(n/answered.Seconds(), "answered/s")
	if calls >= 0 {
		b.ReportMetric(float64(calls)/n, "redis_calls/update")
	}
	hook := make([]time.Duration, len(samples))
	for i, s := range samples {
		hook[i] = s.webhook
	}
	reportQuantiles(b, hook, "webhook")
	reportQuantiles(b, r.replyLatencies(samples), "reply")
	if r.handle != nil {
		b.ReportMetric(float64(r.handle.trips.Load()+r.send.trips.Load())/n, "redis_rt/update")
		b.ReportMetric(float64(r.handle.cmds.Load()+r.send.cmds.Load())/n, "redis_cmds/update")
		b.ReportMetric(float64(r.send.trips.Load())/n, "send_rt/update")
	}
	// Where the 2 cores went, per update: with witaj in its own process
	// it shows how much of the machine the load and Redis leave it.
	if cpu0.witaj >= 0 {
		b.ReportMetric(float64((cpu1.witaj-cpu0.witaj).Microseconds())/n, "witaj_cpu_us/update")
	}
	if cpu0.redis >= 0 {
		b.ReportMetric(float64((cpu1.redis-cpu0.redis).Microseconds())/n, "redis_cpu_us/update")
	}
	b.ReportMetric(float64((cpu1.self-cpu0.self).Microseconds())/n, "harness_cpu_us/update")
	if r.mallocs != nil {
		// witaj's process alone (its /metrics scraped twice, a few
		// hundred allocations, is in it).
		b.ReportMetric(float64(own1-own0)/n, "witaj_allocs/update")
		return
	}
	// The whole process allocates: the fake Telegram server too, so this
	// is an upper bound on witaj's own allocations.
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/n, "process_allocs/update")
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/n/1024, "process_KB/update")
}

// writeAllocs writes the allocation profile to prefix-name.pprof, if a
// prefix is given.
func writeAllocs(b *testing.B, prefix, name string) {
	if prefix == "" {
		return
	}
	f, err := os.Create(prefix + "-" + name + ".pprof")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	runtime.GC() // the profile is as of the last GC
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkServeProcess is BenchmarkWebhookPath at raised rates against
// a `witaj serve` process of its own, configured as an operator would,
// so that the allocations counted are witaj's alone
// (go_memstats_mallocs_total on its /metrics), not the load client's and
// the fake Telegram's. WITAJ_BINARY runs another build (an older commit)
// under the same load, for a fair comparison.
func BenchmarkServeProcess(b *testing.B) {
	for _, tt := range []struct {
		name  string
		asked int // questions each chat asks before the timed part
	}{
		{"new_chats", 0},
		// Ten questions leave the transcript a real conversation does
		// (two turns a question, 20 kept): every update then reads and
		// writes a full session.
		{"long_sessions", 10},
	} {
		b.Run(tt.name, func(b *testing.B) {
			r := startServeProcess(b)
			chats := chatIDs(10000, 2000)
			r.chooseLanguages(b, chats)
			r.converse(b, chats, tt.asked)
			r.run(b, chats, 64)
		})
	}
}

// startServeProcess starts a witaj serve process on a redis-server of its
// own, answering at raised rates to a fake Telegram, and returns the rig
// that loads it.
func startServeProcess(b *testing.B) *benchRig {
	rs := redistest.Start(b)
	tg := telegramtest.New(b)
	env := map[string]string{
		"WITAJ_TELEGRAM_TOKEN":          "123:bench",
		"WITAJ_TELEGRAM_API_URL":        tg.URL(),
		"WITAJ_TELEGRAM_WEBHOOK_URL":    "https://witaj.example.org/hook",
		"WITAJ_TELEGRAM_WEBHOOK_SECRET": "s",
		"WITAJ_REDIS_URL":               "redis://" + rs.Addr,
		"WITAJ_ADMIN_LISTEN":            freeAddr(b),
		"WITAJ_LISTEN":                  freeAddr(b),
		"WITAJ_SEND_RATE":               "100000",
		"WITAJ_SEND_RATE_PER_CHAT":      "100000",
		"WITAJ_LOG_FORMAT":              "json",
	}
	// The collector's settings reach witaj, for measuring them.
	for _, k := range []string{"GOGC", "GOMEMLIMIT"} {
		if v := os.Getenv(k); v != "" {
			env[k] = v
		}
	}
	p := startProc(b, env)
	b.Cleanup(p.stop)
	admin := env["WITAJ_ADMIN_LISTEN"]
	return &benchRig{redis: rs.Client(b), tg: tg, hook: "http://" + env["WITAJ_LISTEN"] + "/hook", questions: faqQuestions(b),
		mallocs: func() uint64 { return uint64(scrapeCounter(b, admin, "go_memstats_mallocs_total")) },
		cpu: func() time.Duration {
			return time.Duration(scrapeCounter(b, admin, "process_cpu_seconds_total") * float64(time.Second))
		}}
}

// converse has every chat ask n of the FAQ's questions, untimed, and
// waits until each is answered.
func (r *benchRig) converse(b *testing.B, chats []int64, n int) {
	if n == 0 {
		return
	}
	before := r.tg.Count("sendMessage")
	work := make(chan int)
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for i := range work {
				// The language chooseLanguages gave the chat.
				qs := r.questions[benchLangs[i%len(benchLangs)]]
				for k := range n {
					q := qs[(i*31+k*7919)%len(qs)]
					r.post(b, r.tg.Stamp(telegramtest.Text(telegramtest.User(chats[i], "B", ""), q)))
				}
			}
		})
	}
	for i := range chats {
		work <- i
	}
	close(work)
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := r.tg.WaitFor(ctx, func(s *telegramtest.Server) bool { return s.Count("sendMessage")-before >= len(chats)*n }); err != nil {
		b.Fatal("the warm-up questions were not all answered")
	}
}

// scrapeCounter reads one unlabelled metric from the /metrics of the
// admin listener at addr.
func scrapeCounter(b *testing.B, addr, name string) float64 {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				b.Fatalf("%s: %v", name, err)
			}
			return f
		}
	}
	b.Fatalf("no %s in /metrics", name)
	return 0
}

// BenchmarkIdleReplica: a whole `witaj serve` with consultants on Slack,
// ready and with nothing to do, and the Redis calls it makes per second
// (server side, INFO commandstats): the sender, the Slack sender, the
// leader's tasks and the gauges all wait rather than poll fast.
func BenchmarkIdleReplica(b *testing.B) {
	rs := redistest.Start(b)
	tg := telegramtest.New(b)
	sl := slackfake.New(b)
	sl.SetMembers("CIDLE", "U1")
	in := startServe(b, tg, rs.Addr, map[string]string{
		"WITAJ_SLACK_BOT_TOKEN": "xoxb-test", "WITAJ_SLACK_API_URL": sl.APIURL(), "WITAJ_SLACK_CHANNEL": "CIDLE",
		"WITAJ_SLACK_SIGNING_SECRET": "s", "WITAJ_SEND_RATE": "30", "WITAJ_SEND_RATE_PER_CHAT": "1",
	})
	defer in.stop()
	r := &benchRig{redis: rs.Client(b)}
	time.Sleep(2 * time.Second) // past start-up
	const window = 5 * time.Second
	b.ResetTimer()
	before := r.serverCalls(b)
	for range b.N {
		time.Sleep(window)
	}
	calls := r.serverCalls(b) - before
	if testing.Verbose() {
		info, _ := r.redis.Info(context.Background(), "commandstats").Result()
		b.Log(info)
	}
	b.ReportMetric(float64(calls)/(float64(b.N)*window.Seconds()), "redis_calls/s")
}

// serverCalls is the number of commands Redis has run, those run by
// scripts included (INFO commandstats), less the INFO calls themselves.
func (r *benchRig) serverCalls(b testing.TB) int64 {
	info, err := r.redis.Info(context.Background(), "commandstats").Result()
	if err != nil && (strings.Contains(err.Error(), "unknown command") || strings.Contains(err.Error(), "not supported")) {
		return -1 // the embedded Redis (miniredis) has no INFO
	}
	if err != nil {
		b.Fatal(err)
	}
	var total int64
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
		if !ok || name == "cmdstat_info" {
			continue
		}
		n, _ := strconv.ParseInt(strings.SplitN(rest, ",", 2)[0], 10, 64)
		total += n
	}
	return total
}

// replyLatencies pairs each update with the first message its chat got
// after it was posted: POST to reply, as the user waits.
func (r *benchRig) replyLatencies(samples []sample) []time.Duration {
	sends := map[int64][]time.Time{}
	for _, req := range r.tg.RequestsFor("sendMessage") {
		id, _ := strconv.ParseInt(req.Params["chat_id"], 10, 64)
		sends[id] = append(sends[id], req.Time)
	}
	var out []time.Duration
	for _, s := range samples {
		ts := sends[s.chat]
		i, _ := slices.BinarySearchFunc(ts, s.posted, func(a, b time.Time) int { return a.Compare(b) })
		if i < len(ts) {
			out = append(out, ts[i].Sub(s.posted))
		}
	}
	return out
}

func reportQuantiles(b *testing.B, d []time.Duration, name string) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, name+"_p50_ms")
	b.ReportMetric(float64(d[len(d)*99/100].Microseconds())/1000, name+"_p99_ms")
}

// BenchmarkWebhookPath measures answered questions: chats have chosen a
// language, then ask the FAQ's example questions in all four languages
// from many chats, 64 requests in flight. The send rates are raised
// because this measures witaj's own capacity, not Telegram's limit.
func BenchmarkWebhookPath(b *testing.B) {
	for _, rates := range []struct {
		name string
		cfg  func(*bot.SendConfig)
	}{
		{"raised_rates", raiseRates},
		// The default rates, 25 messages a second: run with a small
		// -benchtime (500x); this counts Redis work per update.
		{"default_rates", func(c *bot.SendConfig) {}},
	} {
		b.Run(rates.name, func(b *testing.B) {
			cfg := bot.DefaultSendConfig()
			rates.cfg(&cfg)
			r := newBenchRig(b, cfg)
			chats := chatIDs(10000, min(2000, int(cfg.Rate*10)))
			r.chooseLanguages(b, chats)
			r.run(b, chats, 64)
		})
	}
}

// raiseRates lifts Telegram's limits, to measure witaj's own capacity,
// with workers enough that a reply handed over by its commit finds one
// free (10 chats at once use 10 of them).
func raiseRates(c *bot.SendConfig) { c.Rate, c.RatePerChat, c.Workers = 100000, 100000, 128 }

// BenchmarkEmbeddedStore is BenchmarkWebhookPath at raised rates on the
// embedded Redis that `serve` starts when WITAJ_REDIS_URL is not set:
// what one replica without a redis-server can take.
func BenchmarkEmbeddedStore(b *testing.B) {
	emb, rdb, err := redis.StartEmbedded()
	if err != nil {
		b.Fatal(err)
	}
	addr := rdb.(*goredis.Client).Options().Addr
	rdb.Close()
	b.Cleanup(emb.Close)
	cfg := bot.DefaultSendConfig()
	raiseRates(&cfg)
	r := newBenchRigOn(b, cfg, addr)
	chats := chatIDs(10000, 2000)
	r.chooseLanguages(b, chats)
	r.run(b, chats, 64)
}

// BenchmarkHotChats: 10 chats, 64 requests in flight, so updates of one
// chat arrive while its previous ones are still being handled.
func BenchmarkHotChats(b *testing.B) {
	cfg := bot.DefaultSendConfig()
	raiseRates(&cfg)
	r := newBenchRig(b, cfg)
	chats := chatIDs(20000, 10)
	r.chooseLanguages(b, chats)
	r.run(b, chats, 64)
}

// cpuTimes is the CPU time used so far by witaj's process (-1 when it
// runs in this one), redis-server (-1 when unknown) and this process.
type cpuTimes struct{ witaj, redis, self time.Duration }

func (r *benchRig) cpuTimes(b *testing.B) cpuTimes {
	c := cpuTimes{witaj: -1, redis: -1}
	if r.cpu != nil {
		c.witaj = r.cpu()
	}
	if info, err := r.redis.Info(context.Background(), "cpu").Result(); err == nil {
		var sum float64
		for _, line := range strings.Split(info, "\r\n") {
			k, v, _ := strings.Cut(line, ":")
			if k == "used_cpu_sys" || k == "used_cpu_user" {
				f, _ := strconv.ParseFloat(v, 64)
				sum += f
			}
		}
		c.redis = time.Duration(sum * float64(time.Second))
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		c.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return c
}
