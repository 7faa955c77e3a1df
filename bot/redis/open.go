package redis

import (
	"fmt"
	"strings"

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
		return goredis.NewClient(opt), nil
	case "sentinel":
		opt, err := goredis.ParseFailoverURL(plain)
		if err != nil {
			return nil, fmt.Errorf("redis URL: %w", err)
		}
		if opt.MasterName == "" {
			return nil, fmt.Errorf("redis URL %q: Sentinel needs ?master_name=", url)
		}
		return goredis.NewFailoverClient(opt), nil
	case "cluster":
		opt, err := goredis.ParseClusterURL(plain)
		if err != nil {
			return nil, fmt.Errorf("redis URL: %w", err)
		}
		return goredis.NewClusterClient(opt), nil
	}
	return nil, fmt.Errorf("redis URL %q: unknown mode %q (sentinel, cluster)", url, mode)
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
