package redis

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/bot/redis/redistest"
	"github.com/witaj/witaj/bot/storetest"
	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
)

// conn is one backend's client, and a way to move its clock where the
// server has one that can be moved (miniredis).
type conn struct {
	rdb         goredis.UniversalClient
	fastForward func(time.Duration) // nil: a real server's clock
}

// backends are the servers the contract suite runs against: a real
// redis-server (what production uses) and miniredis (what `serve` embeds
// when no Redis is configured).
func backends(t *testing.T) map[string]func(t *testing.T) conn {
	// One cluster serves the whole suite (a cluster takes seconds to
	// form), started when first needed and stopped when t ends.
	var once sync.Once
	var cluster *goredis.ClusterClient
	sharedCluster := func(*testing.T) conn {
		once.Do(func() { cluster = redistest.StartCluster(t, 3).Client(t) })
		return conn{rdb: cluster}
	}
	return map[string]func(t *testing.T) conn{
		"redis-server": func(t *testing.T) conn { return conn{rdb: redistest.Start(t).Client(t)} },
		"miniredis": func(t *testing.T) conn {
			m := miniredis.RunT(t)
			c := goredis.NewClient(&goredis.Options{Addr: m.Addr()})
			t.Cleanup(func() { c.Close() })
			return conn{rdb: c, fastForward: m.FastForward}
		},
		// As on Redis Cluster: no step relies on a pipeline's order.
		"redis-server-stepwise": func(t *testing.T) conn { return conn{rdb: redistest.Start(t).Client(t)} },
		// Three masters: a chat's keys, a broadcast's keys and the global
		// keys land on different nodes. Each test has its own key prefix.
		"redis-cluster": sharedCluster,
	}
}

// TestContract runs every store test against every backend: the
// store-agnostic contract (bot/storetest, which the in-memory store runs
// too), and the tests below, which look at what only Redis has — key
// layout, TTLs, hash slots, the script cache, raw outbox entries — or at
// the Slack and broadcast stores, which only Redis provides.
func TestContract(t *testing.T) {
	tests := map[string]func(t *testing.T, st *Store, rdb goredis.UniversalClient){
		"keys expire":          testKeysExpire,
		"script cache lost":    testScriptCacheLost,
		"slack due":            testSlackDue,
		"pop by id":            testPopByID,
		"broadcast once":       testBroadcastOnce,
		"broadcast lease":      testBroadcastLease,
		"broadcast not before": testBroadcastNotBefore,
		"forget unfollows":     testForgetUnfollows,
		"topic versions":       testTopicVersions,
		"count once":           testCountOnce,
		"commit claims":        testCommitClaim,
		"commit keeps":         testCommitKeeps,
		"cancel in flight":     testCancelInFlight,
		"counts joined":        testCountsJoined,
		"due claims many":      testDueClaimsMany,
	}
	for name, backend := range backends(t) {
		open := func(t *testing.T, c conn, prefix string) *Store {
			st := New(c.rdb, Options{Retention: time.Hour, Prefix: "witaj:" + strings.ReplaceAll(prefix, " ", "-") + ":"})
			if strings.HasSuffix(name, "-stepwise") {
				st.ordered = false
			}
			return st
		}
		t.Run(name, func(t *testing.T) {
			for tname, tt := range tests {
				t.Run(tname, func(t *testing.T) {
					c := backend(t)
					tt(t, open(t, c, tname), c.rdb)
				})
			}
			storetest.Run(t, func(t *testing.T) storetest.Backend {
				c := backend(t)
				// The test's own name is its key prefix (one cluster
				// serves them all).
				st := open(t, c, path.Base(t.Name()))
				return storetest.Backend{Store: st, Inspect: inspector{t: t, st: st, conn: c}}
			})
		})
	}
}

// inspector shows the contract suite what the store keeps in Redis.
type inspector struct {
	t  *testing.T
	st *Store
	conn
}

