package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	goredis "github.com/redis/go-redis/v9"

	"github.com/witaj/witaj/bot/redis"
	"github.com/witaj/witaj/bot/redis/redistest"
	"github.com/witaj/witaj/bot/slack/slackfake"
	"github.com/witaj/witaj/bot/telegram/telegramtest"
)

// The fault suite drives the built binary, `witaj serve`, against a real
// redis-server behind a fault proxy and the fake Telegram, and counts
// from the fakes' records what the README promises: every acknowledged
// update answered (0 lost), none answered twice (0 duplicated, except the
// documented "at most once more" after kill -9), and no key left without
// an expiry. Windows are short so that the suite fits in CI.

// soak lengthens the fault windows to the (Redis paused 30 s,
// 6 s latency): go test ./cmd/witaj -run TestFaults -faults.soak
var soak = flag.Bool("faults.soak", false, "run the fault suite with long windows")

// window is short in CI and long when soaking.
func window(short, long time.Duration) time.Duration {
	if *soak {
		return long
	}
	return short
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// witajBinary builds the binary once per test run, unless WITAJ_BINARY
// names one.
func witajBinary(t testing.TB) string {
	t.Helper()
	// Another build, for comparing one commit with another under the
	// same load (BenchmarkServeProcess).
	if bin := os.Getenv("WITAJ_BINARY"); bin != "" {
		return bin
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "witaj-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "witaj")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// proc is one running `witaj serve`.
type proc struct {
	cmd    *exec.Cmd
	admin  string
	stderr *syncBuffer
}

// startProc starts `witaj serve` with env and waits until it is ready.
// freeAddr's port is free when chosen, not when serve binds it: another
// test's process can take it in between. serve then names the variable
// in its error, and startProc gives that variable a new port (in env, so
// that the caller sees it) and starts again.
func startProc(t testing.TB, env map[string]string) *proc {
	t.Helper()
	for try := 1; ; try++ {
		p, taken := tryProc(t, env)
		if p != nil {
			return p
		}
		if try == 3 {
			t.Fatalf("witaj serve: %s still taken after 3 tries", taken)
		}
		port := freeAddr(t)
		if strings.HasPrefix(env[taken], ":") {
			port = port[strings.LastIndex(port, ":"):]
		}
		env[taken] = port
	}
}

// addrTaken finds the listen variable of "cannot start" when its port was
// taken: {"err":"WITAJ_LISTEN: listen tcp 127.0.0.1:1: bind: address already in use"}.
var addrTaken = regexp.MustCompile(`"(WITAJ_[A-Z_]*LISTEN): listen tcp [^"]*: bind: address already in use`)

// tryProc starts serve once: the ready process, or nil and the variable
// whose port was taken.
func tryProc(t testing.TB, env map[string]string) (*proc, string) {
	t.Helper()
	p := &proc{admin: env["WITAJ_ADMIN_LISTEN"], stderr: &syncBuffer{}}
	p.cmd = exec.Command(witajBinary(t), "serve")
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.kill)
	deadline := time.Now().Add(20 * time.Second)
	// A timeout: the port may be another process's that never answers.
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get("http://" + p.admin + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, ""
			}
		}
		if m := addrTaken.FindStringSubmatch(p.stderr.String()); m != nil {
			p.kill()
			return nil, m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("witaj serve not ready:\n%s", p.stderr)
		}
		time.Sleep(50 * time.Millisecond) // readiness has no event to wait on
	}
}

// kill ends the process as kill -9 does.
func (p *proc) kill() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_ = p.cmd.Wait()
	}
}

// stop ends the process gracefully.
func (p *proc) stop() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		_ = p.cmd.Wait()
	}
}

// faultRig is one scenario's world: Redis behind a proxy, the fake
// Telegram, and the environment of witaj processes.
type faultRig struct {
	t     *testing.T
	redis *redistest.Server
	proxy *redistest.Proxy
	tg    *telegramtest.Server
	env   map[string]string
}

