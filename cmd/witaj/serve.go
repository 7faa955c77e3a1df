package main

import (
	"context"
	"crypto/rand"
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
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	goredis "github.com/redis/go-redis/v9"

	slackapi "github.com/slack-go/slack"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/bot/redis"
	"github.com/witaj/witaj/bot/slack"
	"github.com/witaj/witaj/bot/telegram"
	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
	"github.com/witaj/witaj/locales"

	_ "time/tzdata" // working hours in Europe/Warsaw on images without zoneinfo
)

// shutdownGrace bounds each shutdown step: finishing in-flight updates,
// then flushing the outbox.
const shutdownGrace = 10 * time.Second

// botCommands are the commands registered with Telegram, in menu order.
// Without consultants there is no /human or /end to offer.
func botCommands(consultants bool) []string {
	if !consultants {
		return []string{"start", "menu", "help", "language", "subscribe", "unsubscribe", "privacy", "forget"}
	}
	return []string{"start", "menu", "help", "human", "end", "language", "subscribe", "unsubscribe", "privacy", "forget"}
}

func (env *environment) serve(args []string) error {
	fl := env.flagSet("serve")
	fl.Usage = func() { fmt.Fprint(fl.Output(), serveUsage) }
	if err := fl.Parse(args); err != nil {
		return parseError(err)
	}
	if fl.NArg() > 0 {
		fmt.Fprint(env.stderr, serveUsage)
		return errUsage
	}
	cfg, err := loadConfig(env.getenv)
	if err != nil {
		fmt.Fprintf(env.stderr, "witaj serve: %v\n", err)
		return exitError(1)
	}
	log := newLogger(cfg.LogFormat, env.stderr)
	redis.UseLogger(log)
	log.Info("starting witaj", cfg.masked()...)
	s := &server{env: env, cfg: cfg, log: log}
	if err := s.start(env.ctx); err != nil {
		s.stop()
		if env.ctx.Err() != nil {
			return nil // stopped while waiting for Redis, Telegram or Slack
		}
		// Once, through the log (JSON in production), not twice.
		log.Error("cannot start", "err", err)
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

	slackAPI     *slackapi.Client
	slackBotUser string
	slackStop    context.CancelFunc

	admin, public *http.Server
	// webhook and events answer requests with work that outlives them
	// (button presses, Socket Mode events); stop waits for it.
	webhook    *telegram.Webhook
	events     *slack.Events
	intakeStop context.CancelFunc // poller
	sendStop   context.CancelFunc
	bgStop     context.CancelFunc // FAQ watcher, gauges
	wg         sync.WaitGroup     // poller and sender
	bg         sync.WaitGroup
	ready      func() bool
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
	flowsCfg.Consultants = s.cfg.SlackBotToken != ""
	// The admin port opens first: an orchestrator sees "not ready" (and
	// the metrics) while the FAQ loads and while Redis, Telegram or Slack
	// cannot be reached yet. Everything ready reads is written before
	// started is set.
	var started atomic.Bool
	s.ready = func() bool { return started.Load() && s.svc != nil && s.svc.CurrentFAQ() != nil }
	if err := s.startAdmin(); err != nil {
		return err
	}
	faqs := &faqSource{dir: s.cfg.FAQDir, cat: cat, flows: flowsCfg, log: s.log, metrics: s.metrics}
	faq, version, err := faqs.load()
	if err != nil {
		return err
	}
	s.metrics.ServingFAQ(version.String())
	s.metrics.Overdue(overdue(faq.Engine.KB()))
	s.log.Info("FAQ loaded", "version", version.String())
	if err := s.openRedis(ctx); err != nil {
		return err
	}
	s.store = redis.New(s.rdb, redis.Options{Retention: s.cfg.Retention})
	if err := s.untilUp(ctx, "Redis", func(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }, nil); err != nil {
		return err
	}
	client, err := telegram.NewClient(s.cfg.TelegramToken, s.cfg.TelegramAPIURL, s.log, s.metrics)
	if err != nil {
		return err
	}
	var name string
	err = s.untilUp(ctx, "Telegram", func(ctx context.Context) (err error) {
		name, err = client.Me(ctx)
		return err
	}, telegram.IsUnauthorized)
	if err != nil {
		return fmt.Errorf("Telegram refused WITAJ_TELEGRAM_TOKEN (check the token from @BotFather): %w", err)
	}
	s.log.Info("telegram bot", "username", name)
	err = s.untilUp(ctx, "Telegram commands", func(ctx context.Context) error {
		return client.SetCommands(ctx, []string{"pl", "en", "uk", "ru"}, botCommands(flowsCfg.Consultants), func(lang, cmd string) string {
			t, _ := cat.Text(lang, "commands."+cmd, nil)
			return t
		})
	}, telegram.IsUnauthorized)
	if err != nil {
		return err
	}
	defer started.Store(true)
	sendCfg := bot.DefaultSendConfig()
	sendCfg.Rate, sendCfg.RatePerChat = s.cfg.SendRate, s.cfg.SendRatePerChat
	s.sender = bot.NewSender(s.store, client, sendCfg, s.log, s.metrics)
	desk, err := s.openSlack(ctx)
	if err != nil {
		return err
	}
	var consultants bot.Consultants
	if desk != nil {
		consultants = desk
		s.sender.OnBlocked = desk.Blocked
	}
	s.svc = bot.NewService(s.store, client, consultants, faq, bot.DefaultConfig(), s.log, s.metrics, s.sender.Wake())
	s.svc.HandOff(s.sender)
	bcCfg := bot.DefaultBroadcastConfig()
	bcCfg.Rate = s.cfg.SendRate * s.cfg.BroadcastShare
	broadcaster := bot.NewBroadcaster(s.store, bcCfg, s.log, s.metrics)
	broadcaster.Wake = s.sender.Wake()
	s.sender.OnSettled = broadcaster.Counted
	if err := s.startIntake(ctx, client, desk); err != nil {
		return err
	}
	sendCtx, sendStop := context.WithCancel(context.WithoutCancel(ctx))
	s.sendStop = sendStop
	s.wg.Go(func() { s.sender.Run(sendCtx) })
	bgCtx, bgStop := context.WithCancel(context.WithoutCancel(ctx))
	s.bgStop = bgStop
	// Alerts for topics that changed since any replica last looked: at
	// start, and after every reload.
	useFAQ := func(f *bot.FAQ) {
		s.svc.UseFAQ(f)
		s.queueAlerts(bgCtx, f, client)
	}
	s.bg.Go(func() { s.queueAlerts(bgCtx, faq, client) })
	s.bg.Go(func() { broadcaster.Run(bgCtx) })
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	s.bg.Go(func() {
		defer signal.Stop(hup)
		faqs.watch(bgCtx, hup, 2*time.Second, useFAQ)
	})
	s.bg.Go(func() { s.gauges(bgCtx) })
	return nil
}

// queueAlerts queues the alerts of topics whose version went up with a
// change note, retrying while Redis is unreachable: an alert must not be
// lost to a blip at start.
func (s *server) queueAlerts(ctx context.Context, f *bot.FAQ, migrants bot.Migrants) {
	err := s.untilUp(ctx, "Redis (alerts)", func(ctx context.Context) error {
		ids, err := bot.QueueAlerts(ctx, s.store, f, migrants, time.Now())
		for _, id := range ids {
			s.log.Info("alert queued", "broadcast", id)
		}
		return err
	}, nil)
	if err != nil && ctx.Err() == nil {
		s.log.Error("queue alerts", "err", err)
	}
}

// untilUp calls fn until it succeeds, with capped exponential backoff and
// jitter, logging once when what is unreachable and once when it is back.
// An error that fatal reports as definite (a refused token) ends the
// wait; so does ctx.
func (s *server) untilUp(ctx context.Context, what string, fn func(context.Context) error, fatal func(error) bool) error {
	var since time.Time
	for attempt := 0; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := fn(cctx)
		cancel()
		if err == nil {
			if !since.IsZero() {
				s.log.Info(what+" reachable again", "after", time.Since(since).Round(time.Second).String())
			}
			return nil
		}
		if fatal != nil && fatal(err) {
			return err
		}
		if since.IsZero() {
			since = time.Now()
			s.log.Warn(what+" unreachable; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s unreachable: %w", what, err)
		case <-time.After(bot.Jitter(bot.Backoff(attempt + 1))):
		}
	}
}

