package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	goredis "github.com/redis/go-redis/v9"

	"github.com/witaj/witaj/bot/redis/redistest"
	"github.com/witaj/witaj/bot/telegram/telegramtest"
)

// instance is a `witaj serve` running in-process against a fake Telegram
// and a real redis-server.
type instance struct {
	tg        *telegramtest.Server
	redisAddr string
	admin     string
	listen    string
	stop      func() error
	stderr    *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServe runs serve with env on top of a base configuration and waits
// until it is ready.
func startServe(t testing.TB, tg *telegramtest.Server, redisAddr string, extra map[string]string) *instance {
	t.Helper()
	in := &instance{tg: tg, redisAddr: redisAddr, admin: freeAddr(t), listen: freeAddr(t), stderr: &syncBuffer{}}
	env := map[string]string{
		"WITAJ_TELEGRAM_TOKEN":     "123:test",
		"WITAJ_TELEGRAM_API_URL":   tg.URL(),
		"WITAJ_REDIS_URL":          "redis://" + redisAddr,
		"WITAJ_ADMIN_LISTEN":       in.admin,
		"WITAJ_LISTEN":             in.listen,
		"WITAJ_SEND_RATE":          "1000",
		"WITAJ_SEND_RATE_PER_CHAT": "1000",
	}
	for k, v := range extra {
		env[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, in.stderr)
	}()
	var once sync.Once
	var err error
	in.stop = func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	t.Cleanup(func() { in.stop() })
	deadline := time.Now().Add(90 * time.Second) // loading the FAQ under -race on a slow CI machine
	for {
		resp, err := http.Get("http://" + in.admin + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return in
			}
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited: %v\n%s", err, in.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not ready:\n%s", in.stderr)
		}
		time.Sleep(20 * time.Millisecond) // readiness has no event to wait on
	}
}

func waitSent(t *testing.T, tg *telegramtest.Server, chat int64, n int) []telegramtest.SentMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := tg.WaitSent(ctx, chat, n)
	if err != nil {
		var got strings.Builder
		for i, m := range tg.Sent(chat) {
			fmt.Fprintf(&got, "\n  %d: %.120q", i, m.Visible)
		}
		t.Fatalf("chat %d: waiting for %d messages: %v; got %d:%s", chat, n, err, len(tg.Sent(chat)), got.String())
	}
	return got
}

// conversation plays one user's script in polling mode and checks each
// reply: every step is an update, and the reply must contain want.
type step struct {
	update func(u models.User) models.Update
	want   []string // substrings of the replies to this update
	n      int      // messages expected for this update
}

