package redis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/bot/redis/redistest"
	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
)

// backends are the servers the contract suite runs against: a real
// redis-server (what production uses) and miniredis (what `serve` embeds
// when no Redis is configured).
func backends(t *testing.T) map[string]func(t *testing.T) goredis.UniversalClient {
	// One cluster serves the whole suite (a cluster takes seconds to
	// form), started when first needed and stopped when t ends.
	var once sync.Once
	var cluster *goredis.ClusterClient
	sharedCluster := func(*testing.T) goredis.UniversalClient {
		once.Do(func() { cluster = redistest.StartCluster(t, 3).Client(t) })
		return cluster
	}
	return map[string]func(t *testing.T) goredis.UniversalClient{
		"redis-server": func(t *testing.T) goredis.UniversalClient { return redistest.Start(t).Client(t) },
		"miniredis": func(t *testing.T) goredis.UniversalClient {
			m := miniredis.RunT(t)
			c := goredis.NewClient(&goredis.Options{Addr: m.Addr()})
			t.Cleanup(func() { c.Close() })
			return c
		},
		// As on Redis Cluster: no step relies on a pipeline's order.
		"redis-server-stepwise": func(t *testing.T) goredis.UniversalClient { return redistest.Start(t).Client(t) },
		// Three masters: a chat's keys, a broadcast's keys and the global
		// keys land on different nodes. Each test has its own key prefix.
		"redis-cluster": sharedCluster,
	}
}

// TestContract runs every store test against every backend.
func TestContract(t *testing.T) {
	tests := map[string]func(t *testing.T, st *Store, rdb goredis.UniversalClient){
		"begin commit dedupe":  testBeginCommit,
		"lock":                 testLock,
		"failures":             testFailures,
		"outbox":               testOutbox,
		"forget leaves no key": testForget,
		"keys expire":          testKeysExpire,
		"rate limit":           testRate,
		"commit schedules":     testCommitSchedules,
		"finish":               testFinish,
		"script cache lost":    testScriptCacheLost,
		"tiny interval":        testTinyInterval,
		"slack due":            testSlackDue,
		"gaps":                 testGaps,
		"leader":               testLeader,
		"audit bounded":        testAudit,
		"unreachable":          testUnreachable,
		"commit twice":         testCommitTwice,
		"release":              testRelease,
		"pop by id":            testPopByID,
		"maybe sent":           testMaybeSent,
		"broadcast once":       testBroadcastOnce,
		"broadcast lease":      testBroadcastLease,
		"broadcast not before": testBroadcastNotBefore,
		"forget unfollows":     testForgetUnfollows,
		"topic versions":       testTopicVersions,
	}
	for name, backend := range backends(t) {
		t.Run(name, func(t *testing.T) {
			for tname, tt := range tests {
				t.Run(tname, func(t *testing.T) {
					rdb := backend(t)
					st := New(rdb, Options{Retention: time.Hour, Prefix: "witaj:" + strings.ReplaceAll(tname, " ", "-") + ":"})
					if strings.HasSuffix(name, "-stepwise") {
						st.ordered = false
					}
					tt(t, st, rdb)
				})
			}
		})
	}
}

var ctx = context.Background()

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func mustBegin(t *testing.T, st *Store, chat bot.ChatID, upd int64, token string) bot.Begun {
	t.Helper()
	b, err := st.Begin(ctx, chat, upd, token, time.Minute)
	if err != nil {
		t.Fatalf("Begin(%d, %d): %v", chat, upd, err)
	}
	return b
}

func msg(id, text string) bot.OutMessage { return bot.OutMessage{ID: id, Text: text} }

