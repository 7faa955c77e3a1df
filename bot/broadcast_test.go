package bot_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
)

// nextFAQ is the test FAQ after an edit: work.wage went from version 2
// to 3 with a change note ("From 1 January 2027 … 5000 zł").
func nextFAQ(t testing.TB, h *harness) *bot.FAQ {
	t.Helper()
	base, probs, err := knowledge.Load(os.DirFS("../flows/testdata/faq-next"), knowledge.Options{})
	if err != nil {
		t.Fatalf("load faq-next: %v\n%v", err, probs)
	}
	f := *h.faq
	f.Engine = flows.New(base, knowledge.NewMatcher(base, knowledge.DefaultThresholds()), flows.DefaultConfig())
	f.Render = bot.NewRenderer(base, h.faq.Render.Catalog())
	return &f
}

// subscribe stores n chats (ids from first) that follow key, each with a
// session as the engine leaves it, in the four languages in turn.
func subscribe(t testing.TB, h *harness, first, n int, key string) {
	t.Helper()
	langs := knowledge.Langs()
	p := h.rdb.Pipeline()
	for i := range n {
		chat := first + i
		lang := langs[i%len(langs)]
		p.Set(ctx, fmt.Sprintf("witaj:{chat:%d}:session", chat), fmt.Sprintf(`{"schema":1,"lang":%q,"lang_ok":true,"subs":[%q],"updated":"2026-11-23T10:00:00Z"}`, lang, key), time.Hour)
		p.SAdd(ctx, fmt.Sprintf("witaj:subs:%s:%s", key, lang), chat)
		if p.Len() >= 2000 {
			if _, err := p.Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
}

func runBroadcaster(t *testing.T, b *bot.Broadcaster) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	return func() { cancel(); <-done }
}

// TestAlertReachesEachSubscriberOnce: 10,000 chats follow a topic; the
// editors publish a new version with a change note. Loading it (twice,
// as two replicas or a reload would) queues one alert; every subscriber
// gets it once, in their language, and never faster than the broadcast
// rate.
func TestAlertReachesEachSubscriberOnce(t *testing.T) {
	const chats, rate = 10_000, 2500.0
	h := newHarness(t)
	subscribe(t, h, 1, chats, "work.wage")
	subscribe(t, h, 20_001, 50, "legal.pesel") // not about this topic
	if ids, err := bot.QueueAlerts(ctx, h.store, h.faq, h.migrants, time.Now()); err != nil || len(ids) != 0 {
		t.Fatalf("first load ever queued %v (%v); it only records the versions", ids, err)
	}
	next := nextFAQ(t, h)
	var queued []string
	for range 2 {
		ids, err := bot.QueueAlerts(ctx, h.store, next, h.migrants, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		queued = append(queued, ids...)
	}
	if len(queued) != 1 || !strings.HasPrefix(queued[0], "alert:work.wage@3:") {
		t.Fatalf("alerts queued = %v, want one for work.wage@3", queued)
	}
	send := fastSend()
	send.Rate, send.RatePerChat, send.Workers = 10*rate, 1000, 32
	sender := h.sender(send)
	bcfg := bot.DefaultBroadcastConfig()
	bcfg.Rate, bcfg.Poll = rate, 10*time.Millisecond
	bc := bot.NewBroadcaster(h.store, bcfg, h.log, nil)
	sender.OnSettled = bc.Counted
	stopSender := h.runSender(t, sender)
	start := time.Now()
	stopB := runBroadcaster(t, bc)
	deadline := time.Now().Add(60 * time.Second)
	for h.migrants.total() < chats && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	elapsed := time.Since(start)
	time.Sleep(200 * time.Millisecond) // anything more would show now
	stopB()
	stopSender()

	notes := map[knowledge.Lang]string{knowledge.PL: "płaca minimalna wynosi", knowledge.EN: "the minimum wage is", knowledge.UK: "мінімальна зарплата становить", knowledge.RU: "минимальная зарплата составляет"}
	var missing, twice, wrongLang int
	for i := range chats {
		got := h.migrants.sentTo(bot.ChatID(1 + i))
		switch {
		case len(got) == 0:
			missing++
		case len(got) > 1:
			twice++
		case !strings.Contains(got[0].Text, notes[knowledge.Langs()[i%4]]):
			wrongLang++
		}
	}
	for i := range 50 {
		if got := h.migrants.sentTo(bot.ChatID(20_001 + i)); len(got) > 0 {
			t.Fatalf("chat following another topic got %v", got)
		}
	}
	if missing+twice+wrongLang > 0 {
		t.Errorf("%d subscribers got nothing, %d more than once, %d in the wrong language", missing, twice, wrongLang)
	}
	if st, err := h.store.Status(ctx, queued[0]); err != nil || st.Total != chats || st.Counts["queued"] != chats || st.Counts["sent"] != chats || st.Remaining != 0 {
		t.Errorf("status = %+v (%v), want %d queued and sent", st, err, chats)
	}
	// Never faster than the rate: the first slot is free, then 1/rate each.
	if min := time.Duration(float64(chats-1) / rate * float64(time.Second)); elapsed < min*95/100 {
		t.Errorf("%d alerts went out in %v: faster than %v/s", chats, elapsed, rate)
	}
	t.Logf("%d alerts in %v (%.0f/s, limit %.0f/s)", chats, elapsed.Round(time.Millisecond), float64(chats)/elapsed.Seconds(), rate)
}

// TestRepliesDuringBroadcast: at the default rates (25/s overall,
// broadcasts at half of it), questions asked while an announcement goes
// out are answered within 2 s.
func TestRepliesDuringBroadcast(t *testing.T) {
	h := newHarness(t)
	subscribe(t, h, 1, 2000, "news")
	b := bot.Broadcast{ID: "news:test", Keys: []string{flows.SubNews}, Messages: map[knowledge.Lang][]bot.OutMessage{}}
	for _, l := range knowledge.Langs() {
		b.Messages[l] = []bot.OutMessage{{ID: "bc:news:test-0", Text: "news " + string(l), Broadcast: b.ID}}
	}
	if _, err := h.store.CreateBroadcast(ctx, b, time.Now()); err != nil {
		t.Fatal(err)
	}
	send := bot.DefaultSendConfig()
	send.Poll = 100 * time.Millisecond
	sender := h.sender(send)
	stopSender := h.runSender(t, sender)
	defer stopSender()
	bc := bot.NewBroadcaster(h.store, bot.DefaultBroadcastConfig(), h.log, nil)
	bc.Wake = sender.Wake()
	stopB := runBroadcaster(t, bc)
	defer stopB()
	svc := h.service(sender.Wake())
	time.Sleep(time.Second) // the broadcast is under way
	var delays []time.Duration
	for i := range 20 {
		chat := bot.ChatID(50_000 + i)
		asked := time.Now()
		if err := svc.Handle(ctx, command(int64(i+1), chat, "start", "en")); err != nil {
			t.Fatal(err)
		}
		got := h.migrants.waitSent(t, chat, 1, 10*time.Second)
		delays = append(delays, got[0].At.Sub(asked))
		time.Sleep(150 * time.Millisecond)
	}
	slices.Sort(delays)
	p99 := delays[len(delays)-1]
	if p99 > 2*time.Second {
		t.Errorf("replies during a broadcast: slowest %v, want ≤ 2 s (all: %v)", p99, delays)
	}
	if n := h.migrants.total(); n < 40 {
		t.Errorf("only %d broadcast messages went out meanwhile: was the broadcast running?", n-20)
	}
	t.Logf("reply delays during a broadcast: median %v, slowest %v; %d messages sent", delays[len(delays)/2], p99, h.migrants.total())
}

// BenchmarkQueueAlert100k times what loading a changed FAQ costs when a
// topic has 100,000 subscribers: the alert's audience is read from the
// index and snapshotted into its queue. It also reports the Redis memory
// one subscription takes in the index (the session holds the topic id
// too, a few bytes more).
func BenchmarkQueueAlert100k(b *testing.B) {
	const subs = 100_000
	h := newHarness(b)
	info := func() int64 {
		var used int64
		s, _ := h.rdb.Info(ctx, "memory").Result()
		for _, line := range strings.Split(s, "\r\n") {
			if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
				fmt.Sscan(v, &used)
			}
		}
		return used
	}
	langs := knowledge.Langs()
	p := h.rdb.Pipeline()
	for i := range subs {
		p.Set(ctx, fmt.Sprintf("witaj:{chat:%d}:session", i+1), fmt.Sprintf(`{"schema":1,"lang":%q,"subs":["work.wage"]}`, langs[i%4]), time.Hour)
		if p.Len() >= 5000 {
			p.Exec(ctx)
		}
	}
	p.Exec(ctx)
	before := info()
	for i := range subs {
		p.SAdd(ctx, "witaj:subs:work.wage:"+string(langs[i%4]), i+1)
		if p.Len() >= 5000 {
			p.Exec(ctx)
		}
	}
	p.Exec(ctx)
	perSub := float64(info()-before) / subs
	next := nextFAQ(b, h)
	e, _ := next.Engine.KB().Entry("work.wage")
	alert, err := bot.AlertBroadcast(next, h.migrants, e)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a := alert
		a.ID = fmt.Sprintf("%s-%d", alert.ID, i)
		if created, err := h.store.CreateBroadcast(ctx, a, time.Now()); err != nil || !created {
			b.Fatal(created, err)
		}
	}
	b.StopTimer()
	st, _ := h.store.Status(ctx, alert.ID+"-0")
	if st.Total != subs {
		b.Fatalf("audience %d, want %d", st.Total, subs)
	}
	b.ReportMetric(perSub, "index-B/sub")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/alert")
}