func TestServeConversations(t *testing.T) {
	rs := redistest.Start(t)
	tg := telegramtest.New(t)
	startServe(t, tg, rs.Addr, nil)
	text := func(s string) func(models.User) models.Update {
		return func(u models.User) models.Update { return telegramtest.Text(u, s) }
	}
	cmd := func(c, arg string) func(models.User) models.Update {
		return func(u models.User) models.Update { return telegramtest.Command(u, c, arg) }
	}
	press := func(data string) func(models.User) models.Update {
		return func(u models.User) models.Update { return telegramtest.Callback(u, "cb-"+data, data, 1) }
	}
	tests := []struct {
		lang  string
		steps []step
	}{
		{"uk", []step{
			{cmd("start", ""), []string{"Оберіть мову"}, 1},
			{press("lang:uk"), []string{"Вітаю"}, 1},
			{text("як отримати песель"), []string{"PESEL", "Офіційні джерела", "gov.pl"}, 1},
			{press("fb:up:legal.pesel"), []string{"Дякуємо"}, 1},
		}},
		{"pl", []step{
			{cmd("start", "pl"), []string{"Dzień dobry"}, 1},
			{press("cat:health"), []string{"Tematy"}, 1},
			{text("zgubilem karte pobytu w autobusie"), []string{"Karta pobytu"}, 1},
			{press("fb:down:legal.residence-card"), []string{"Przykro"}, 1},
		}},
		{"en", []step{
			{cmd("start", "en"), []string{"Hello"}, 1},
			{text("qwerty asdfgh zxcvb"), []string{"not sure"}, 1},
			{text("what will the weather be tomorrow"), []string{"cannot help with that"}, 1},
			{cmd("menu", ""), []string{"Choose a topic"}, 1},
		}},
		{"ru", []step{
			{cmd("start", "ru"), []string{"Здравствуйте"}, 1},
			{text("документы"), []string{"Вы имели в виду"}, 1},
			{cmd("forget", ""), []string{"Вы уверены"}, 1},
			{press("forget:yes"), []string{"удалено"}, 1},
		}},
	}
	var wg sync.WaitGroup
	for i, tt := range tests {
		wg.Go(func() {
			chat := int64(500 + i)
			user := telegramtest.User(chat, "Test", tt.lang)
			seen := 0
			for j, st := range tt.steps {
				tg.QueueUpdate(st.update(user))
				got := waitSent(t, tg, chat, seen+st.n)
				reply := ""
				for _, m := range got[seen:] {
					reply += m.Visible + "\n"
				}
				for _, w := range st.want {
					if !strings.Contains(reply, w) {
						t.Errorf("%s step %d: reply %.200q lacks %q", tt.lang, j, reply, w)
					}
				}
				seen += st.n
			}
		})
	}
	wg.Wait()
	// Answers carry their sources and buttons.
	ans := tg.Sent(500)[2]
	if len(ans.Keyboard) < 2 || !strings.HasPrefix(ans.Keyboard[0][0].CallbackData, "fb:up:") {
		t.Errorf("answer keyboard %+v", ans.Keyboard)
	}
	// Every button press was answered, so no spinner stays on screen.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tg.WaitFor(ctx, func(s *telegramtest.Server) bool { return len(s.Answers()) >= 5 }); err != nil {
		t.Errorf("callback queries answered: %d, want 5", len(tg.Answers()))
	}
	// /forget left no key of the Russian chat behind.
	rdb := goredis.NewClient(&goredis.Options{Addr: rs.Addr})
	defer rdb.Close()
	// The confirmation is sent before its outbox entry is settled, so
	// the last keys may take a moment to go.
	var left []string
	for deadline := time.Now().Add(3 * time.Second); ; {
		keys, _ := rdb.Keys(context.Background(), "witaj:{chat:503}:*").Result()
		// Left: the send pacing mark and the handled update ids, which
		// hold no content.
		left = slices.DeleteFunc(keys, func(k string) bool { return strings.HasSuffix(k, ":next") || strings.HasSuffix(k, ":seen") })
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, k := range left {
		t.Errorf("after /forget key %s remains", k)
	}
	// Commands were registered for every language; without Slack there
	// is no /human to offer.
	reqs := tg.RequestsFor("setMyCommands")
	if len(reqs) != 5 {
		t.Errorf("setMyCommands called %d times, want 5", len(reqs))
	}
	for _, r := range reqs {
		if cmds := r.Params["commands"]; strings.Contains(cmds, `"human"`) || !strings.Contains(cmds, `"forget"`) {
			t.Errorf("commands without consultants: %s", cmds)
		}
	}
}