// slackAuthFailed reports a definite refusal of the bot token.
func slackAuthFailed(err error) bool {
	var se slackapi.SlackErrorResponse
	if errors.As(err, &se) {
		switch se.Err {
		case "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired":
			return true
		}
	}
	switch err.Error() {
	case "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired":
		return true
	}
	return false
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
	return nil
}

// startIntake starts receiving: Telegram by webhook on the public
// listener or by polling (leader replica); Slack by Socket Mode or by
// Events API and interactivity on the public listener.
func (s *server) startIntake(ctx context.Context, client *telegram.Client, desk *slack.Desk) error {
	mux := http.NewServeMux()
	public := false
	intakeCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.intakeStop = stop
	if s.cfg.WebhookURL == "" {
		if err := client.DeleteWebhook(ctx); err != nil {
			return err
		}
		p := telegram.NewPoller(client, s.svc, s.store, newInstanceID(), s.log)
		s.wg.Go(func() { p.Run(intakeCtx) })
		s.log.Info("receiving Telegram updates by long polling")
	} else {
		u, _ := url.Parse(s.cfg.WebhookURL)
		s.webhook = telegram.NewWebhook(s.cfg.WebhookSecret, s.svc, client, s.log, s.metrics)
		mux.Handle("POST "+or(u.Path, "/"), s.webhook)
		public = true
	}
	if desk != nil {
		events := slack.NewEvents(desk, s.svc, s.store, s.slackAPI, s.cfg.SlackSigningSecret, s.slackBotUser, s.log)
		s.events = events
		s.wg.Go(func() { events.RunReconcile(intakeCtx, s.cfg.SlackReconcile) })
		if s.cfg.SlackAppToken != "" {
			s.wg.Go(func() { events.RunSocketMode(intakeCtx, s.slackAPI, s.log) })
			s.log.Info("receiving Slack events by Socket Mode")
		} else {
			mux.HandleFunc("POST /slack/events", events.ServeEvents)
			mux.HandleFunc("POST /slack/interactions", events.ServeInteractions)
			public = true
			s.log.Info("receiving Slack events over HTTP", "listen", s.cfg.Listen)
		}
	}
	if public {
		srv, err := listen(s.cfg.Listen, mux, s.log)
		if err != nil {
			return fmt.Errorf("WITAJ_LISTEN: %w", err)
		}
		s.public = srv
	}
	if s.cfg.WebhookURL != "" {
		if err := client.SetWebhook(ctx, s.cfg.WebhookURL, s.cfg.WebhookSecret); err != nil {
			return err
		}
		s.log.Info("receiving Telegram updates by webhook", "listen", s.cfg.Listen)
	}
	return nil
}