func (in inspector) ChatKeys(chat bot.ChatID) []string {
	prefix := in.st.chatKey(chat, "")
	var names []string
	for _, k := range chatKeys(in.t, in.st, in.rdb, chat) {
		names = append(names, strings.TrimPrefix(k, prefix))
	}
	return names
}

func (in inspector) OutLen(chat bot.ChatID) int {
	n, err := in.rdb.LLen(ctx, in.st.chatKey(chat, "out")).Result()
	if err != nil {
		in.t.Fatal(err)
	}
	return int(n)
}

func (in inspector) Blocked(chat bot.ChatID) bool {
	v, err := in.rdb.Get(ctx, in.st.chatKey(chat, "blocked")).Result()
	if err != nil && err != goredis.Nil {
		in.t.Fatal(err)
	}
	return v == "1"
}

func (in inspector) Failed(chat bot.ChatID, updateID int64) bool {
	score, err := in.rdb.ZScore(ctx, in.st.chatKey(chat, "seen"), strconv.FormatInt(updateID, 10)).Result()
	if err != nil && err != goredis.Nil {
		in.t.Fatal(err)
	}
	return score < 0
}

// LoseLock deletes the lock key: what expires when a lease runs out.
func (in inspector) LoseLock(chat bot.ChatID) {
	if err := in.rdb.Del(ctx, in.st.chatKey(chat, "lock")).Err(); err != nil {
		in.t.Fatal(err)
	}
}