func newFaultRig(t *testing.T, aof bool) *faultRig {
	srv := redistest.Start
	if aof {
		srv = redistest.StartAOF
	}
	r := &faultRig{t: t, redis: srv(t), tg: telegramtest.New(t)}
	r.proxy = redistest.NewProxy(t, r.redis.Addr)
	r.env = map[string]string{
		"WITAJ_TELEGRAM_TOKEN":     "123:test",
		"WITAJ_TELEGRAM_API_URL":   r.tg.URL(),
		"WITAJ_REDIS_URL":          "redis://" + r.proxy.Addr,
		"WITAJ_ADMIN_LISTEN":       freeAddr(t),
		"WITAJ_LISTEN":             freeAddr(t),
		"WITAJ_SEND_RATE":          "1000",
		"WITAJ_SEND_RATE_PER_CHAT": "1000",
		"WITAJ_LOG_FORMAT":         "json",
	}
	return r
}

// load queues perChat "/help" commands (one reply each) in each of chats
// chats, interleaved, and returns the chat ids.
func (r *faultRig) load(chats, perChat int) []int64 {
	ids := make([]int64, chats)
	for i := range ids {
		ids[i] = int64(9000 + i)
	}
	for range perChat {
		for _, id := range ids {
			r.tg.QueueUpdate(telegramtest.Command(telegramtest.User(id, "Test", "en"), "help", ""))
		}
	}
	return ids
}

// settle waits until every update is confirmed and each chat has want
// replies (or the deadline passes), then a little longer for stragglers.
func (r *faultRig) settle(ids []int64, want int, within time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	_ = r.tg.WaitFor(ctx, func(s *telegramtest.Server) bool {
		if s.Pending() > 0 {
			return false
		}
		for _, id := range ids {
			if len(s.Sent(id)) < want {
				return false
			}
		}
		return true
	})
	time.Sleep(500 * time.Millisecond)
}

// tally counts lost and duplicated replies: each of the perChat updates
// of a chat has exactly one reply.
func (r *faultRig) tally(ids []int64, perChat int) (lost, dup int) {
	for _, id := range ids {
		n := len(r.tg.Sent(id))
		lost += max(0, perChat-n)
		dup += max(0, n-perChat)
	}
	return lost, dup
}

// keysWithoutTTL lists keys that never expire, except the documented
// permanent schedules (a chat leaves them when its queue empties).
func (r *faultRig) keysWithoutTTL() []string {
	rdb := goredis.NewClient(&goredis.Options{Addr: r.redis.Addr})
	defer rdb.Close()
	ctx := context.Background()
	keys, _ := rdb.Keys(ctx, "*").Result()
	permanent := map[string]bool{"witaj:sendq": true, "witaj:slackq": true, "witaj:cases:open": true, "witaj:cases:active": true,
		"witaj:topics": true, "witaj:broadcasts": true}
	var out []string
	for _, k := range keys {
		if ttl, _ := rdb.TTL(ctx, k).Result(); ttl == -1 && !permanent[k] {
			out = append(out, k)
		}
	}
	return out
}

