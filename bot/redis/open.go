package redis

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"
)

// Connect opens a client for a WITAJ_REDIS_URL:
//
//	redis://[user:pass@]host:6379/0                       a single server (rediss:// for TLS)
//	redis+sentinel://host:26379?master_name=mymaster&addr=host2:26379   Sentinel
//	redis+cluster://host:7000?addr=host2:7001             Cluster
//
// Query parameters are go-redis's (dial_timeout, read_timeout, pool_size …).
func Connect(url string) (goredis.UniversalClient, error) {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return nil, fmt.Errorf("redis URL %q: want redis://host:port", url)
	}
	base, mode, _ := strings.Cut(scheme, "+")
	if base != "redis" && base != "rediss" {
		return nil, fmt.Errorf("redis URL %q: unknown scheme %q (redis, rediss, redis+sentinel, redis+cluster)", url, scheme)
	}
	plain := base + "://" + rest
	switch mode {
	case "":
		opt, err := goredis.ParseURL(plain)
		if err != nil {
			return nil, fmt.Errorf("redis URL: %w", err)
		}
		opt.MaxRetries = noRetries(opt.MaxRetries)
		return goredis.NewClient(opt), nil
	case "sentinel":
		opt, err := goredis.ParseFailoverURL(plain)
		if err != nil {
			return nil, fmt.Errorf("redis URL: %w", err)
		}
		if opt.MasterName == "" {
			return nil, fmt.Errorf("redis URL %q: Sentinel needs ?master_name=", url)
		}
		opt.MaxRetries = noRetries(opt.MaxRetries)
		return goredis.NewFailoverClient(opt), nil
	case "cluster":
		opt, err := goredis.ParseClusterURL(plain)
		if err != nil {
			return nil, fmt.Errorf("redis URL: %w", err)
		}
		opt.MaxRetries = noRetries(opt.MaxRetries)
		return goredis.NewClusterClient(opt), nil
	}
	return nil, fmt.Errorf("redis URL %q: unknown mode %q (sentinel, cluster)", url, mode)
}

// noRetries turns off go-redis's own retries unless the URL asks for
// them (max_retries=): a retried write whose first reply was lost runs
// twice. witaj retries where it is safe — a commit is idempotent, an
// unacknowledged update comes again — and nowhere else.
func noRetries(fromURL int) int {
	if fromURL != 0 {
		return fromURL
	}
	return -1
}

// Embedded is an in-process Redis (miniredis) for running without a Redis
// server: everything is lost when the process ends.
type Embedded struct {
	srv *miniredis.Miniredis
}

// StartEmbedded starts an in-process Redis on a loopback port.
func StartEmbedded() (*Embedded, goredis.UniversalClient, error) {
	srv, err := miniredis.Run()
	if err != nil {
		return nil, nil, fmt.Errorf("start embedded redis: %w", err)
	}
	return &Embedded{srv: srv}, goredis.NewClient(&goredis.Options{Addr: srv.Addr()}), nil
}

// Close stops the embedded Redis.
func (e *Embedded) Close() { e.srv.Close() }

// slogPrinter routes go-redis's own log lines (pool and connection
// trouble) through the service's slog logger, so that they share its
// format (JSON in production) and level.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Printf(_ context.Context, format string, v ...any) {
	p.log.Warn("redis client", "msg", fmt.Sprintf(format, v...))
}

// UseLogger sends go-redis's log lines to log. go-redis keeps one logger
// for the whole process, so only the first call counts (one serve per
// process; tests start several).
func UseLogger(log *slog.Logger) {
	loggerOnce.Do(func() { goredis.SetLogger(slogPrinter{log}) })
}

var loggerOnce sync.Once
