package redistest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Sentinel is a master, one replica and three sentinels watching them.
type Sentinel struct {
	Master, Replica *Server
	Sentinels       []string // addresses
	Name            string   // the monitored master's name
}

// StartSentinel runs a master with one replica and three sentinels
// (quorum 2) that fail over one second after the master stops answering.
// Everything stops when the test ends.
func StartSentinel(tb testing.TB) *Sentinel {
	tb.Helper()
	s := &Sentinel{Name: "witaj"}
	s.Master = start(tb, "--appendonly", "no")
	mport := strings.TrimPrefix(s.Master.Addr, "127.0.0.1:")
	s.Replica = start(tb, "--appendonly", "no", "--replicaof", "127.0.0.1", mport)
	bin := s.Master.bin
	for range 3 {
		port := freePort(tb)
		dir := tb.TempDir()
		conf := filepath.Join(dir, "sentinel.conf")
		text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\n"+
			"sentinel monitor %s 127.0.0.1 %s 2\n"+
			"sentinel down-after-milliseconds %s 1000\n"+
			"sentinel failover-timeout %s 5000\n"+
			"sentinel parallel-syncs %s 1\n",
			port, dir, filepath.Join(dir, "sentinel.log"), s.Name, mport, s.Name, s.Name, s.Name)
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			tb.Fatal(err)
		}
		cmd := exec.Command(bin, conf, "--sentinel")
		if err := cmd.Start(); err != nil {
			tb.Fatalf("start sentinel: %v", err)
		}
		tb.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
		s.Sentinels = append(s.Sentinels, fmt.Sprintf("127.0.0.1:%d", port))
	}
	s.waitReady(tb)
	return s
}

// URL is the WITAJ_REDIS_URL of the setup.
func (s *Sentinel) URL() string {
	u := "redis+sentinel://" + s.Sentinels[0] + "?master_name=" + s.Name
	for _, a := range s.Sentinels[1:] {
		u += "&addr=" + a
	}
	return u
}

// MasterAddr asks a sentinel which server is the master now.
func (s *Sentinel) MasterAddr(ctx context.Context) (string, error) {
	c := goredis.NewSentinelClient(&goredis.Options{Addr: s.Sentinels[0]})
	defer c.Close()
	a, err := c.GetMasterAddrByName(ctx, s.Name).Result()
	if err != nil {
		return "", err
	}
	return a[0] + ":" + a[1], nil
}

// waitReady waits until every sentinel knows the replica and the other
// two sentinels (gossip takes a few seconds): only then can they agree
// on a failover.
func (s *Sentinel) waitReady(tb testing.TB) {
	deadline := time.Now().Add(30 * time.Second)
	for _, addr := range s.Sentinels {
		c := goredis.NewSentinelClient(&goredis.Options{Addr: addr})
		for {
			m, err := c.Master(context.Background(), s.Name).Result()
			if err == nil && m["num-slaves"] == "1" && m["num-other-sentinels"] == "2" {
				break
			}
			if time.Now().After(deadline) {
				c.Close()
				tb.Fatalf("sentinel %s not ready: %v %v", addr, m, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		c.Close()
	}
}