// openSlack connects the consultants' side when Slack is configured; it
// returns nil without Slack, and the bot then says consultants cannot be
// reached.
func (s *server) openSlack(ctx context.Context) (*slack.Desk, error) {
	if s.cfg.SlackBotToken == "" {
		s.log.Warn("WITAJ_SLACK_BOT_TOKEN is not set: no consultants; users asking for a person are told none can be reached")
		return nil, nil
	}
	// Every Slack call ends well inside the sender's lease.
	opts := []slackapi.Option{slackapi.OptionAPIURL(s.cfg.SlackAPIURL), slackapi.OptionHTTPClient(&http.Client{Timeout: bot.SendTimeout})}
	if s.cfg.SlackAppToken != "" {
		opts = append(opts, slackapi.OptionAppLevelToken(s.cfg.SlackAppToken))
	}
	s.slackAPI = slackapi.New(s.cfg.SlackBotToken, opts...)
	var auth *slackapi.AuthTestResponse
	err := s.untilUp(ctx, "Slack", func(ctx context.Context) (err error) {
		auth, err = s.slackAPI.AuthTestContext(ctx)
		return err
	}, slackAuthFailed)
	if err != nil {
		return nil, fmt.Errorf("Slack refused WITAJ_SLACK_BOT_TOKEN (check the app's Bot User OAuth Token): %w", err)
	}
	s.slackBotUser = auth.UserID
	loc, err := time.LoadLocation(s.cfg.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("WITAJ_TIMEZONE: %w", err)
	}
	hours, err := slack.ParseHours(s.cfg.Hours, loc)
	if err != nil {
		return nil, fmt.Errorf("WITAJ_HOURS: %w", err)
	}
	langChannels := map[knowledge.Lang]string{}
	for l, ch := range s.cfg.SlackLangChannels {
		langChannels[knowledge.Lang(l)] = ch
	}
	desk := slack.NewDesk(s.store, func() *knowledge.Base { return s.svc.CurrentFAQ().Engine.KB() }, slack.Config{
		Channel: s.cfg.SlackChannel, LangChannels: langChannels, Consultants: s.cfg.Consultants,
		Hours: hours, Reminder: s.cfg.ClaimReminder,
	}, s.log)
	slackSender := slack.NewSender(s.store, s.slackAPI, s.log, slack.SenderConfig{
		Interval: time.Duration(float64(time.Second) / s.cfg.SlackRate), Metrics: s.metrics})
	desk.Wake = slackSender.Wake()
	desk.Metrics = s.metrics
	desk.Stats = s.store
	sendCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.slackStop = stop
	s.bg.Go(func() { slackSender.Run(sendCtx) })
	s.bg.Go(func() { desk.RunReminders(sendCtx, time.Minute) })
	if s.cfg.Digest != "" {
		loc, _ := time.LoadLocation(s.cfg.TimeZone) // checked in loadConfig
		w, _ := slack.ParseWeekly(s.cfg.Digest, loc)
		token := rand.Text() // this process's claim on the week's digest
		lead := func(ctx context.Context, week string) bool {
			won, err := s.store.Lead(ctx, "digest:"+week, token, 8*24*time.Hour)
			return err == nil && won
		}
		build := func(ctx context.Context) (bot.Report, error) {
			return bot.BuildReport(ctx, s.store, s.store, s.svc.CurrentFAQ().Engine.KB(), time.Now(), 7)
		}
		s.bg.Go(func() { desk.RunDigest(sendCtx, w, lead, build) })
	}
	s.log.Info("consultants on Slack", "bot_user", auth.UserID, "channel", s.cfg.SlackChannel)
	return desk, nil
}

