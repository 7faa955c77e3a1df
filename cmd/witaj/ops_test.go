package main

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestEveryCommandHasHelp: every subcommand answers --help with exit 0.
func TestEveryCommandHasHelp(t *testing.T) {
	for _, args := range [][]string{
		{"serve"}, {"chat"}, {"healthcheck"}, {"version"},
		{"faq", "lint"}, {"faq", "diff"}, {"faq", "ask"}, {"faq", "eval"}, {"faq", "dialogues"}, {"faq", "gaps"},
	} {
		_, _, err := witaj(t, nil, append(args, "--help")...)
		if err != nil {
			t.Errorf("witaj %s --help: %v, want exit 0", strings.Join(args, " "), err)
		}
	}
}

// TestServeHelpListsEveryVariable: serve --help names every variable
// the configuration reads.
func TestServeHelpListsEveryVariable(t *testing.T) {
	src, err := os.ReadFile("config.go")
	if err != nil {
		t.Fatal(err)
	}
	usage := strings.SplitN(string(src), "const serveUsage", 2)
	for _, v := range regexp.MustCompile(`getenv\("(WITAJ_[A-Z_]+)"`).FindAllStringSubmatch(usage[0], -1) {
		if !strings.Contains(serveUsage, v[1]) {
			t.Errorf("serve --help does not mention %s", v[1])
		}
	}
}

func TestVersion(t *testing.T) {
	out, _, err := witaj(t, nil, "version")
	if err != nil || !strings.Contains(out, "built-in FAQ 45-") {
		t.Errorf("version = %q, %v", out, err)
	}
}

func TestHealthcheck(t *testing.T) {
	ready := true
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" || !ready {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
		}
	}))
	defer hs.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(hs.URL, "http://"))
	for _, addr := range []string{":" + port, "127.0.0.1:" + port, "0.0.0.0:" + port} {
		_, _, err := witaj(t, map[string]string{"WITAJ_ADMIN_LISTEN": addr}, "healthcheck")
		wantExit(t, err, 0)
	}
	ready = false
	_, _, err := witaj(t, map[string]string{"WITAJ_ADMIN_LISTEN": ":" + port}, "healthcheck")
	wantExit(t, err, 1)
}

func TestGapsRejectsBadLimits(t *testing.T) {
	for _, args := range [][]string{{"--limit", "-1"}, {"--limit", "0"}, {"--days", "0"}} {
		_, _, err := witaj(t, map[string]string{"WITAJ_REDIS_URL": "redis://127.0.0.1:1"}, append([]string{"faq", "gaps"}, args...)...)
		if !errors.Is(err, errUsage) {
			t.Errorf("faq gaps %v: %v, want a usage error", args, err)
		}
	}
	_, _, err := witaj(t, map[string]string{"WITAJ_REDIS_URL": "redis://127.0.0.1:1"}, "faq", "gaps")
	if err == nil || strings.Count(err.Error(), "\n") > 0 {
		t.Errorf("unreachable Redis: %v, want one clear line", err)
	}
}

func TestHoursValidatedWithoutSlack(t *testing.T) {
	for _, env := range []map[string]string{
		{"WITAJ_TELEGRAM_TOKEN": "1:x", "WITAJ_HOURS": "Mon-Fri 9-5"},
		{"WITAJ_TELEGRAM_TOKEN": "1:x", "WITAJ_TIMEZONE": "Europe/Gdansk"},
	} {
		if _, err := loadConfig(func(k string) string { return env[k] }); err == nil {
			t.Errorf("%v accepted", env)
		}
	}
}
