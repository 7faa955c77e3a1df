package redistest

import (
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Cluster is a running Redis Cluster of masters only, on loopback ports.
type Cluster struct {
	Addrs   []string
	Servers []*Server
}

// StartCluster runs masters redis-servers in cluster mode and joins them
// with redis-cli --cluster create, as an operator would; the slots are
// spread evenly. Everything stops when the test ends.
func StartCluster(tb testing.TB, masters int) *Cluster {
	tb.Helper()
	c := &Cluster{}
	for range masters {
		port := clusterPort(tb)
		dir := tb.TempDir()
		s := startOn(tb, port, "--appendonly", "no", "--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, "nodes.conf"), "--cluster-node-timeout", "2000")
		c.Servers = append(c.Servers, s)
		c.Addrs = append(c.Addrs, s.Addr)
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		tb.Fatalf("redis-cli not found (it comes with redis-server): %v", err)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		tb.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	c.waitOK(tb)
	return c
}

// Client returns a cluster client, closed when the test ends.
func (c *Cluster) Client(tb testing.TB) *goredis.ClusterClient {
	cc := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: c.Addrs})
	tb.Cleanup(func() { cc.Close() })
	return cc
}

// waitOK waits until every node reports the cluster ready: the slots
// are assigned at once, but the nodes learn of each other by gossip.
func (c *Cluster) waitOK(tb testing.TB) {
	deadline := time.Now().Add(20 * time.Second)
	for _, addr := range c.Addrs {
		rdb := goredis.NewClient(&goredis.Options{Addr: addr})
		for {
			info, _ := rdb.ClusterInfo(context.Background()).Result()
			if strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				rdb.Close()
				tb.Fatalf("cluster node %s not ready:\n%s", addr, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
		rdb.Close()
	}
}

// clusterPort finds a free port whose cluster bus port (+10000) is free
// too.
func clusterPort(tb testing.TB) int {
	for range 100 {
		p := freePort(tb)
		if p+10000 > 65535 {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", itoa(p+10000)))
		if err != nil {
			continue
		}
		l.Close()
		return p
	}
	tb.Fatal("no free port pair for a cluster node")
	return 0
}
