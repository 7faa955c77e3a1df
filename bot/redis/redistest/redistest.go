// Package redistest starts real redis-server processes for tests: Redis
// behaviour (Lua, TTLs, transactions) is tested against Redis itself, not
// a mock.
package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Server is a running redis-server.
type Server struct {
	Addr string
	cmd  *exec.Cmd
	args []string // to start it again
	bin  string
}

var installOnce sync.Once

// Start runs a fresh redis-server on a free loopback port, without
// persistence, stopped when the test ends. When redis-server is missing it
// installs Debian's package if it can (root with apt-get, as in CI), and
// otherwise fails the test with the command to run.
func Start(tb testing.TB) *Server {
	tb.Helper()
	return start(tb, "--appendonly", "no")
}

// StartAOF runs a redis-server that writes every command to its
// append-only file before answering, so that Restart loses nothing, as a
// production Redis with appendfsync always.
func StartAOF(tb testing.TB) *Server {
	tb.Helper()
	return start(tb, "--appendonly", "yes", "--appendfsync", "always")
}

// Restart kills the server (as a crash would) and starts it again on the
// same port and data directory.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.Stop()
	cmd := exec.Command(s.bin, s.args...)
	if err := cmd.Start(); err != nil {
		tb.Fatalf("restart redis-server: %v", err)
	}
	s.cmd = cmd
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	s.waitReady(tb)
}

func start(tb testing.TB, persistence ...string) *Server {
	tb.Helper()
	return startOn(tb, freePort(tb), persistence...)
}

func itoa(n int) string { return fmt.Sprint(n) }

// startOn runs redis-server on port with extra arguments.
func startOn(tb testing.TB, port int, extra ...string) *Server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		installOnce.Do(install)
		if bin, err = exec.LookPath("redis-server"); err != nil {
			tb.Fatalf("redis-server not found: install it (apt-get install -y redis-server) or run bash .ci/run")
		}
	}
	dir := tb.TempDir()
	args := append([]string{"--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "",
		"--dir", dir, "--logfile", filepath.Join(dir, "redis.log")}, extra...)
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start redis-server: %v", err)
	}
	srv := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), cmd: cmd, args: args, bin: bin}
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	srv.waitReady(tb)
	return srv
}

// Client returns a client of the server, closed when the test ends.
func (s *Server) Client(tb testing.TB) *goredis.Client {
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr})
	tb.Cleanup(func() { c.Close() })
	return c
}

// Stop kills the server, as a crash would.
func (s *Server) Stop() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

// waitReady waits until the server answers PING. Readiness of a process
// has no event to wait on, so this polls, briefly.
func (s *Server) waitReady(tb testing.TB) {
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("redis-server on %s not ready: %v", s.Addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort(tb testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// install tries Debian's package, as CI does; quietly does nothing when
// not root or without apt-get.
func install() {
	if os.Geteuid() != 0 {
		return
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return
	}
	_ = exec.Command("apt-get", "update", "-qq").Run()
	_ = exec.Command("apt-get", "-o", "DPkg::Lock::Timeout=300", "install", "-y", "-qq", "redis-server").Run()
}
