package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	goredis "github.com/redis/go-redis/v9"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/bot/redis"
	"github.com/witaj/witaj/bot/telegram"
	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/locales"
)

// shutdownGrace bounds each shutdown step: finishing in-flight updates,
// then flushing the outbox.
const shutdownGrace = 10 * time.Second

// botCommands are the commands registered with Telegram, in menu order.
func botCommands() []string {
	return []string{"start", "menu", "help", "human", "end", "language", "privacy", "forget"}
}

func (env *environment) serve(args []string) error {
	fl := env.flagSet("serve")
	if err := fl.Parse(args); err != nil || fl.NArg() > 0 {
		fmt.Fprintln(env.stderr, "usage: witaj serve   (configured by WITAJ_* environment variables; see README.md)")
		return errUsage
	}
	cfg, err := loadConfig(env.getenv)
	if err != nil {
		fmt.Fprintf(env.stderr, "witaj serve: %v\n", err)
		return exitError(1)
	}
	log := newLogger(cfg.LogFormat, env.stderr)
	log.Info("starting witaj", cfg.masked()...)
	s := &server{env: env, cfg: cfg, log: log}
	if err := s.start(env.ctx); err != nil {
		s.stop()
		log.Error("cannot start", "err", err)
		fmt.Fprintf(env.stderr, "witaj serve: %v\n", err)
		return exitError(1)
	}
	<-env.ctx.Done()
	log.Info("shutting down")
	s.stop()
	log.Info("stopped")
	return nil
}

// server is a running `witaj serve`: every part it started, so that stop
// can end them in order.
type server struct {
	env *environment
	cfg config
	log *slog.Logger

	reg      *prometheus.Registry
	metrics  *bot.Metrics
	rdb      goredis.UniversalClient
	embedded *redis.Embedded
	store    *redis.Store
	svc      *bot.Service
	sender   *bot.Sender

	admin, public *http.Server
	intakeStop    context.CancelFunc // poller
	sendStop      context.CancelFunc
	bgStop        context.CancelFunc // FAQ watcher, gauges
	wg            sync.WaitGroup     // poller and sender
	bg            sync.WaitGroup
	ready         func() bool
}

func (s *server) start(ctx context.Context) error {
	s.reg = prometheus.NewRegistry()
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.metrics = bot.NewMetrics(s.reg)
	cat, err := locales.New()
	if err != nil {
		return err
	}
	flowsCfg := flows.DefaultConfig()
	flowsCfg.RetentionDays = int(s.cfg.Retention / (24 * time.Hour))
	faqs := &faqSource{dir: s.cfg.FAQDir, cat: cat, flows: flowsCfg, log: s.log, metrics: s.metrics}
	faq, version, err := faqs.load()
	if err != nil {
		return err
	}
	s.metrics.ServingFAQ(version.String())
	s.log.Info("FAQ loaded", "version", version.String())
	if err := s.openRedis(ctx); err != nil {
		return err
	}
	s.store = redis.New(s.rdb, redis.Options{Retention: s.cfg.Retention})
	client, err := telegram.NewClient(s.cfg.TelegramToken, s.cfg.TelegramAPIURL, s.log, s.metrics)
	if err != nil {
		return err
	}
	name, err := client.Me(ctx)
	if err != nil {
		return err
	}
	s.log.Info("telegram bot", "username", name)
	if err := client.SetCommands(ctx, []string{"pl", "en", "uk", "ru"}, botCommands(), func(lang, cmd string) string {
		t, _ := cat.Text(lang, "commands."+cmd, nil)
		return t
	}); err != nil {
		return err
	}
	sendCfg := bot.DefaultSendConfig()
	sendCfg.Rate, sendCfg.RatePerChat = s.cfg.SendRate, s.cfg.SendRatePerChat
	s.sender = bot.NewSender(s.store, client, sendCfg, s.log, s.metrics)
	s.svc = bot.NewService(s.store, client, nil, faq, bot.DefaultConfig(), s.log, s.metrics, s.sender.Wake())
	s.ready = func() bool { return s.svc.CurrentFAQ() != nil }
	if err := s.startAdmin(); err != nil {
		return err
	}
	if err := s.startIntake(ctx, client); err != nil {
		return err
	}
	sendCtx, sendStop := context.WithCancel(context.WithoutCancel(ctx))
	s.sendStop = sendStop
	s.wg.Go(func() { s.sender.Run(sendCtx) })
	bgCtx, bgStop := context.WithCancel(context.WithoutCancel(ctx))
	s.bgStop = bgStop
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	s.bg.Go(func() {
		defer signal.Stop(hup)
		faqs.watch(bgCtx, hup, 2*time.Second, s.svc.UseFAQ)
	})
	s.bg.Go(func() { s.gauges(bgCtx) })
	return nil
}