// TestFaults runs each scenario and reports its figures.
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("the fault suite drives the built binary for about a minute")
	}
	t.Parallel() // with the other fault suites, after the serial tests
	const chats, perChat = 20, 5
	scenarios := []struct {
		name string
		aof  bool
		// lastRound: the fault starts once every round but the last is
		// answered, and hits the last.
		lastRound bool
		// maxLogs bounds the warnings and errors logged: an outage is
		// logged when it starts and ends, not at every retry.
		maxLogs int
		maxDup  int // duplicates the README allows (at most once more per message in flight at a kill)
		fault   func(t *testing.T, r *faultRig, p **proc)
		timeout time.Duration
	}{
		// Lose the commit replies of the last round, each chat's last
		// update: no later update of the chat would carry its reply out.
		{name: "connection reset after commit", lastRound: true, fault: func(t *testing.T, r *faultRig, _ **proc) {
			r.proxy.LoseReplyTo([]byte(redis.ScriptSHA("commit")), 8)
		}},
		{name: "redis paused", maxLogs: 12, fault: func(t *testing.T, r *faultRig, _ **proc) {
			time.Sleep(200 * time.Millisecond)
			r.proxy.Pause()
			time.Sleep(30 * time.Second) // the outage, in full: the scenarios run side by side
			r.proxy.Resume()
		}, timeout: 90 * time.Second},
		{name: "redis latency", fault: func(t *testing.T, r *faultRig, _ **proc) {
			time.Sleep(200 * time.Millisecond)
			r.proxy.Delay(window(4*time.Second, 6*time.Second))
			time.Sleep(window(5*time.Second, 20*time.Second))
			r.proxy.Delay(0)
		}, timeout: 90 * time.Second},
		{name: "redis restarted with AOF", aof: true, fault: func(t *testing.T, r *faultRig, _ **proc) {
			time.Sleep(300 * time.Millisecond)
			r.redis.Restart(t)
		}},
		{name: "telegram down", maxLogs: 12, fault: func(t *testing.T, r *faultRig, _ **proc) {
			r.tg.Fail("getUpdates", 0, telegramtest.InternalError(), 0)
			r.tg.Fail("sendMessage", 0, telegramtest.InternalError(), 0)
			time.Sleep(30 * time.Second)
			r.tg.ClearFailures()
		}, timeout: 120 * time.Second},
		{name: "telegram 429 and 500", fault: func(t *testing.T, r *faultRig, _ **proc) {
			r.tg.Fail("sendMessage", 0, telegramtest.TooManyRequests(1), 3)
			r.tg.Fail("sendMessage", 0, telegramtest.InternalError(), 5)
		}},
		{name: "kill -9 with telegram at 100ms", maxDup: 16, fault: func(t *testing.T, r *faultRig, p **proc) {
			r.tg.Fail("sendMessage", 0, telegramtest.Slow(100*time.Millisecond), 0)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_ = r.tg.WaitFor(ctx, func(s *telegramtest.Server) bool { return s.Count("sendMessage") >= chats*perChat/3 })
			(*p).kill()
			*p = startProc(t, r.env)
		}},
	}
	for _, sc := range scenarios {
		t.Run(strings.ReplaceAll(sc.name, " ", "_"), func(t *testing.T) {
			// Each scenario has its own redis-server, proxy, fakes and
			// process; most of their time is waiting.
			t.Parallel()
			r := newFaultRig(t, sc.aof)
			p := startProc(t, r.env)
			var ids []int64
			if sc.lastRound {
				ids = r.load(chats, perChat-1)
				r.settle(ids, perChat-1, 20*time.Second)
				sc.fault(t, r, &p)
				r.load(chats, 1)
			} else {
				ids = r.load(chats, perChat)
				sc.fault(t, r, &p)
			}
			timeout := sc.timeout
			if timeout == 0 {
				timeout = 40 * time.Second
			}
			r.settle(ids, perChat, timeout)
			p.stop()
			lost, dup := r.tally(ids, perChat)
			noTTL := r.keysWithoutTTL()
			t.Logf("%s: updates %d, lost %d, duplicated %d (allowed %d), redis replies lost by the proxy %d, keys without TTL %d",
				sc.name, chats*perChat, lost, dup, sc.maxDup, r.proxy.Lost(), len(noTTL))
			if lost > 0 {
				t.Errorf("%d acknowledged updates never answered\n%s", lost, tail(p.stderr.String(), 3000))
			}
			if dup > sc.maxDup {
				t.Errorf("%d replies duplicated, at most %d allowed", dup, sc.maxDup)
			}
			if len(noTTL) > 0 {
				t.Errorf("keys without TTL: %v", noTTL)
			}
			if sc.maxLogs > 0 {
				logs := strings.Count(p.stderr.String(), `"level":"WARN"`) + strings.Count(p.stderr.String(), `"level":"ERROR"`)
				t.Logf("%s: %d warnings and errors logged", sc.name, logs)
				if logs > sc.maxLogs {
					t.Errorf("%d warnings and errors logged, at most %d wanted:\n%s", logs, sc.maxLogs, tail(p.stderr.String(), 4000))
				}
			}
		})
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// TestFaultsSlack: migrants' messages reach their case threads once while
// Slack fails: 500, 429, a hang longer than the send timeout, and 500
// after posting.
func TestFaultsSlack(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the built binary")
	}
	t.Parallel()
	const chats, perChat = 4, 3
	scenarios := []struct {
		name  string
		fault func(sl *slackfake.Server)
	}{
		{"slack 500", func(sl *slackfake.Server) {
			sl.Fail("chat.postMessage", slackfake.Failure{Status: http.StatusInternalServerError}, 3)
		}},
		{"slack 429", func(sl *slackfake.Server) {
			sl.Fail("chat.postMessage", slackfake.Failure{Status: http.StatusTooManyRequests, RetryAfter: 1}, 2)
		}},
		{"slack 500 after posting", func(sl *slackfake.Server) {
			sl.Fail("chat.postMessage", slackfake.Failure{Status: http.StatusInternalServerError, Commit: true}, 2)
		}},
		{"slack hang", func(sl *slackfake.Server) {
			sl.Fail("chat.postMessage", slackfake.Failure{Delay: 12 * time.Second, Commit: true}, 1)
		}},
	}
	for _, sc := range scenarios {
		t.Run(strings.ReplaceAll(sc.name, " ", "_"), func(t *testing.T) {
			// Each scenario has its own redis-server, proxy, fakes and
			// process; most of their time is waiting.
			t.Parallel()
			r := newFaultRig(t, false)
			sl := slackfake.New(t)
			sl.SetMembers(consultants, "UCONS1")
			for k, v := range map[string]string{
				"WITAJ_SLACK_BOT_TOKEN": "xoxb-test", "WITAJ_SLACK_API_URL": sl.APIURL(), "WITAJ_SLACK_CHANNEL": consultants,
				"WITAJ_SLACK_SIGNING_SECRET": slackSecret, "WITAJ_SLACK_RATE": "50", "WITAJ_HOURS": "Mon-Sun 00:00-24:00",
			} {
				r.env[k] = v
			}
			p := startProc(t, r.env)
			defer p.stop()
			users := make([]models.User, chats)
			for i := range users {
				users[i] = telegramtest.User(int64(9100+i), "Test", "en")
				r.tg.QueueUpdate(telegramtest.Command(users[i], "start", "en"))
				r.tg.QueueUpdate(telegramtest.Command(users[i], "human", ""))
				r.tg.QueueUpdate(telegramtest.Callback(users[i], fmt.Sprintf("cb%d", i), "consent:yes", 1))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := sl.WaitFor(ctx, func(s *slackfake.Server) bool { return len(s.Posts()) >= chats }); err != nil {
				t.Fatalf("cases never reached Slack: %v", err)
			}
			sc.fault(sl)
			for n := range perChat {
				for i := range users {
					r.tg.QueueUpdate(telegramtest.Text(users[i], fmt.Sprintf("msg-%d-%d", i, n)))
				}
			}
			want := func(s *slackfake.Server) bool {
				texts := allTexts(s)
				for i := range users {
					for n := range perChat {
						if !strings.Contains(texts, fmt.Sprintf("msg-%d-%d", i, n)) {
							return false
						}
					}
				}
				return true
			}
			ctx2, cancel2 := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel2()
			if err := sl.WaitFor(ctx2, want); err != nil {
				t.Errorf("relays never all arrived: %v", err)
			}
			time.Sleep(time.Second)
			texts := allTexts(sl)
			lost, dup, parents := 0, 0, 0
			for i := range users {
				for n := range perChat {
					c := strings.Count(texts, fmt.Sprintf("msg-%d-%d\n", i, n))
					lost += max(0, 1-c)
					dup += max(0, c-1)
				}
			}
			for _, post := range sl.Posts() {
				if post.ThreadTS == "" && strings.Contains(post.Text, "case W-") && !post.Deleted {
					parents++
				}
			}
			t.Logf("%s: relays %d, lost %d, duplicated %d, case parents %d (want %d)", sc.name, chats*perChat, lost, dup, parents, chats)
			if lost > 0 || dup > 0 || parents != chats {
				t.Errorf("lost %d, duplicated %d relays; %d parents for %d cases", lost, dup, parents, chats)
			}
		})
	}
}

// allTexts joins the text of every live Slack post, one a line.
func allTexts(s *slackfake.Server) string {
	var b strings.Builder
	for _, p := range s.Posts() {
		if !p.Deleted {
			b.WriteString(p.Text + "\n")
		}
	}
	return b.String()
}

// TestFaultsTwoReplicas: two replicas behind a round-robin balancer get a
// chat's updates a few milliseconds apart; each chat's replies come in
// the order of its updates, once each.
func TestFaultsTwoReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the built binary")
	}
	r := newFaultRig(t, false)
	r.env["WITAJ_TELEGRAM_WEBHOOK_URL"] = "https://witaj.example.org/hook"
	r.env["WITAJ_TELEGRAM_WEBHOOK_SECRET"] = "hook-secret"
	a := startProc(t, r.env)
	defer a.stop()
	envB := map[string]string{}
	for k, v := range r.env {
		envB[k] = v
	}
	envB["WITAJ_ADMIN_LISTEN"], envB["WITAJ_LISTEN"] = freeAddr(t), freeAddr(t)
	b := startProc(t, envB)
	defer b.stop()
	listens := []string{r.env["WITAJ_LISTEN"], envB["WITAJ_LISTEN"]}
	// Commands whose replies tell them apart, in this order per chat.
	seq := []string{"help", "privacy", "menu", "help", "privacy", "menu"}
	const chats = 10
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for c := range chats {
		wg.Go(func() {
			user := telegramtest.User(int64(9200+c), "Test", "en")
			for i, cmd := range seq {
				u := r.tg.Stamp(telegramtest.Command(user, cmd, ""))
				for {
					resp, err := r.tg.PostWebhook(ctx, "http://"+listens[(c+i)%2]+"/hook", "hook-secret", u)
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						break
					}
					time.Sleep(20 * time.Millisecond) // Telegram redelivers
				}
				time.Sleep(3 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	r.settle(chatIDs(9200, chats), len(seq), 20*time.Second)
	marks := map[string]string{"help": "/menu", "privacy": "What witaj keeps", "menu": "Choose a topic"}
	for c := range chats {
		sent := r.tg.Sent(int64(9200 + c))
		if len(sent) != len(seq) {
			t.Errorf("chat %d: %d replies, want %d", 9200+c, len(sent), len(seq))
			for i, m := range sent {
				t.Logf("reply %d: %.60q", i, m.Visible)
			}
			for _, l := range strings.Split(a.stderr.String()+b.stderr.String(), "\n") {
				if strings.Contains(l, fmt.Sprintf(`"chat":%d`, 9200+c)) {
					t.Log(l)
				}
			}
			continue
		}
		for i, cmd := range seq {
			if !strings.Contains(sent[i].Visible, marks[cmd]) {
				t.Errorf("chat %d reply %d is not the answer to /%s: %.80q", 9200+c, i, cmd, sent[i].Visible)
			}
		}
	}
}

func chatIDs(first int64, n int) []int64 {
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = first + int64(i)
	}
	return ids
}

// TestFaultsBroadcastKill: an announcement to 1,500 chats; witaj is
// killed (kill -9) halfway through and started again. Every chat gets it,
// and no chat gets it twice beyond the documented bound (a message being
// sent at the moment of the kill is sent once more).
func TestFaultsBroadcastKill(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the built binary")
	}
	t.Parallel()
	const chats = 1500
	r := newFaultRig(t, false)
	r.env["WITAJ_SEND_RATE"] = "400" // broadcasts: half, 200/s
	rdb := goredis.NewClient(&goredis.Options{Addr: r.redis.Addr})
	defer rdb.Close()
	ctx := context.Background()
	langs := []string{"pl", "en", "uk", "ru"}
	p := rdb.Pipeline()
	for i := range chats {
		chat, lang := 30_000+i, langs[i%4]
		p.Set(ctx, fmt.Sprintf("witaj:{chat:%d}:session", chat), fmt.Sprintf(`{"schema":1,"lang":%q,"lang_ok":true,"subs":["news"],"updated":"2026-12-01T10:00:00Z"}`, lang), time.Hour)
		p.SAdd(ctx, "witaj:subs:news:"+lang, chat)
		p.Expire(ctx, "witaj:subs:news:"+lang, time.Hour) // as a commit does
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	announce := func(args ...string) string {
		cmd := exec.Command(witajBinary(t), append([]string{"announce"}, args...)...)
		cmd.Env = []string{"WITAJ_REDIS_URL=redis://" + r.redis.Addr}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("witaj announce %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := announce("--dry-run", "testdata/announce/courses.yaml"); !strings.Contains(out, "would send news:courses-2027-01 to 1500 chats") {
		t.Fatalf("dry run:\n%s", out)
	}
	if out := announce("testdata/announce/courses.yaml"); !strings.Contains(out, "for 1500 chats") {
		t.Fatalf("announce:\n%s", out)
	}
	proc := startProc(t, r.env)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_ = r.tg.WaitFor(wctx, func(s *telegramtest.Server) bool { return s.Count("sendMessage") >= chats/2 })
	proc.kill()
	atKill := len(r.tg.RequestsFor("sendMessage"))
	proc = startProc(t, r.env)
	defer proc.stop()
	// Recipients claimed at the kill wait out the 30 s lease.
	r.settle(chatIDs(30_000, chats), 1, 60*time.Second)
	lost, dup := r.tally(chatIDs(30_000, chats), 1)
	t.Logf("kill -9 after %d of %d: lost %d, duplicated %d", atKill, chats, lost, dup)
	if lost > 0 {
		t.Errorf("%d chats never got the announcement", lost)
	}
	if dup > 16 {
		t.Errorf("%d chats got it twice; at most one per send worker in flight at the kill (16) is allowed", dup)
	}
	status := announce("status", "courses-2027-01")
	if !strings.Contains(status, "1500/1500 chats handled") {
		t.Errorf("status after the broadcast:\n%s", status)
	}
	t.Logf("status:\n%s", status)
	if keys := r.keysWithoutTTL(); len(keys) > 0 {
		t.Errorf("keys without TTL: %v", keys)
	}
}

// TestStartProcRetriesTakenPort: a listen port taken between freeAddr and
// serve's bind is replaced, and the caller's env names the new one.
func TestStartProcRetriesTakenPort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts witaj serve")
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	r := newFaultRig(t, false)
	r.env["WITAJ_ADMIN_LISTEN"] = taken.Addr().String()
	p := startProc(t, r.env)
	defer p.stop()
	if r.env["WITAJ_ADMIN_LISTEN"] == taken.Addr().String() || p.admin != r.env["WITAJ_ADMIN_LISTEN"] {
		t.Fatal("serve is ready on a port another process holds")
	}
}