func (s *server) startAdmin() error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if !s.ready() || s.store.Ping(ctx) != nil {
			http.Error(w, "not ready: redis unreachable or no FAQ", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	srv, err := listen(s.cfg.AdminListen, mux, s.log)
	if err != nil {
		return fmt.Errorf("WITAJ_ADMIN_LISTEN: %w", err)
	}
	s.admin = srv
	return nil
}

// gauges updates the metrics read from Redis (outbox, Slack queue,
// waiting cases, broadcasts), every 15 s: about as often as Prometheus
// scrapes, and few calls for an idle replica.
func (s *server) gauges(ctx context.Context) {
	t := time.NewTicker(15 * time.Second)
	defer t.Stop()
	for {
		if n, err := s.store.Pending(ctx); err == nil {
			s.metrics.OutboxDepth.Set(float64(n))
			s.metrics.Ready.Set(b2f(s.ready()))
		} else {
			s.metrics.Ready.Set(0)
		}
		if n, err := s.store.SlackPending(ctx); err == nil {
			s.metrics.SlackQueue.Set(float64(n))
		}
		if n, oldest, urgent, err := s.store.WaitingCases(ctx, time.Now()); err == nil {
			s.metrics.Waiting(n, oldest, urgent)
		}
		s.broadcastGauges(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// broadcastGauges shows each running broadcast's recipients left.
func (s *server) broadcastGauges(ctx context.Context) {
	ids, err := s.store.ActiveBroadcasts(ctx)
	if err != nil {
		return
	}
	s.metrics.BroadcastLeft.Reset()
	for _, id := range ids {
		if st, err := s.store.Status(ctx, id); err == nil {
			s.metrics.BroadcastLeft.WithLabelValues(id).Set(float64(st.Remaining))
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
	if s.webhook != nil {
		s.webhook.Wait()
	}
	if s.events != nil {
		s.events.Wait()
	}
	if s.sender != nil {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		s.sender.Drain(ctx)
		cancel()
	}
	if s.bgStop != nil {
		s.bgStop()
	}
	if s.slackStop != nil {
		s.slackStop()
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
func listen(addr string, h http.Handler, log *slog.Logger) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := newHTTPServer(h, log)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", "addr", addr, "err", err)
		}
	}()
	return srv, nil
}

// newHTTPServer is the HTTP server of both listeners.
func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler: limitConcurrency(h, maxConcurrentRequests),
		// A client that sends its request slowly must not hold a
		// connection (and a goroutine) for long: Telegram and Slack send
		// small bodies at once.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      45 * time.Second, // an update may take up to 30 s to store
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// maxConcurrentRequests bounds the requests one listener handles at once;
// more are answered 503 (Telegram and Slack deliver them again).
const maxConcurrentRequests = 256

// limitConcurrency answers 503 while n requests are in progress.
func limitConcurrency(h http.Handler, n int) http.Handler {
	sem := make(chan struct{}, n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case sem <- struct{}{}:
			defer func() { <-sem }()
			h.ServeHTTP(w, r)
		default:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}
	})
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