func TestServeWebhook(t *testing.T) {
	rs := redistest.Start(t)
	tg := telegramtest.New(t)
	hook := map[string]string{"WITAJ_TELEGRAM_WEBHOOK_URL": "https://witaj.example.org/telegram/hook", "WITAJ_TELEGRAM_WEBHOOK_SECRET": "hook-secret_1"}
	a := startServe(t, tg, rs.Addr, hook)
	b := startServe(t, tg, rs.Addr, hook) // a second replica on the same Redis
	if w := tg.Webhook(); w.URL != hook["WITAJ_TELEGRAM_WEBHOOK_URL"] {
		t.Errorf("webhook set to %+v", w)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	user := telegramtest.User(77, "Anna", "pl")
	post := func(in *instance, secret string, u models.Update) int {
		resp, err := tg.PostWebhook(ctx, "http://"+in.listen+"/telegram/hook", secret, u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(a, "wrong", telegramtest.Text(user, "pesel")); code != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d", code)
	}
	// The same update reaches both replicas at once (a retry racing the
	// original): one reply.
	upd := tg.Stamp(telegramtest.Start(user, "pl"))
	var wg sync.WaitGroup
	for _, in := range []*instance{a, b} {
		wg.Go(func() {
			if code := post(in, "hook-secret_1", upd); code != http.StatusOK {
				t.Errorf("post: %d", code)
			}
		})
	}
	wg.Wait()
	waitSent(t, tg, 77, 1)
	next := tg.Stamp(telegramtest.Text(user, "pesel Zyxwvut"))
	if code := post(b, "hook-secret_1", next); code != http.StatusOK {
		t.Fatalf("post: %d", code)
	}
	got := waitSent(t, tg, 77, 2)
	if len(tg.Sent(77)) != 2 || !strings.Contains(got[1].Visible, "PESEL") {
		t.Errorf("replies %d: %q", len(tg.Sent(77)), got[len(got)-1].Visible)
	}
	resp, err := http.Get("http://" + a.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{"witaj_webhook_denied_total 1", `witaj_faq_info{version="45-`, "witaj_updates_total"} {
		if !strings.Contains(string(body), m) {
			t.Errorf("metrics lack %q", m)
		}
	}
	if err := a.stop(); err != nil {
		t.Errorf("serve exit: %v", err)
	}
	if err := b.stop(); err != nil {
		t.Errorf("serve exit: %v", err)
	}
	// The message went to replica b: read the log of both. (The word is
	// one no FAQ file or URL holds.)
	for _, in := range []*instance{a, b} {
		if strings.Contains(strings.ToLower(in.stderr.String()), "zyxwvut") {
			t.Errorf("a user's message text reached the log:\n%s", in.stderr)
		}
	}
}

func TestServeMisconfigured(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "witaj chat"},
		{map[string]string{"WITAJ_TELEGRAM_TOKEN": "x", "WITAJ_TELEGRAM_API_URL": "not a url"}, "WITAJ_TELEGRAM_API_URL"},
		{map[string]string{"WITAJ_TELEGRAM_TOKEN": "x", "WITAJ_TELEGRAM_WEBHOOK_URL": "https://x.org/h"}, "WITAJ_TELEGRAM_WEBHOOK_SECRET"},
		{map[string]string{"WITAJ_TELEGRAM_TOKEN": "x", "WITAJ_RETENTION": "forever"}, "WITAJ_RETENTION"},
		{map[string]string{"WITAJ_TELEGRAM_TOKEN": "x", "WITAJ_SEND_RATE": "-1"}, "WITAJ_SEND_RATE"},
	}
	for _, tt := range tests {
		_, stderr, err := witaj(t, tt.env, "serve")
		wantExit(t, err, 1)
		if !strings.Contains(stderr, tt.want) {
			t.Errorf("env %v: stderr %q lacks %q", tt.env, stderr, tt.want)
		}
	}
}

// TestServeWaitsForDependencies: while Redis or Telegram cannot be
// reached, serve keeps trying (capped backoff), the admin port is open
// and says "not ready", and each outage is logged once, when it starts
// and when it ends. A token Telegram refuses (401) ends serve with a
// hint about the token, said once.
func TestServeWaitsForDependencies(t *testing.T) {
	rs := redistest.Start(t)
	proxy := redistest.NewProxy(t, rs.Addr)
	proxy.Pause() // Redis unreachable at start
	tg := telegramtest.New(t)
	tg.Fail("getMe", 0, telegramtest.InternalError(), 2) // and Telegram failing twice
	admin := freeAddr(t)
	env := map[string]string{"WITAJ_TELEGRAM_TOKEN": "123:x", "WITAJ_TELEGRAM_API_URL": tg.URL(),
		"WITAJ_REDIS_URL": "redis://" + proxy.Addr, "WITAJ_ADMIN_LISTEN": admin, "WITAJ_LISTEN": freeAddr(t)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, stderr)
	}()
	status := func() int {
		resp, err := http.Get("http://" + admin + "/readyz")
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	deadline := time.Now().Add(10 * time.Second)
	for status() != http.StatusServiceUnavailable && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := status(); got != http.StatusServiceUnavailable {
		t.Fatalf("readyz while Redis is unreachable: %d, want 503\n%s", got, stderr)
	}
	waitLog(t, stderr, "Redis unreachable") // after the FAQ has loaded
	time.Sleep(2 * time.Second)
	proxy.Resume()
	deadline = time.Now().Add(60 * time.Second)
	for status() != http.StatusOK && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := status(); got != http.StatusOK {
		t.Fatalf("readyz after recovery: %d\n%s", got, stderr)
	}
	logs := stderr.String()
	for _, line := range []string{"Redis unreachable", "Redis reachable again", "Telegram unreachable", "Telegram reachable again"} {
		if n := strings.Count(logs, line); n != 1 {
			t.Errorf("%q logged %d times, want once\n%s", line, n, logs)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve exit: %v", err)
	}

	// A refused token is definite: exit with the right hint, once.
	tg.Fail("getMe", 0, telegramtest.Failure{Code: http.StatusUnauthorized, Description: "Unauthorized"}, 0)
	env["WITAJ_ADMIN_LISTEN"] = freeAddr(t)
	env["WITAJ_REDIS_URL"] = "redis://" + rs.Addr
	_, errOut, err := witaj(t, env, "serve")
	wantExit(t, err, 1)
	if strings.Count(errOut, "WITAJ_TELEGRAM_TOKEN") != 1 || strings.Contains(errOut, "unreachable") {
		t.Errorf("a refused token: %q, want one hint about WITAJ_TELEGRAM_TOKEN", errOut)
	}
}

func TestServeEmbeddedRedis(t *testing.T) {
	tg := telegramtest.New(t)
	// No WITAJ_REDIS_URL: serve starts with the embedded Redis and warns.
	inst := startServe(t, tg, "", map[string]string{"WITAJ_REDIS_URL": ""})
	tg.QueueUpdate(telegramtest.Command(telegramtest.User(88, "Ola", "pl"), "start", "pl"))
	waitSent(t, tg, 88, 1)
	if err := inst.stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(inst.stderr.String(), "ALL STATE") {
		t.Errorf("no loud warning about the embedded Redis:\n%s", inst.stderr)
	}
}

// TestGapsAfterServing: questions without a direct answer are counted and
// listed by `faq gaps`, with no user identifier.
func TestGapsAfterServing(t *testing.T) {
	rs := redistest.Start(t)
	tg := telegramtest.New(t)
	startServe(t, tg, rs.Addr, nil)
	user := telegramtest.User(901, "Gap", "en")
	tg.QueueUpdate(telegramtest.Command(user, "start", "en"))
	waitSent(t, tg, 901, 1)
	for i, q := range []string{"where to buy a cheap bike", "Where to buy a cheap  bike"} {
		tg.QueueUpdate(telegramtest.Text(user, q))
		waitSent(t, tg, 901, 2+i)
	}
	stdout, _, err := witaj(t, map[string]string{"WITAJ_REDIS_URL": "redis://" + rs.Addr}, "faq", "gaps")
	wantExit(t, err, 0)
	if !strings.Contains(stdout, "    2  en   where to buy a cheap bike") {
		t.Errorf("faq gaps:\n%s", stdout)
	}
	if strings.Contains(stdout, "901") {
		t.Errorf("faq gaps shows a chat id:\n%s", stdout)
	}
}

// TestTwoPollers: of two replicas in polling mode only the leader calls
// getUpdates, so Telegram never answers 409.
func TestTwoPollers(t *testing.T) {
	rs := redistest.Start(t)
	tg := telegramtest.New(t)
	startServe(t, tg, rs.Addr, nil)
	startServe(t, tg, rs.Addr, nil)
	user := telegramtest.User(902, "Two", "uk")
	for i := range 3 {
		tg.QueueUpdate(telegramtest.Command(user, "start", "uk"))
		waitSent(t, tg, 902, i+1)
	}
	for _, r := range tg.RequestsFor("getUpdates") {
		if r.Status == http.StatusConflict {
			t.Errorf("a getUpdates call got 409")
		}
	}
	if len(tg.RequestsFor("getUpdates")) == 0 {
		t.Fatal("nobody polled")
	}
}