func testBeginCommit(t *testing.T, st *Store, _ goredis.UniversalClient) {
	b := mustBegin(t, st, 7, 100, "a")
	if b.Session.Schema != 0 {
		t.Fatalf("new chat has session %+v", b.Session)
	}
	s := flows.Session{Schema: flows.SchemaVersion, Lang: knowledge.UK, LangConfirmed: true}
	if err := st.Commit(ctx, 7, "a", bot.Commit{UpdateID: 100, Session: s, Now: t0, Out: []bot.OutMessage{msg("100-0", "hi")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Begin(ctx, 7, 100, "b", time.Minute); !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("Begin of a handled update: %v, want ErrDuplicate", err)
	}
	b = mustBegin(t, st, 7, 101, "b")
	if b.Session.Lang != knowledge.UK || !b.Session.LangConfirmed {
		t.Errorf("session did not round-trip: %+v", b.Session)
	}
	// Update ids may restart lower after a week of silence: only the set
	// of handled ids counts, never the highest.
	if err := st.Commit(ctx, 7, "b", bot.Commit{UpdateID: 101, Session: s, Now: t0}); err != nil {
		t.Fatal(err)
	}
	mustBegin(t, st, 7, 5, "c")
}

func testLock(t *testing.T, st *Store, rdb goredis.UniversalClient) {
	mustBegin(t, st, 8, 1, "a")
	if _, err := st.Begin(ctx, 8, 2, "b", time.Minute); !errors.Is(err, bot.ErrBusy) {
		t.Fatalf("second worker: %v, want ErrBusy", err)
	}
	// The lease runs out (simulated: the key is what expires) and another
	// worker takes the chat; the first worker's late commit must fail and
	// store nothing.
	rdb.Del(ctx, st.chatKey(8, "lock"))
	mustBegin(t, st, 8, 1, "b")
	err := st.Commit(ctx, 8, "a", bot.Commit{UpdateID: 1, Now: t0, Out: []bot.OutMessage{msg("1-0", "late")}})
	if !errors.Is(err, bot.ErrLeaseLost) {
		t.Fatalf("commit after losing the lease: %v, want ErrLeaseLost", err)
	}
	if n, _ := rdb.LLen(ctx, st.chatKey(8, "out")).Result(); n != 0 {
		t.Errorf("a lost commit stored %d messages", n)
	}
	if err := st.Commit(ctx, 8, "b", bot.Commit{UpdateID: 1, Now: t0}); err != nil {
		t.Fatal(err)
	}
}

func testFailures(t *testing.T, st *Store, rdb goredis.UniversalClient) {
	for want := 1; want <= 3; want++ {
		mustBegin(t, st, 9, 1, "a")
		n, err := st.Fail(ctx, 9, 1, "a")
		if err != nil || n != want {
			t.Fatalf("Fail #%d = %d, %v", want, n, err)
		}
	}
	mustBegin(t, st, 9, 1, "a") // Fail released the lock
	if err := st.Commit(ctx, 9, "a", bot.Commit{UpdateID: 1, Now: t0}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := rdb.HExists(ctx, st.chatKey(9, "fails"), "1").Result(); ok {
		t.Error("the failure count survived a successful commit")
	}
}

func testOutbox(t *testing.T, st *Store, _ goredis.UniversalClient) {
	mustBegin(t, st, 10, 1, "a")
	out := []bot.OutMessage{msg("1-0", "one"), msg("1-1", "two")}
	if err := st.Commit(ctx, 10, "a", bot.Commit{UpdateID: 1, Now: t0, Out: out}); err != nil {
		t.Fatal(err)
	}
	if err := st.Schedule(ctx, 10, t0, nil); err != nil { // a no-op: Commit scheduled
		t.Fatal(err)
	}
	chats, next, _ := st.Due(ctx, t0.Add(-time.Second), 10, time.Minute)
	if len(chats) != 0 || !next.Equal(t0) {
		t.Fatalf("Due before the time = %v, next %v; want none, next at %v", chats, next, t0)
	}
	chats, next, err := st.Due(ctx, t0, 10, time.Minute)
	if err != nil || len(chats) != 1 || chats[0] != 10 {
		t.Fatalf("Due = %v, %v; want [10]", chats, err)
	}
	if !next.Equal(t0.Add(time.Minute)) {
		t.Errorf("after the claim, next due at %v, want the lease's end %v", next, t0.Add(time.Minute))
	}
	if chats, _, _ := st.Due(ctx, t0.Add(time.Second), 10, time.Minute); len(chats) != 0 {
		t.Fatalf("a claimed chat was handed out again: %v", chats)
	}
	m, queued, wait, err := st.Next(ctx, 10, t0)
	if err != nil || wait != 0 || m.ID != "1-0" || m.Text != "one" || queued != 2 {
		t.Fatalf("Next = %+v, %d queued, %v, %v", m, queued, wait, err)
	}
	n, err := st.Sent(ctx, 10, "1-0", t0, time.Second)
	if err != nil || n != 1 {
		t.Fatalf("Sent = %d, %v; want 1 left", n, err)
	}
	// Sent again (a retry) removes nothing more.
	if n, _ := st.Sent(ctx, 10, "1-0", t0, time.Second); n != 1 {
		t.Fatalf("repeated Sent left %d, want 1", n)
	}
	if _, _, wait, _ := st.Next(ctx, 10, t0.Add(500*time.Millisecond)); wait != 500*time.Millisecond {
		t.Fatalf("per-chat interval: wait %v, want 500ms", wait)
	}
	m, _, _, _ = st.Next(ctx, 10, t0.Add(time.Second))
	if m.ID != "1-1" {
		t.Fatalf("second message = %+v", m)
	}
	if n, _ := st.Drop(ctx, 10, "1-1"); n != 0 {
		t.Fatalf("Drop left %d", n)
	}
	if _, _, _, err := st.Next(ctx, 10, t0.Add(time.Hour)); !errors.Is(err, bot.ErrEmpty) {
		t.Fatalf("Next on an empty outbox: %v", err)
	}
	if err := st.Idle(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if chats, _, _ := st.Due(ctx, t0.Add(time.Hour), 10, time.Minute); len(chats) != 0 {
		t.Fatalf("an idle chat is still scheduled: %v", chats)
	}
}

// testCommitSchedules: a commit with messages puts the chat on the send
// schedule itself and counts the gaps; one without messages does not
// schedule.
func testCommitSchedules(t *testing.T, st *Store, _ goredis.UniversalClient) {
	mustBegin(t, st, 20, 1, "a")
	gaps := []flows.Gap{{Lang: knowledge.EN, Text: "weather"}}
	if err := st.Commit(ctx, 20, "a", bot.Commit{UpdateID: 1, Now: t0, Gaps: gaps}); err != nil {
		t.Fatal(err)
	}
	if chats, _, _ := st.Due(ctx, t0, 10, time.Minute); len(chats) != 0 {
		t.Fatalf("a commit without messages scheduled %v", chats)
	}
	if g, _ := st.Gaps(ctx, t0, 1, 10); len(g) != 1 || g[0].Count != 1 {
		t.Fatalf("gaps after commit = %+v", g)
	}
	mustBegin(t, st, 20, 2, "a")
	if err := st.Commit(ctx, 20, "a", bot.Commit{UpdateID: 2, Now: t0, Out: []bot.OutMessage{msg("2-0", "x")}}); err != nil {
		t.Fatal(err)
	}
	if chats, _, _ := st.Due(ctx, t0, 10, time.Minute); len(chats) != 1 {
		t.Fatalf("a commit with a message: Due = %v, want the chat", chats)
	}
}

// testFinish: the last message sent takes the chat off the schedule; a
// message committed meanwhile keeps it there.
func testFinish(t *testing.T, st *Store, _ goredis.UniversalClient) {
	mustBegin(t, st, 21, 1, "a")
	st.Commit(ctx, 21, "a", bot.Commit{UpdateID: 1, Now: t0, Out: []bot.OutMessage{msg("1-0", "x")}})
	st.Due(ctx, t0, 10, time.Minute)
	if _, queued, _, _ := st.Next(ctx, 21, t0); queued != 1 {
		t.Fatalf("queued = %d, want 1", queued)
	}
	// Another update commits while the first message is on its way.
	mustBegin(t, st, 21, 2, "a")
	st.Commit(ctx, 21, "a", bot.Commit{UpdateID: 2, Now: t0, Out: []bot.OutMessage{msg("2-0", "y")}})
	if n, err := st.Finish(ctx, 21, "1-0", t0, 0); err != nil || n != 1 {
		t.Fatalf("Finish = %d, %v; want 1 left", n, err)
	}
	if chats, _, _ := st.Due(ctx, t0.Add(time.Second), 10, time.Minute); len(chats) != 1 {
		t.Fatalf("the new message's chat is not scheduled: %v", chats)
	}
	if n, err := st.Finish(ctx, 21, "2-0", t0, 0); err != nil || n != 0 {
		t.Fatalf("Finish = %d, %v; want 0 left", n, err)
	}
	// Again, as a retry after a lost reply: nothing else changes.
	if n, err := st.Finish(ctx, 21, "2-0", t0, 0); err != nil || n != 0 {
		t.Fatalf("repeated Finish = %d, %v", n, err)
	}
	if chats, next, _ := st.Due(ctx, t0.Add(time.Hour), 10, time.Minute); len(chats) != 0 || !next.IsZero() {
		t.Fatalf("after the last message: Due = %v, next %v; want nothing scheduled", chats, next)
	}
}

// testScriptCacheLost: after Redis forgets its scripts (a restart, SCRIPT
// FLUSH), marking a message sent still pops it and moves the chat on the
// schedule as usual.
func testScriptCacheLost(t *testing.T, st *Store, rdb goredis.UniversalClient) {
	mustBegin(t, st, 23, 1, "a")
	st.Commit(ctx, 23, "a", bot.Commit{UpdateID: 1, Now: t0, Out: []bot.OutMessage{msg("1-0", "x"), msg("1-1", "y"), msg("1-2", "z")}})
	st.Due(ctx, t0, 10, time.Minute)
	rdb.ScriptFlush(ctx)
	if n, err := st.Sent(ctx, 23, "1-0", t0, time.Second); err != nil || n != 2 {
		t.Fatalf("Sent after SCRIPT FLUSH = %d, %v; want 2 left", n, err)
	}
	if chats, _, _ := st.Due(ctx, t0.Add(500*time.Millisecond), 10, time.Minute); len(chats) != 0 {
		t.Fatalf("chat due before its interval: %v", chats)
	}
	if chats, _, _ := st.Due(ctx, t0.Add(time.Second), 10, time.Minute); len(chats) != 1 {
		t.Fatalf("chat not due after its interval: %v", chats)
	}
	rdb.ScriptFlush(ctx)
	if n, err := st.Finish(ctx, 23, "1-1", t0.Add(time.Second), 0); err != nil || n != 1 {
		t.Fatalf("Finish after SCRIPT FLUSH = %d, %v; want 1 left", n, err)
	}
	if m, _, _, _ := st.Next(ctx, 23, t0.Add(2*time.Second)); m.ID != "1-2" {
		t.Fatalf("next message %q, want 1-2", m.ID)
	}
	if chats, _, _ := st.Due(ctx, t0.Add(2*time.Second), 10, time.Minute); len(chats) != 1 {
		t.Fatalf("chat with a message left is not due: %v", chats)
	}
}

// testTinyInterval: a per-chat interval under a millisecond still puts
// the chat back on the schedule after Sent (it stayed claimed for the
// whole lease: replies 30 s late under raised rates).
func testTinyInterval(t *testing.T, st *Store, _ goredis.UniversalClient) {
	mustBegin(t, st, 24, 1, "a")
	st.Commit(ctx, 24, "a", bot.Commit{UpdateID: 1, Now: t0, Out: []bot.OutMessage{msg("1-0", "x"), msg("1-1", "y")}})
	st.Due(ctx, t0, 10, time.Minute)
	if n, err := st.Sent(ctx, 24, "1-0", t0, 10*time.Microsecond); err != nil || n != 1 {
		t.Fatalf("Sent = %d, %v", n, err)
	}
	if chats, _, _ := st.Due(ctx, t0.Add(time.Second), 10, time.Minute); len(chats) != 1 {
		t.Fatalf("chat still claimed after a 10 µs interval: Due = %v", chats)
	}
}

// testSlackDue: claiming due Slack channels answers the channels and,
// apart, when the next one is due (the time was once taken for a
// channel, and the idle sender polled that "channel" 20 times a second).
func testSlackDue(t *testing.T, st *Store, _ goredis.UniversalClient) {
	if chats, next, err := st.SlackDue(ctx, t0, 8, time.Minute); err != nil || len(chats) != 0 || !next.IsZero() {
		t.Fatalf("empty queue: SlackDue = %v, %v, %v", chats, next, err)
	}
	if err := st.SlackPush(ctx, "CA", bot.SlackItem{ID: "i1", Kind: bot.SlackNotice, Text: "x"}); err != nil {
		t.Fatal(err)
	}
	st.SlackPush(ctx, "CB", bot.SlackItem{ID: "i2", Kind: bot.SlackNotice, Text: "y"})
	got, _, err := st.SlackDue(ctx, time.Now(), 1, time.Minute)
	if err != nil || len(got) != 1 || (got[0] != "CA" && got[0] != "CB") {
		t.Fatalf("SlackDue = %q, %v; want one of the two channels", got, err)
	}
	if err := st.SlackDefer(ctx, otherChannel(got[0]), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, next, _ := st.SlackDue(ctx, time.Now(), 8, time.Minute)
	if len(got) != 0 || next.IsZero() {
		t.Fatalf("both claimed or deferred: SlackDue = %q, next %v; want none and the earliest time", got, next)
	}
}

func otherChannel(ch string) string {
	if ch == "CA" {
		return "CB"
	}
	return "CA"
}

func testForget(t *testing.T, st *Store, rdb goredis.UniversalClient) {
	s := flows.Session{Schema: flows.SchemaVersion, Lang: knowledge.PL}
	mustBegin(t, st, 11, 1, "a")
	st.Commit(ctx, 11, "a", bot.Commit{UpdateID: 1, Session: s, Now: t0, Out: []bot.OutMessage{msg("1-0", "x")},
		Audit: []bot.AuditRecord{{Ref: "legal.pesel@1", KB: "45-x", At: t0}}, Control: bot.Blocked})
	mustBegin(t, st, 11, 2, "a")
	st.Fail(ctx, 11, 2, "a")
	mustBegin(t, st, 11, 2, "a")
	if err := st.Commit(ctx, 11, "a", bot.Commit{UpdateID: 2, Forget: true, Now: t0, Out: []bot.OutMessage{msg("2-0", "done")}}); err != nil {
		t.Fatal(err)
	}
	if keys := chatKeys(t, st, rdb, 11); !slices.Equal(keys, []string{st.chatKey(11, "out"), st.chatKey(11, "seen")}) {
		t.Fatalf("after /forget the chat has keys %v, want only the outbox with the confirmation and the handled ids", keys)
	}
	if _, err := st.Begin(ctx, 11, 2, "b", time.Minute); !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("Begin of the erasure again: %v, want ErrDuplicate", err)
	}
	if m, _, _, _ := st.Next(ctx, 11, t0); m.ID != "2-0" {
		t.Fatalf("confirmation = %+v", m)
	}
	st.Sent(ctx, 11, "2-0", t0, time.Second)
	for _, k := range chatKeys(t, st, rdb, 11) {
		if !strings.HasSuffix(k, ":seen") {
			t.Errorf("after the confirmation was sent, key %s remains", k)
		}
	}
}

// testCommitTwice: a commit retried after its reply was lost succeeds
// and stores nothing twice.
func testCommitTwice(t *testing.T, st *Store, rdb goredis.UniversalClient) {
	mustBegin(t, st, 15, 1, "a")
	c := bot.Commit{UpdateID: 1, Now: t0, Out: []bot.OutMessage{msg("1-0", "hi")}}
	if err := st.Commit(ctx, 15, "a", c); err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(ctx, 15, "a", c); err != nil {
		t.Fatalf("second commit of the same update: %v, want success", err)
	}
	if n, _ := rdb.LLen(ctx, st.chatKey(15, "out")).Result(); n != 1 {
		t.Errorf("outbox holds %d messages, want 1", n)
	}
	// Another update with a token that never held the lock still fails.
	if err := st.Commit(ctx, 15, "a", bot.Commit{UpdateID: 2, Now: t0}); !errors.Is(err, bot.ErrLeaseLost) {
		t.Errorf("commit without the lock: %v, want ErrLeaseLost", err)
	}
}

func testRelease(t *testing.T, st *Store, rdb goredis.UniversalClient) {
	mustBegin(t, st, 16, 1, "a")
	if err := st.Release(ctx, 16, "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Begin(ctx, 16, 1, "b", time.Minute); !errors.Is(err, bot.ErrBusy) {
		t.Fatalf("a wrong token released the lock: %v", err)
	}
	if err := st.Release(ctx, 16, "a"); err != nil {
		t.Fatal(err)
	}
	mustBegin(t, st, 16, 1, "b")
}

// chatKeys lists the keys of a chat except the short-lived send pacing key.
// allKeys is KEYS on every master: a cluster node only knows its own.
func allKeys(rdb goredis.UniversalClient, pattern string) ([]string, error) {
	cc, ok := rdb.(*goredis.ClusterClient)
	if !ok {
		return rdb.Keys(ctx, pattern).Result()
	}
	var mu sync.Mutex
	var out []string
	err := cc.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error {
		keys, err := c.Keys(ctx, pattern).Result()
		mu.Lock()
		out = append(out, keys...)
		mu.Unlock()
		return err
	})
	return out, err
}

func chatKeys(t *testing.T, st *Store, rdb goredis.UniversalClient, chat bot.ChatID) []string {
	t.Helper()
	keys, err := allKeys(rdb, st.prefix+fmt.Sprintf("{chat:%d}:*", chat))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range keys {
		if !strings.HasSuffix(k, ":next") {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// testKeysExpire: every key has a TTL except the documented permanent
// schedule, and all keys of a chat hash to one Cluster slot.
func testKeysExpire(t *testing.T, st *Store, rdb goredis.UniversalClient) {
	s := flows.Session{Schema: flows.SchemaVersion}
	mustBegin(t, st, 12, 1, "a")
	// Two messages: one stays in the outbox, whose expiry is checked.
	st.Commit(ctx, 12, "a", bot.Commit{UpdateID: 1, Session: s, Now: t0, Out: []bot.OutMessage{msg("1-0", "x"), msg("1-1", "y")},
		Audit: []bot.AuditRecord{{Ref: "a@1", At: t0}}, Control: bot.Blocked})
	st.Schedule(ctx, 12, t0, nil)
	st.Sent(ctx, 12, "1-0", time.Now(), time.Second)
	mustBegin(t, st, 12, 2, "a")
	st.Fail(ctx, 12, 2, "a")
	st.Schedule(ctx, 12, t0, []flows.Gap{{Lang: knowledge.EN, Text: "weather"}})
	st.DeadLetter(ctx, bot.DeadLetter{Chat: 12, UpdateID: 2, At: t0})
	st.Reserve(ctx, time.Now(), 30, 1)
	st.Lead(ctx, "poller", "a", time.Minute)
	keys, _ := allKeys(rdb, st.prefix+"*")
	if len(keys) < 8 {
		t.Fatalf("only %d keys written: %v", len(keys), keys)
	}
	slot := -1
	for _, k := range keys {
		if k == st.key("sendq") {
			continue // permanent by design: members leave when outboxes empty
		}
		if ttl, _ := rdb.PTTL(ctx, k).Result(); ttl <= 0 {
			t.Errorf("key %s has no TTL (%v)", k, ttl)
		}
		if strings.Contains(k, "{chat:12}") {
			if s := keySlot(k); slot == -1 {
				slot = s
			} else if s != slot {
				t.Errorf("key %s is in slot %d, other chat keys in %d", k, s, slot)
			}
		}
	}
}

// testRate: reservations at 10/s follow each other 100 ms apart, across
// callers (replicas); slots not taken in time are not saved up.
func testRate(t *testing.T, st *Store, _ goredis.UniversalClient) {
	now := time.Now()
	if w, err := st.Reserve(ctx, now, 10, 3); err != nil || w != 0 {
		t.Fatalf("first reservation: wait %v, %v", w, err)
	}
	w, _ := st.Reserve(ctx, now, 10, 1)
	if w < 290*time.Millisecond || w > 310*time.Millisecond {
		t.Fatalf("after 3 slots at 10/s: wait %v, want 300ms", w)
	}
	if w, _ := st.Reserve(ctx, now.Add(time.Hour), 10, 1); w != 0 {
		t.Fatalf("an hour later: wait %v, want 0", w)
	}
	if w, _ := st.Reserve(ctx, now.Add(time.Hour), 10, 1); w < 90*time.Millisecond || w > 110*time.Millisecond {
		t.Fatalf("next: wait %v, want 100ms (no burst from unused slots)", w)
	}
}

func testGaps(t *testing.T, st *Store, _ goredis.UniversalClient) {
	st.Schedule(ctx, 15, t0, []flows.Gap{{Lang: knowledge.EN, Text: "Weather  tomorrow?"}, {Lang: knowledge.PL, Text: "pogoda"}})
	st.Schedule(ctx, 15, t0.AddDate(0, 0, -1), []flows.Gap{{Lang: knowledge.EN, Text: "weather tomorrow?"}})
	got, err := st.Gaps(ctx, t0, 7, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []bot.GapCount{{Lang: knowledge.EN, Question: "weather tomorrow?", Count: 2}, {Lang: knowledge.PL, Question: "pogoda", Count: 1}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Gaps = %v, want %v", got, want)
	}
}

func testLeader(t *testing.T, st *Store, _ goredis.UniversalClient) {
	if ok, _ := st.Lead(ctx, "poller", "a", time.Minute); !ok {
		t.Fatal("first replica did not lead")
	}
	if ok, _ := st.Lead(ctx, "poller", "b", time.Minute); ok {
		t.Fatal("second replica took the lead")
	}
	if ok, _ := st.Lead(ctx, "poller", "a", time.Minute); !ok {
		t.Fatal("the leader could not renew")
	}
}

func testAudit(t *testing.T, st *Store, _ goredis.UniversalClient) {
	for i := range 120 {
		mustBegin(t, st, 13, int64(i), "a")
		st.Commit(ctx, 13, "a", bot.Commit{UpdateID: int64(i), Now: t0, Audit: []bot.AuditRecord{{Ref: fmt.Sprintf("x@%d", i), At: t0}}})
	}
	recs, err := st.Audit(ctx, 13)
	if err != nil || len(recs) != 100 || recs[0].Ref != "x@119" {
		t.Fatalf("Audit: %d records, first %+v, %v; want 100, newest first", len(recs), recs[0], err)
	}
}

func testUnreachable(t *testing.T, st *Store, rdb goredis.UniversalClient) {
	mustBegin(t, st, 14, 1, "a")
	st.Commit(ctx, 14, "a", bot.Commit{UpdateID: 1, Now: t0, Out: []bot.OutMessage{msg("1-0", "x")}})
	if err := st.Unreachable(ctx, 14); err != nil {
		t.Fatal(err)
	}
	if n, _ := rdb.LLen(ctx, st.chatKey(14, "out")).Result(); n != 0 {
		t.Errorf("outbox of a blocked chat has %d messages", n)
	}
	if v, _ := rdb.Get(ctx, st.chatKey(14, "blocked")).Result(); v != "1" {
		t.Errorf("blocked = %q", v)
	}
	// The mark is read: a message committed meanwhile is not handed out.
	mustBegin(t, st, 14, 2, "a")
	st.Commit(ctx, 14, "a", bot.Commit{UpdateID: 2, Now: t0, Out: []bot.OutMessage{msg("2-0", "y")}})
	if _, _, _, err := st.Next(ctx, 14, t0); !errors.Is(err, bot.ErrBlocked) {
		t.Fatalf("Next of a blocked chat: %v, want ErrBlocked", err)
	}
	// The user unblocks the bot: the mark goes, messages flow again.
	mustBegin(t, st, 14, 3, "a")
	st.Commit(ctx, 14, "a", bot.Commit{UpdateID: 3, Now: t0, Control: bot.Unblocked, Out: []bot.OutMessage{msg("3-0", "z")}})
	if m, _, _, err := st.Next(ctx, 14, t0); err != nil || m.ID != "2-0" {
		t.Fatalf("Next after unblocking = %+v, %v", m, err)
	}
}

// testPopByID: Sent removes the head by its id whatever the order of the
// fields in its JSON.
func testPopByID(t *testing.T, st *Store, rdb goredis.UniversalClient) {
	rdb.RPush(ctx, st.chatKey(17, "out"), `{"text":"a","id":"1-0"}`, `{"id":"1-1","text":"b"}`)
	if n, err := st.Sent(ctx, 17, "1-0", t0, 0); err != nil || n != 1 {
		t.Fatalf("Sent = %d, %v; want 1 left", n, err)
	}
	if n, _ := st.Sent(ctx, 17, "1-0", t0, 0); n != 1 {
		t.Fatalf("Sent of a gone id removed another message")
	}
	rdb.RPush(ctx, st.chatKey(17, "out"), `not json`)
	if n, _ := st.Sent(ctx, 17, "1-1", t0, 0); n != 1 {
		t.Fatalf("Sent = %d, want 1 (the broken entry)", n)
	}
}

// keySlot is Redis Cluster's slot of a key: CRC16 (XMODEM) of the hash
// tag, modulo 16384.
func keySlot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % 16384
}

func TestConnect(t *testing.T) {
	srv := redistest.Start(t)
	for _, url := range []string{"redis://" + srv.Addr + "/0", "redis://" + srv.Addr} {
		c, err := Connect(url)
		if err != nil {
			t.Fatalf("Connect(%q): %v", url, err)
		}
		if err := c.Ping(ctx).Err(); err != nil {
			t.Errorf("Connect(%q): ping: %v", url, err)
		}
		c.Close()
	}
	for _, bad := range []string{"localhost:6379", "http://x", "redis+sentinel://localhost:26379", "redis+nope://x"} {
		if _, err := Connect(bad); err == nil {
			t.Errorf("Connect(%q) succeeded", bad)
		}
	}
	if _, err := Connect("redis+cluster://127.0.0.1:7000?addr=127.0.0.1:7001"); err != nil {
		t.Errorf("cluster URL: %v", err)
	}
	// go-redis's own retries are off: a write whose reply was lost must
	// not run twice behind witaj's back.
	c, _ := Connect("redis://" + srv.Addr)
	if n := c.(*goredis.Client).Options().MaxRetries; n != 0 {
		t.Errorf("MaxRetries = %d, want 0 (go-redis's default is 3)", n)
	}
	c.Close()
	c, _ = Connect("redis://" + srv.Addr + "?max_retries=2")
	if n := c.(*goredis.Client).Options().MaxRetries; n != 2 {
		t.Errorf("max_retries=2 in the URL gave %d", n)
	}
	c.Close()
	if _, err := Connect("redis+sentinel://127.0.0.1:26379?master_name=m"); err != nil {
		t.Errorf("sentinel URL: %v", err)
	}
}

// TestForgetCaseReportsErrors: /forget must not report success while a
// key remains; a failed delete is an error.
func TestForgetCaseReportsErrors(t *testing.T) {
	srv := redistest.Start(t)
	proxy := redistest.NewProxy(t, srv.Addr)
	rdb, err := Connect("redis://" + proxy.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	st := New(rdb, Options{Retention: time.Hour})
	if _, _, err := st.ForgetCase(ctx, 18); err != nil {
		t.Fatalf("ForgetCase of a chat without a case: %v", err)
	}
	proxy.DropRequestTo([]byte("cases:active"), 1)
	if _, _, err := st.ForgetCase(ctx, 18); err == nil {
		t.Fatal("ForgetCase reported success though a delete failed")
	}
}

// testMaybeSent: a message that may have been sent is allowed once more;
// the mark goes with /forget.
func testMaybeSent(t *testing.T, st *Store, rdb goredis.UniversalClient) {
	for i, want := range []bool{true, false, false} {
		again, err := st.MaybeSent(ctx, 19, "1-0")
		if err != nil || again != want {
			t.Fatalf("MaybeSent #%d = %v, %v; want %v", i+1, again, err, want)
		}
	}
	if again, _ := st.MaybeSent(ctx, 19, "1-1"); !again {
		t.Error("another message counted as retried")
	}
	mustBegin(t, st, 19, 5, "a")
	if err := st.Commit(ctx, 19, "a", bot.Commit{UpdateID: 5, Forget: true, Now: t0}); err != nil {
		t.Fatal(err)
	}
	if n, _ := rdb.Exists(ctx, st.chatKey(19, "uncertain")).Result(); n != 0 {
		t.Error("/forget left the maybe-sent marks")
	}
}

// TestRetention: an inactive chat's data is gone once the retention
// period has passed (miniredis's clock is moved forward).
func TestRetention(t *testing.T) {
	m := miniredis.RunT(t)
	rdb := goredis.NewClient(&goredis.Options{Addr: m.Addr()})
	defer rdb.Close()
	st := New(rdb, Options{Retention: 30 * 24 * time.Hour})
	mustBegin(t, st, 20, 1, "a")
	s := flows.Session{Schema: flows.SchemaVersion, Lang: knowledge.UK}
	if err := st.Commit(ctx, 20, "a", bot.Commit{UpdateID: 1, Session: s, Now: t0, Out: []bot.OutMessage{msg("1-0", "x")},
		Audit: []bot.AuditRecord{{Ref: "legal.pesel@1", At: t0}}}); err != nil {
		t.Fatal(err)
	}
	m.FastForward(29 * 24 * time.Hour)
	if len(chatKeys(t, st, rdb, 20)) == 0 {
		t.Fatal("data gone before the retention period")
	}
	m.FastForward(2 * 24 * time.Hour)
	if keys := chatKeys(t, st, rdb, 20); len(keys) != 0 {
		t.Errorf("after the retention period keys remain: %v", keys)
	}
}