func (in inspector) Advance(d time.Duration) bool {
	if in.fastForward == nil {
		return false
	}
	in.fastForward(d)
	return true
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

// testScriptCacheLost: after Redis forgets its scripts (a restart, SCRIPT
// FLUSH), marking a message sent still pops it and moves the chat on the
// schedule as usual.
func testScriptCacheLost(t *testing.T, st *Store, rdb goredis.UniversalClient) {
	mustBegin(t, st, 23, 1, "a")
	st.Commit(ctx, 23, "a", bot.Commit{UpdateID: 1, Now: t0, Out: []bot.OutMessage{msg("1-0", "x"), msg("1-1", "y"), msg("1-2", "z")}})
	st.Due(ctx, t0, 10, time.Minute)
	rdb.ScriptFlush(ctx)
	if n, err := st.Settle(ctx, 23, "1-0", t0, time.Second, false); err != nil || n != 2 {
		t.Fatalf("Sent after SCRIPT FLUSH = %d, %v; want 2 left", n, err)
	}
	if chats, _, _ := st.Due(ctx, t0.Add(500*time.Millisecond), 10, time.Minute); len(chats) != 0 {
		t.Fatalf("chat due before its interval: %v", chats)
	}
	if chats, _, _ := st.Due(ctx, t0.Add(time.Second), 10, time.Minute); len(chats) != 1 {
		t.Fatalf("chat not due after its interval: %v", chats)
	}
	rdb.ScriptFlush(ctx)
	if n, err := st.Settle(ctx, 23, "1-1", t0.Add(time.Second), 0, true); err != nil || n != 1 {
		t.Fatalf("Finish after SCRIPT FLUSH = %d, %v; want 1 left", n, err)
	}
	if m, _, _, _ := st.Next(ctx, 23, t0.Add(2*time.Second)); m.ID != "1-2" {
		t.Fatalf("next message %q, want 1-2", m.ID)
	}
	if chats, _, _ := st.Due(ctx, t0.Add(2*time.Second), 10, time.Minute); len(chats) != 1 {
		t.Fatalf("chat with a message left is not due: %v", chats)
	}
}

// testSlackDue: claiming due Slack channels answers the channels and,
// apart, when the next one is due (the time was once taken for a
// channel, and the idle sender polled that "channel" 20 times a second).
func testSlackDue(t *testing.T, st *Store, _ goredis.UniversalClient) {
	if chats, next, err := st.SlackQueue().Due(ctx, t0, 8, time.Minute); err != nil || len(chats) != 0 || !next.IsZero() {
		t.Fatalf("empty queue: SlackDue = %v, %v, %v", chats, next, err)
	}
	if err := st.SlackPush(ctx, "CA", bot.SlackItem{ID: "i1", Kind: bot.SlackNotice, Text: "x"}); err != nil {
		t.Fatal(err)
	}
	st.SlackPush(ctx, "CB", bot.SlackItem{ID: "i2", Kind: bot.SlackNotice, Text: "y"})
	got, _, err := st.SlackQueue().Due(ctx, time.Now(), 1, time.Minute)
	if err != nil || len(got) != 1 || (got[0] != "CA" && got[0] != "CB") {
		t.Fatalf("SlackDue = %q, %v; want one of the two channels", got, err)
	}
	if err := st.SlackQueue().Defer(ctx, otherChannel(got[0]), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, next, _ := st.SlackQueue().Due(ctx, time.Now(), 8, time.Minute)
	if len(got) != 0 || next.IsZero() {
		t.Fatalf("both claimed or deferred: SlackDue = %q, next %v; want none and the earliest time", got, next)
	}
}

// testCancelInFlight: /forget cancels a chat's Slack requests while the
// sender posts the first of them. The cancelled ones are never sent, and
// that post's settle lets the channel go at once for what is queued
// behind it (the case's deletions), not when the claim runs out.
func testCancelInFlight(t *testing.T, st *Store, _ goredis.UniversalClient) {
	q := st.SlackQueue()
	err := st.SlackPush(ctx, "CC",
		bot.SlackItem{ID: "p1", Kind: bot.SlackParent, Chat: 5, Text: "parent"},
		bot.SlackItem{ID: "r1", Kind: bot.SlackReply, Chat: 5, Text: "relay"},
		bot.SlackItem{ID: "x1", Kind: bot.SlackNotice, Chat: 6, Text: "another case"},
		bot.SlackItem{ID: "d1", Kind: bot.SlackDelete, Chat: 5, TS: "1.000001"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if got, _, _ := q.Due(ctx, now, 8, time.Minute); !slices.Equal(got, []string{"CC"}) {
		t.Fatalf("Due = %v", got)
	}
	if it, _, _, _ := q.Next(ctx, "CC", now); it.ID != "p1" {
		t.Fatalf("Next = %+v, want the parent", it)
	}
	if n, err := st.CancelQueued(ctx, "CC", 5); err != nil || n != 2 {
		t.Fatalf("CancelQueued = %d, %v; want the parent and the relay", n, err)
	}
	if left, err := q.Settle(ctx, "CC", "p1", now, 0, true); err != nil || left != 2 {
		t.Fatalf("Settle of the post in flight = %d, %v; want 2 left", left, err)
	}
	if got, _, _ := q.Due(ctx, now.Add(time.Millisecond), 8, time.Minute); !slices.Equal(got, []string{"CC"}) {
		t.Fatalf("after the settle Due = %v, want the channel at once", got)
	}
	var sent []string
	for range 3 {
		it, _, _, err := q.Next(ctx, "CC", now)
		if err != nil {
			break
		}
		sent = append(sent, it.ID)
		q.Settle(ctx, "CC", it.ID, now, 0, false)
	}
	if !slices.Equal(sent, []string{"x1", "d1"}) {
		t.Errorf("sent after the cancel: %v, want the other case's notice and the deletion", sent)
	}
}

func otherChannel(ch string) string {
	if ch == "CA" {
		return "CB"
	}
	return "CA"
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
		Audit: []bot.AuditRecord{{Ref: "a@1", At: t0}}, Control: bot.Blocked,
		Stats: map[string]int64{"decision:answer": 1}, Gaps: []flows.Gap{{Lang: knowledge.EN, Text: "rain"}}})
	st.Schedule(ctx, 12, t0, nil)
	st.Settle(ctx, 12, "1-0", time.Now(), time.Second, false)
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

// testPopByID: Sent removes the head by its id whatever the order of the
// fields in its JSON.
func testPopByID(t *testing.T, st *Store, rdb goredis.UniversalClient) {
	rdb.RPush(ctx, st.chatKey(17, "out"), `{"text":"a","id":"1-0"}`, `{"id":"1-1","text":"b"}`)
	if n, err := st.Settle(ctx, 17, "1-0", t0, 0, false); err != nil || n != 1 {
		t.Fatalf("Sent = %d, %v; want 1 left", n, err)
	}
	if n, _ := st.Settle(ctx, 17, "1-0", t0, 0, false); n != 1 {
		t.Fatalf("Sent of a gone id removed another message")
	}
	// The repeat popped the one message left and pushed it back: the
	// list was made again, and must expire as the outbox does.
	if ttl := rdb.TTL(ctx, st.chatKey(17, "out")).Val(); ttl <= 0 {
		t.Fatalf("outbox pushed back without an expiry (TTL %v)", ttl)
	}
	rdb.RPush(ctx, st.chatKey(17, "out"), `not json`)
	if n, _ := st.Settle(ctx, 17, "1-1", t0, 0, false); n != 1 {
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

// testCountOnce: counting under a mark twice (a retry after a lost
// reply) counts once, and the marks are not counts.
func testCountOnce(t *testing.T, st *Store, _ goredis.UniversalClient) {
	for i, want := range []bool{true, false} {
		counted, err := st.CountOnce(ctx, t0, "case:W-1", map[string]int64{"cases:opened": 1})
		if err != nil || counted != want {
			t.Fatalf("CountOnce #%d = %v, %v; want %v", i+1, counted, err, want)
		}
	}
	st.CountOnce(ctx, t0, "case:W-2", map[string]int64{"cases:opened": 1})
	counts, _, err := st.Days(ctx, t0, t0)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int64{"cases:opened": 2}; !maps.Equal(counts, want) {
		t.Errorf("Days = %v, want %v", counts, want)
	}
}

// testCountsJoined: an update's counts go to the day's hash as one
// field (one command), and Days reads them apart again, with counts
// written one field each (an older witaj) and counts of another size.
func testCountsJoined(t *testing.T, st *Store, rdb goredis.UniversalClient) {
	counts := map[string]int64{"conv:uk": 1, "decision:answer": 1, "topic:legal.pesel": 1}
	mustBegin(t, st, 70, 1, "a")
	if err := st.Commit(ctx, 70, "a", bot.Commit{UpdateID: 1, Now: t0, Stats: counts}); err != nil {
		t.Fatal(err)
	}
	key := st.statsKey(t0)
	if n, err := rdb.HLen(ctx, key).Result(); err != nil || n != 1 {
		t.Fatalf("the day's hash has %d fields (%v) after one commit, want 1", n, err)
	}
	if err := st.CountDay(ctx, t0, map[string]int64{"topic:legal.pesel": 2, "decision:none": 1}); err != nil {
		t.Fatal(err)
	}
	if err := rdb.HIncrBy(ctx, key, "decision:answer", 4).Err(); err != nil {
		t.Fatal(err)
	}
	got, _, err := st.Days(ctx, t0, t0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"conv:uk": 1, "decision:answer": 5, "decision:none": 1, "topic:legal.pesel": 3}
	if !maps.Equal(got, want) {
		t.Errorf("Days = %v, want %v", got, want)
	}
}

// testDueClaimsMany: a due call claims every chat it returns, however
// many (the claim is made in chunks, within Lua's argument limit).
func testDueClaimsMany(t *testing.T, st *Store, rdb goredis.UniversalClient) {
	const n = 5000
	members := make([]goredis.Z, n)
	for i := range members {
		members[i] = goredis.Z{Score: float64(ms(t0)), Member: strconv.Itoa(100000 + i)}
	}
	if err := rdb.ZAdd(ctx, st.key("sendq"), members...).Err(); err != nil {
		t.Fatal(err)
	}
	chats, _, err := st.Due(ctx, t0, n, time.Minute)
	if err != nil || len(chats) != n {
		t.Fatalf("Due = %d chats, %v; want %d", len(chats), err, n)
	}
	if again, _, err := st.Due(ctx, t0.Add(time.Second), n, time.Minute); err != nil || len(again) != 0 {
		t.Fatalf("within the lease Due gave %d chats again (%v)", len(again), err)
	}
}

// testCommitClaim: on one server, a commit that queues an idle chat's
// first messages claims its lane for the local sender; a retry of the
// commit learns of the claim; a chat that is blocked or busy is
// scheduled as usual, one within its per-chat interval for its end; counts are made once however
// often a commit is tried. In a cluster nothing is claimed.
func testCommitClaim(t *testing.T, st *Store, _ goredis.UniversalClient) {
	now := time.Now().Truncate(time.Millisecond)
	const lease = time.Minute
	out := []bot.OutMessage{{ID: "x", Text: "hi"}}
	retry := false
	try := func(chat bot.ChatID, c bot.Commit) bool {
		t.Helper()
		done, err := st.CommitWith(ctx, chat, "a", c, bot.CommitOptions{Claim: lease, Retry: retry})
		if err != nil {
			t.Fatalf("CommitWith(%d, update %d): %v", chat, c.UpdateID, err)
		}
		return done.Claimed
	}
	commit := func(chat bot.ChatID, c bot.Commit) bool {
		t.Helper()
		if _, err := st.Begin(ctx, chat, c.UpdateID, "a", time.Minute); err != nil {
			t.Fatal(err)
		}
		return try(chat, c)
	}
	due := func(at time.Time) []bot.ChatID {
		t.Helper()
		chats, _, err := st.Due(ctx, at, 100, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return chats
	}
	first := bot.Commit{UpdateID: 1, Now: now, Out: out}
	if !st.ordered {
		if commit(50, first) {
			t.Fatal("claimed where the schedule lives on another server")
		}
		if !slices.Contains(due(now), 50) {
			t.Fatal("the reply is not due at once")
		}
		return
	}
	if !commit(50, first) {
		t.Fatal("an idle chat's first reply was not claimed")
	}
	if chats := due(now.Add(lease - time.Millisecond)); len(chats) != 0 {
		t.Fatalf("a claimed chat was handed to another sender: %v", chats)
	}
	retry = true
	if !try(50, first) {
		t.Fatal("a retry of the commit (its reply lost) did not learn of its claim")
	}
	retry = false
	if commit(50, bot.Commit{UpdateID: 2, Now: now, Out: []bot.OutMessage{{ID: "y", Text: "again"}}}) {
		t.Fatal("a second reply claimed a lane already claimed")
	}
	// Once the sender holds the lane, it is no longer the commit's.
	if err := st.Hold(ctx, 50, now.Add(lease)); err != nil {
		t.Fatal(err)
	}
	retry = true
	if try(50, first) {
		t.Fatal("a retry took a lane a sender holds")
	}
	retry = false
	if !slices.Contains(due(now.Add(lease+time.Millisecond)), 50) {
		t.Fatal("the lane is not due when the hold ends")
	}

	if commit(51, bot.Commit{UpdateID: 1, Now: now, Out: out, Control: bot.Blocked}) {
		t.Fatal("claimed the lane of a chat that blocked the bot")
	}
	if !commit(52, first) {
		t.Fatal("not claimed")
	}
	if _, err := st.Settle(ctx, 52, "x", now, time.Second, true); err != nil {
		t.Fatal(err)
	}
	if commit(52, bot.Commit{UpdateID: 2, Now: now, Out: out}) {
		t.Fatal("claimed a chat within its per-chat interval")
	}
	if commit(53, bot.Commit{UpdateID: 1, Now: now}) {
		t.Fatal("claimed a chat with nothing to send")
	}
	chats := due(now)
	if !slices.Contains(chats, 51) {
		t.Errorf("the blocked chat is not due at once (due: %v)", chats)
	}
	if slices.Contains(chats, 52) {
		t.Error("a chat within its per-chat interval is due before it ends")
	}
	if !slices.Contains(due(now.Add(time.Second)), 52) {
		t.Error("a chat within its per-chat interval is not due when it ends")
	}
	if slices.Contains(chats, 53) {
		t.Error("a chat with nothing to send is scheduled")
	}

	counted := bot.Commit{UpdateID: 1, Now: now, Stats: map[string]int64{"decision:answer": 1},
		Gaps: []flows.Gap{{Lang: knowledge.EN, Text: "where is the moon"}}}
	commit(54, counted)
	retry = true
	try(54, counted) // its reply lost
	retry = false
	days, _, err := st.Days(ctx, now, now)
	if err != nil {
		t.Fatal(err)
	}
	gaps, err := st.Gaps(ctx, now, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	if days["decision:answer"] != 1 || len(gaps) != 1 || gaps[0].Count != 1 {
		t.Fatalf("after a commit tried twice: counts %v, gaps %v; want each once", days, gaps)
	}
}

// testCommitKeeps: a commit may keep the chat's lock for the update
// waiting next, and says whether that one was handled before; a retry of
// a commit that kept the lock stores nothing twice and frees the lock.
func testCommitKeeps(t *testing.T, st *Store, _ goredis.UniversalClient) {
	now := time.Now()
	keep := bot.CommitOptions{Keep: time.Minute, Next: 2}
	mustBegin(t, st, 60, 1, "a")
	done, err := st.CommitWith(ctx, 60, "a", bot.Commit{UpdateID: 1, Now: now}, keep)
	if err != nil || !done.Kept || done.NextSeen {
		t.Fatalf("CommitWith(keep for 2) = %+v, %v; want kept, 2 not seen", done, err)
	}
	if _, err := st.Begin(ctx, 60, 3, "b", time.Minute); !errors.Is(err, bot.ErrBusy) {
		t.Fatalf("Begin by another worker while the lock is kept: %v, want ErrBusy", err)
	}
	// Update 2 goes on without Begin, and keeps the lock for update 1,
	// which was handled.
	out := []bot.OutMessage{msg("2-0", "two")}
	done, err = st.CommitWith(ctx, 60, "a", bot.Commit{UpdateID: 2, Now: now, Out: out}, bot.CommitOptions{Keep: time.Minute, Next: 1})
	if err != nil || !done.Kept || !done.NextSeen {
		t.Fatalf("CommitWith(update 2, keep for 1) = %+v, %v; want kept, 1 seen", done, err)
	}
	// Its reply was lost: the retry holds the lock it kept, but stores
	// nothing again, and frees the lock.
	done, err = st.CommitWith(ctx, 60, "a", bot.Commit{UpdateID: 2, Now: now, Out: out}, bot.CommitOptions{Keep: time.Minute, Next: 1, Retry: true})
	if err != nil || done.Kept {
		t.Fatalf("retry of a commit that kept the lock = %+v, %v; want success, lock freed", done, err)
	}
	if n := mustOutLen(t, st, 60); n != 1 {
		t.Fatalf("outbox has %d messages after the retry, want 1", n)
	}
	if _, err := st.Begin(ctx, 60, 2, "b", time.Minute); !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("Begin of update 2: %v, want ErrDuplicate", err)
	}
	mustBegin(t, st, 60, 3, "b")
}

func mustOutLen(t *testing.T, st *Store, chat bot.ChatID) int64 {
	t.Helper()
	n, err := st.rdb.LLen(ctx, st.chatKey(chat, "out")).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestChatKeys: the keys cut from one string are the keys chatKey names,
// for private chats and groups (negative ids), with and without a prefix.
func TestChatKeys(t *testing.T) {
	names := []string{"seen", "lock", "session", "out", "audit", "blocked", "fails", "next", "uncertain", "bc"}
	for _, prefix := range []string{"", "witaj:", "staging:witaj:"} {
		st := &Store{prefix: prefix}
		for _, chat := range []bot.ChatID{0, 7, 123456789, -1001234567890} {
			got := st.chatKeys(chat, names...)
			if len(got) != len(names) {
				t.Fatalf("%d keys for %d names", len(got), len(names))
			}
			for i, n := range names {
				if want := st.chatKey(chat, n); got[i] != want {
					t.Errorf("prefix %q chat %d: key %d is %q, want %q", prefix, chat, i, got[i], want)
				}
			}
		}
	}
}
