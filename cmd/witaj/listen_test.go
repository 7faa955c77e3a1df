package main

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestSlowRequestIsCut: a client that sends its headers slowly (or
// never finishes them) loses the connection after the header timeout,
// whatever the path and the secret.
func TestSlowRequestIsCut(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the header timeout")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(http.NotFoundHandler(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	go srv.Serve(ln)
	defer srv.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("POST /slack/events HTTP/1.1\r\nHost: x\r\n")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	_, err = io.ReadAll(conn)
	if d := time.Since(start); err != nil || d > 8*time.Second {
		t.Errorf("an unfinished request held its connection for %v (%v)", d, err)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	release := make(chan struct{})
	var entered sync.WaitGroup
	entered.Add(2)
	h := limitConcurrency(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered.Done()
		<-release
	}), 2)
	ts := httptest.NewServer(h)
	defer ts.Close()
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if resp, err := http.Get(ts.URL); err == nil {
				resp.Body.Close()
			}
		})
	}
	entered.Wait()
	resp, err := http.Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("third request at once: %d, want 503", resp.StatusCode)
	}
	close(release)
	wg.Wait()
}