// TestSubscriptionLifecycle drives the service as a user would: follow a
// topic from its answer, get the alert when the topic changes, block the
// bot (403) and be skipped by the next alert, then /forget: the chat
// leaves the subscription index and gets nothing more.
func TestSubscriptionLifecycle(t *testing.T) {
	h := newHarness(t)
	svc := h.service(nil)
	const chat = bot.ChatID(77)
	for i, u := range []bot.Update{command(1, chat, "start", "uk"), text(2, chat, "мінімальна зарплата"), press(3, chat, "sub:work.wage")} {
		if err := svc.Handle(ctx, u); err != nil {
			t.Fatalf("update %d: %v", i+1, err)
		}
	}
	if ok, _ := h.rdb.SIsMember(ctx, "witaj:subs:work.wage:uk", "77").Result(); !ok {
		t.Fatal("following from the answer's button did not reach the index")
	}
	sender := h.sender(fastSend())
	bc := bot.NewBroadcaster(h.store, bot.BroadcastConfig{Rate: 1000, Lease: time.Minute, Poll: 10 * time.Millisecond}, h.log, nil)
	sender.OnSettled = bc.Counted
	stopSender := h.runSender(t, sender)
	defer stopSender()
	bot.QueueAlerts(ctx, h.store, h.faq, h.migrants, time.Now())
	next := nextFAQ(t, h)
	ids, err := bot.QueueAlerts(ctx, h.store, next, h.migrants, time.Now())
	if err != nil || len(ids) != 1 {
		t.Fatalf("QueueAlerts = %v, %v", ids, err)
	}
	for {
		if worked, err := bc.Step(ctx); err != nil {
			t.Fatal(err)
		} else if !worked {
			break
		}
	}
	got := h.migrants.waitSent(t, chat, 4, 5*time.Second) // welcome, answer, "done", alert
	if !strings.Contains(got[3].Text, "5000") {
		t.Fatalf("the alert = %q, want the change note", got[3].Text)
	}
	bc.Step(ctx) // ends the broadcast
	waitCount(t, h, ids[0], "sent", 1)

	// The user blocks the bot: the next message fails with 403.
	h.migrants.failNext(chat, bot.ErrBlocked)
	if err := svc.Handle(ctx, text(4, chat, "мінімальна зарплата")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	e, _ := next.Engine.KB().Entry("work.wage")
	later := *e
	later.Version, later.Change = 4, map[knowledge.Lang]string{knowledge.PL: "x", knowledge.EN: "x", knowledge.UK: "x", knowledge.RU: "x"}
	b2, err := bot.AlertBroadcast(next, h.migrants, e)
	if err != nil {
		t.Fatal(err)
	}
	b2.ID = bot.AlertID(&later)
	h.store.CreateBroadcast(ctx, b2, time.Now())
	for worked := true; worked; worked, _ = bc.Step(ctx) {
	}
	if st, _ := h.store.Status(ctx, b2.ID); st.Counts["unreachable"] != 1 || st.Counts["queued"] != 0 {
		t.Errorf("an alert to a chat that blocked the bot: %+v, want it skipped as unreachable", st)
	}

	// /forget: out of the index, and a later alert finds nobody.
	for i, u := range []bot.Update{command(5, chat, "forget", ""), press(6, chat, "forget:yes")} {
		if err := svc.Handle(ctx, u); err != nil {
			t.Fatalf("forget %d: %v", i, err)
		}
	}
	if n, _ := h.rdb.SCard(ctx, "witaj:subs:work.wage:uk").Result(); n != 0 {
		t.Errorf("after /forget the index still holds %d chats", n)
	}
	b3 := b2
	b3.ID += "-after-forget"
	h.store.CreateBroadcast(ctx, b3, time.Now())
	if st, _ := h.store.Status(ctx, b3.ID); st.Total != 0 {
		t.Errorf("a forgotten chat is in a later alert's audience: %+v", st)
	}
}

// waitCount waits for a broadcast counter, which the sender updates
// after the message went out.
func waitCount(t *testing.T, h *harness, id, counter string, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := h.store.Status(ctx, id)
		if err == nil && st.Counts[counter] == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("broadcast %s: %s = %d, want %d (%+v, %v)", id, counter, st.Counts[counter], want, st, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
