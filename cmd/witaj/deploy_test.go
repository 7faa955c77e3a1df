package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/witaj/witaj/bot/redis/redistest"
	"github.com/witaj/witaj/bot/telegram/telegramtest"
)

// composeFile is the part of compose.yaml the deployment relies on.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       string            `yaml:"build"`
		Command     []string          `yaml:"command"`
		EnvFile     string            `yaml:"env_file"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
		Ports       []string          `yaml:"ports"`
		Healthcheck struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
		DependsOn map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

// TestComposeFile checks compose.yaml: Redis with AOF on a volume, witaj
// built here, configured by witaj.env, healthy by `witaj healthcheck`,
// the admin port never published. `docker compose config` checks it
// too where Docker Compose is installed.
func TestComposeFile(t *testing.T) {
	src, err := os.ReadFile("../../compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(src, &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	r, w := c.Services["redis"], c.Services["witaj"]
	if !slices.Contains(r.Command, "--appendonly") || !slices.Contains(r.Command, "yes") {
		t.Errorf("redis command %v: want AOF (--appendonly yes)", r.Command)
	}
	if len(r.Volumes) == 0 || !strings.HasSuffix(r.Volumes[0], ":/data") {
		t.Errorf("redis volumes %v: want a volume on /data", r.Volumes)
	}
	if _, ok := c.Volumes["redis-data"]; !ok {
		t.Error("the redis-data volume is not declared")
	}
	if w.Build != "." || w.EnvFile != "witaj.env" {
		t.Errorf("witaj: build %q env_file %q", w.Build, w.EnvFile)
	}
	if w.Environment["WITAJ_REDIS_URL"] != "redis://redis:6379/0" {
		t.Errorf("witaj's Redis: %q", w.Environment["WITAJ_REDIS_URL"])
	}
	if !slices.Equal(w.Healthcheck.Test, []string{"CMD", "/usr/local/bin/witaj", "healthcheck"}) {
		t.Errorf("witaj healthcheck %v", w.Healthcheck.Test)
	}
	if w.DependsOn["redis"].Condition != "service_healthy" {
		t.Error("witaj does not wait for a healthy Redis")
	}
	for _, p := range w.Ports {
		if strings.Contains(p, "9090") {
			t.Errorf("the admin port is published: %s", p)
		}
	}
	if out, err := exec.Command("docker", "compose", "version").CombinedOutput(); err == nil && strings.Contains(string(out), "Compose") {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "compose.yaml"), src, 0o644)
		env, _ := os.ReadFile("witaj.env.example")
		os.WriteFile(filepath.Join(dir, "witaj.env"), env, 0o644)
		cmd := exec.Command("docker", "compose", "config", "--quiet")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("docker compose config: %v\n%s", err, out)
		}
	}
}

// TestComposeCommandsWithoutContainers runs what the compose file runs,
// without a container runtime: a redis-server with AOF, and `witaj serve`
// with the example env file as compose passes it (its environment on top)
// and a token filled in; then the health check the compose file uses.
func TestComposeCommandsWithoutContainers(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the built binary")
	}
	rs := redistest.StartAOF(t)
	tg := telegramtest.New(t)
	env := readEnvFile(t, "witaj.env.example")
	env["WITAJ_TELEGRAM_TOKEN"] = "123:test" // the one line a user must fill in
	env["WITAJ_TELEGRAM_API_URL"] = tg.URL()
	// compose.yaml's environment, with this machine's addresses.
	env["WITAJ_REDIS_URL"] = "redis://" + rs.Addr + "/0"
	admin := freeAddr(t)
	env["WITAJ_ADMIN_LISTEN"] = ":" + strings.Split(admin, ":")[1]
	env["WITAJ_LISTEN"] = freeAddr(t)
	p := startProc(t, env)
	defer p.stop()
	cmd := exec.Command(witajBinary(t), "healthcheck")
	cmd.Env = []string{"WITAJ_ADMIN_LISTEN=" + env["WITAJ_ADMIN_LISTEN"]}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("witaj healthcheck: %v\n%s", err, out)
	}
}

// readEnvFile reads KEY=value lines as docker's env_file does: comments
// and blank lines skipped, no quoting.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: bad line %q", path, line)
		}
		env[k] = v
	}
	return env
}

// TestSlackManifest checks deploy/slack-manifest.yaml: the scopes and
// events witaj needs, Socket Mode on, interactivity on.
func TestSlackManifest(t *testing.T) {
	src, err := os.ReadFile("../../deploy/slack-manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		OAuth struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
		Settings struct {
			Events struct {
				BotEvents []string `yaml:"bot_events"`
			} `yaml:"event_subscriptions"`
			Interactivity struct {
				Enabled bool `yaml:"is_enabled"`
			} `yaml:"interactivity"`
			SocketMode bool `yaml:"socket_mode_enabled"`
		} `yaml:"settings"`
	}
	if err := yaml.Unmarshal(src, &m); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"chat:write", "channels:history", "groups:history", "channels:read", "groups:read", "users:read"} {
		if !slices.Contains(m.OAuth.Scopes.Bot, s) {
			t.Errorf("scope %s missing", s)
		}
	}
	for _, e := range []string{"message.channels", "message.groups"} {
		if !slices.Contains(m.Settings.Events.BotEvents, e) {
			t.Errorf("event %s missing", e)
		}
	}
	if !m.Settings.Interactivity.Enabled || !m.Settings.SocketMode {
		t.Error("interactivity and Socket Mode must be on")
	}
}