// openRedis connects to WITAJ_REDIS_URL, or starts the embedded Redis.
func (s *server) openRedis(ctx context.Context) error {
	if s.cfg.RedisURL == "" {
		emb, rdb, err := redis.StartEmbedded()
		if err != nil {
			return err
		}
		s.embedded, s.rdb = emb, rdb
		s.log.Warn("WITAJ_REDIS_URL is not set: using an embedded in-process Redis. ALL STATE (conversations, queued messages) IS LOST WHEN witaj STOPS, and replicas cannot share it. Set WITAJ_REDIS_URL for production.")
		return nil
	}
	rdb, err := redis.Connect(s.cfg.RedisURL)
	if err != nil {
		return err
	}
	s.rdb = rdb
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		return fmt.Errorf("redis at WITAJ_REDIS_URL is not reachable: %w", err)
	}
	return nil
}

// startIntake sets Telegram up for the chosen mode: a webhook on the
// public listener, or polling by the leader replica.
func (s *server) startIntake(ctx context.Context, client *telegram.Client) error {
	if s.cfg.WebhookURL == "" {
		if err := client.DeleteWebhook(ctx); err != nil {
			return err
		}
		pollCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
		s.intakeStop = stop
		p := telegram.NewPoller(client, s.svc, s.store, newInstanceID(), s.log)
		s.wg.Go(func() { p.Run(pollCtx) })
		s.log.Info("receiving updates by long polling")
		return nil
	}
	u, _ := url.Parse(s.cfg.WebhookURL)
	mux := http.NewServeMux()
	mux.Handle("POST "+or(u.Path, "/"), telegram.NewWebhook(s.cfg.WebhookSecret, s.svc, client, s.log, s.metrics))
	srv, err := listen(s.cfg.Listen, mux)
	if err != nil {
		return fmt.Errorf("WITAJ_LISTEN: %w", err)
	}
	s.public = srv
	if err := client.SetWebhook(ctx, s.cfg.WebhookURL, s.cfg.WebhookSecret); err != nil {
		return err
	}
	s.log.Info("receiving updates by webhook", "listen", s.cfg.Listen, "path", or(u.Path, "/"))
	return nil
}

func (s *server) startAdmin() error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.store.Ping(ctx); err != nil || !s.ready() {
			http.Error(w, "not ready: redis unreachable or no FAQ", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	srv, err := listen(s.cfg.AdminListen, mux)
	if err != nil {
		return fmt.Errorf("WITAJ_ADMIN_LISTEN: %w", err)
	}
	s.admin = srv
	return nil
}

// gauges updates the outbox depth.
func (s *server) gauges(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		if n, err := s.store.Pending(ctx); err == nil {
			s.metrics.OutboxDepth.Set(float64(n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// stop ends everything in order: no new updates; in-flight ones finish
// (each is stored or left for redelivery); the outbox is flushed as far as
// the grace period allows; then the rest.
func (s *server) stop() {
	if s.public != nil {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		_ = s.public.Shutdown(ctx)
		cancel()
	}
	if s.intakeStop != nil {
		s.intakeStop()
	}
	if s.sendStop != nil {
		s.sendStop()
	}
	s.wg.Wait()
	if s.sender != nil {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		s.sender.Drain(ctx)
		cancel()
	}
	if s.bgStop != nil {
		s.bgStop()
	}
	s.bg.Wait()
	if s.admin != nil {
		_ = s.admin.Close()
	}
	if s.rdb != nil {
		_ = s.rdb.Close()
	}
	if s.embedded != nil {
		s.embedded.Close()
	}
}

// listen starts an HTTP server on addr.
func listen(addr string, h http.Handler) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("http server", "addr", addr, "err", err)
		}
	}()
	return srv, nil
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func newInstanceID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d-%d", host, os.Getpid(), time.Now().UnixNano())
}
