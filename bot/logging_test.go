package bot_test

import (
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/witaj/witaj/bot"
)

// TestOneLogLinePerUpdate: each handled update logs one info line with
// what was decided (decision, topic id@version, language, latency) and
// nothing the user wrote.
func TestOneLogLinePerUpdate(t *testing.T) {
	h := newHarness(t)
	var logs syncLog
	svc := bot.NewService(h.store, h.migrants, nil, h.faq, bot.DefaultConfig(), slog.New(slog.NewTextHandler(&logs, nil)), nil, nil)
	for _, u := range []bot.Update{command(1, 5, "start", "en"), text(2, 5, "what is the minimum wage"), text(3, 5, "zxqv wibble")} {
		if err := svc.Handle(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(l, "update handled") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 3 {
		t.Fatalf("%d 'update handled' lines for 3 updates:\n%s", len(lines), logs.String())
	}
	for i, want := range []string{"kind=command", "decision=answer topic=work.wage@2 lang=en", "decision=none"} {
		if !strings.Contains(lines[i], want) || !strings.Contains(lines[i], "ms=") {
			t.Errorf("line %d = %s; want %q and the latency", i+1, lines[i], want)
		}
	}
	if s := logs.String(); strings.Contains(s, "minimum wage") || strings.Contains(s, "wibble") {
		t.Errorf("a user's words reached the log:\n%s", s)
	}
}

// syncLog is a log buffer safe for concurrent writers.
type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
