// Package storetest is the contract every bot.Store backend must keep,
// as tests that need nothing but the interface and a few inspection
// hooks: the Redis store runs it against each Redis server kind, the
// in-memory store against itself, so that the two cannot drift apart.
// Checks tied to one backend (Redis key layout, TTLs, hash slots, the
// script cache) stay with that backend.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
)

// Backend is one store under test.
type Backend struct {
	// Store is fresh for the test, with a retention period of one hour.
	Store bot.Store
	// Inspect sees what the interface does not show.
	Inspect Inspector
}

// Inspector observes and forces a backend's state where the interface
// cannot: what is kept about a chat, and what time does to it.
type Inspector interface {
	// ChatKeys names the parts kept about chat ("out", "seen", "session",
	// as the Redis store's key suffixes), sorted, without the short-lived
	// pacing mark "next". An empty part does not exist.
	ChatKeys(chat bot.ChatID) []string
	// OutLen is how many messages the chat's outbox holds.
	OutLen(chat bot.ChatID) int
	// Blocked reports whether the chat is marked as having blocked the bot.
	Blocked(chat bot.ChatID) bool
	// Failed reports whether failed attempts at the update are counted.
	Failed(chat bot.ChatID, updateID int64) bool
	// LoseLock ends the chat's lock as if its lease had run out.
	LoseLock(chat bot.ChatID)
	// Advance moves the backend's own clock (by which data expires)
	// forward; false when it cannot be moved (a real redis-server), and
	// the tests that need it are skipped.
	Advance(d time.Duration) bool
}

// Test is one contract test.
type Test struct {
	Name string
	Run  func(t *testing.T, b Backend)
}

// Tests are the contract, in a fixed order. The names of the tests moved
// here from bot/redis are unchanged, so that -run patterns still match.
var Tests = []Test{
	{"begin commit dedupe", testBeginCommit},
	{"lock", testLock},
	{"failures", testFailures},
	{"failures outlive other commits", testFailuresOutliveCommits},
	{"outbox", testOutbox},
	{"forget leaves no key", testForget},
	{"forget while in flight", testForgetInFlight},
	{"rate limit", testRate},
	{"commit schedules", testCommitSchedules},
	{"finish", testFinish},
	{"tiny interval", testTinyInterval},
	{"gaps", testGaps},
	{"leader", testLeader},
	{"audit bounded", testAudit},
	{"unreachable", testUnreachable},
	{"commit twice", testCommitTwice},
	{"release", testRelease},
	{"maybe sent", testMaybeSent},
	{"settle schedule", testSettleSchedule},
	{"let go, paced", testLetGoPaced},
	{"defer", testDefer},
	{"hold", testHold},
	{"due order", testDueOrder},
	{"seen for a day", testSeenForADay},
	{"idle keeps new message", testIdleKeeps},
	{"control", testControl},
	{"cancelled context", testCancelled},
	{"lease runs out", testLeaseRunsOut},
	{"leader expires", testLeaderExpires},
	{"retention", testRetention},
}

// Run runs every contract test, each on a backend from open.
func Run(t *testing.T, open func(t *testing.T) Backend) {
	for _, tt := range Tests {
		t.Run(tt.Name, func(t *testing.T) { tt.Run(t, open(t)) })
	}
}

var ctx = context.Background()

// t0 is a fixed time for tests where only the arguments' times matter.
var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func mustBegin(t *testing.T, st bot.Store, chat bot.ChatID, upd int64, token string) bot.Begun {
	t.Helper()
	b, err := st.Begin(ctx, chat, upd, token, time.Minute)
	if err != nil {
		t.Fatalf("Begin(%d, %d): %v", chat, upd, err)
	}
	return b
}

func mustCommit(t *testing.T, st bot.Store, chat bot.ChatID, token string, c bot.Commit) {
	t.Helper()
	if err := st.Commit(ctx, chat, token, c); err != nil {
		t.Fatalf("Commit(%d, update %d): %v", chat, c.UpdateID, err)
	}
}

func msg(id, text string) bot.OutMessage { return bot.OutMessage{ID: id, Text: text} }

func testBeginCommit(t *testing.T, b Backend) {
	st := b.Store
	begun := mustBegin(t, st, 7, 100, "a")
	if begun.Session.Schema != 0 {
		t.Fatalf("new chat has session %+v", begun.Session)
	}
	s := flows.Session{Schema: flows.SchemaVersion, Lang: knowledge.UK, LangConfirmed: true}
	if err := st.Commit(ctx, 7, "a", bot.Commit{UpdateID: 100, Session: s, Now: t0, Out: []bot.OutMessage{msg("100-0", "hi")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Begin(ctx, 7, 100, "b", time.Minute); !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("Begin of a handled update: %v, want ErrDuplicate", err)
	}
	begun = mustBegin(t, st, 7, 101, "b")
	if begun.Session.Lang != knowledge.UK || !begun.Session.LangConfirmed {
		t.Errorf("session did not round-trip: %+v", begun.Session)
	}
	// Update ids may restart lower after a week of silence: only the set
	// of handled ids counts, never the highest.
	if err := st.Commit(ctx, 7, "b", bot.Commit{UpdateID: 101, Session: s, Now: t0}); err != nil {
		t.Fatal(err)
	}
	mustBegin(t, st, 7, 5, "c")
}

func testLock(t *testing.T, b Backend) {
	st := b.Store
	mustBegin(t, st, 8, 1, "a")
	if _, err := st.Begin(ctx, 8, 2, "b", time.Minute); !errors.Is(err, bot.ErrBusy) {
		t.Fatalf("second worker: %v, want ErrBusy", err)
	}
	// The lease runs out (simulated) and another worker takes the chat;
	// the first worker's late commit must fail and store nothing.
	b.Inspect.LoseLock(8)
	mustBegin(t, st, 8, 1, "b")
	err := st.Commit(ctx, 8, "a", bot.Commit{UpdateID: 1, Now: t0, Out: []bot.OutMessage{msg("1-0", "late")}})
	if !errors.Is(err, bot.ErrLeaseLost) {
		t.Fatalf("commit after losing the lease: %v, want ErrLeaseLost", err)
	}
	if n := b.Inspect.OutLen(8); n != 0 {
		t.Errorf("a lost commit stored %d messages", n)
	}
	if err := st.Commit(ctx, 8, "b", bot.Commit{UpdateID: 1, Now: t0}); err != nil {
		t.Fatal(err)
	}
}

func testFailures(t *testing.T, b Backend) {
	st := b.Store
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
	if b.Inspect.Failed(9, 1) {
		t.Error("the failure count survived a successful commit")
	}
}

// testFailuresOutliveCommits: an update that keeps failing is counted on
// while the chat's other updates are handled (they prune the handled
// ids), so that it is still given up at last.
func testFailuresOutliveCommits(t *testing.T, b Backend) {
	st := b.Store
	for want := 1; want <= 3; want++ {
		mustBegin(t, st, 10, 5, "a")
		n, err := st.Fail(ctx, 10, 5, "a")
		if err != nil || n != want {
			t.Fatalf("Fail #%d = %d, %v", want, n, err)
		}
		next := int64(5 + want)
		mustBegin(t, st, 10, next, "a")
		mustCommit(t, st, 10, "a", bot.Commit{UpdateID: next, Now: t0.Add(time.Duration(want) * time.Hour)})
	}
	if !b.Inspect.Failed(10, 5) {
		t.Error("the failing update's count is gone")
	}
}

func testOutbox(t *testing.T, b Backend) {
	st := b.Store
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
	n, err := st.Settle(ctx, 10, "1-0", t0, time.Second, false)
	if err != nil || n != 1 {
		t.Fatalf("Settle = %d, %v; want 1 left", n, err)
	}
	// Sent again (a retry) removes nothing more.
	if n, _ := st.Settle(ctx, 10, "1-0", t0, time.Second, false); n != 1 {
		t.Fatalf("repeated Settle left %d, want 1", n)
	}
	if _, _, wait, _ := st.Next(ctx, 10, t0.Add(500*time.Millisecond)); wait != 500*time.Millisecond {
		t.Fatalf("per-chat interval: wait %v, want 500ms", wait)
	}
	m, _, _, _ = st.Next(ctx, 10, t0.Add(time.Second))
	if m.ID != "1-1" {
		t.Fatalf("second message = %+v", m)
	}
	if n, _ := st.Settle(ctx, 10, "1-1", t0, 0, false); n != 0 {
		t.Fatalf("Settle (drop) left %d", n)
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
func testCommitSchedules(t *testing.T, b Backend) {
	st := b.Store
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
func testFinish(t *testing.T, b Backend) {
	st := b.Store
	mustBegin(t, st, 21, 1, "a")
	st.Commit(ctx, 21, "a", bot.Commit{UpdateID: 1, Now: t0, Out: []bot.OutMessage{msg("1-0", "x")}})
	st.Due(ctx, t0, 10, time.Minute)
	if _, queued, _, _ := st.Next(ctx, 21, t0); queued != 1 {
		t.Fatalf("queued = %d, want 1", queued)
	}
	// Another update commits while the first message is on its way.
	mustBegin(t, st, 21, 2, "a")
	st.Commit(ctx, 21, "a", bot.Commit{UpdateID: 2, Now: t0, Out: []bot.OutMessage{msg("2-0", "y")}})
	if n, err := st.Settle(ctx, 21, "1-0", t0, 0, true); err != nil || n != 1 {
		t.Fatalf("Settle (last) = %d, %v; want 1 left", n, err)
	}
	if chats, _, _ := st.Due(ctx, t0.Add(time.Second), 10, time.Minute); len(chats) != 1 {
		t.Fatalf("the new message's chat is not scheduled: %v", chats)
	}
	// The first Settle again, as a retry after its reply was lost, while
	// another sender has claimed the chat for the new message: the chat
	// must not become due (a third sender would send 2-0 once more).
	if n, err := st.Settle(ctx, 21, "1-0", t0.Add(2*time.Second), 0, true); err != nil || n != 1 {
		t.Fatalf("repeated Settle (last) = %d, %v; want 1 left", n, err)
	}
	if chats, _, _ := st.Due(ctx, t0.Add(3*time.Second), 10, time.Minute); len(chats) != 0 {
		t.Fatalf("a repeated Settle made the claimed chat due again: %v", chats)
	}
	if n, err := st.Settle(ctx, 21, "2-0", t0, 0, true); err != nil || n != 0 {
		t.Fatalf("Settle (last) = %d, %v; want 0 left", n, err)
	}
	// Again, as a retry after a lost reply: nothing else changes.
	if n, err := st.Settle(ctx, 21, "2-0", t0, 0, true); err != nil || n != 0 {
		t.Fatalf("repeated Settle (last) = %d, %v", n, err)
	}
	if chats, next, _ := st.Due(ctx, t0.Add(time.Hour), 10, time.Minute); len(chats) != 0 || !next.IsZero() {
		t.Fatalf("after the last message: Due = %v, next %v; want nothing scheduled", chats, next)
	}
}

// testTinyInterval: a per-chat interval under a millisecond still puts
// the chat back on the schedule after Sent (it stayed claimed for the
// whole lease: replies 30 s late under raised rates).
func testTinyInterval(t *testing.T, b Backend) {
	st := b.Store
	mustBegin(t, st, 24, 1, "a")
	st.Commit(ctx, 24, "a", bot.Commit{UpdateID: 1, Now: t0, Out: []bot.OutMessage{msg("1-0", "x"), msg("1-1", "y")}})
	st.Due(ctx, t0, 10, time.Minute)
	if n, err := st.Settle(ctx, 24, "1-0", t0, 10*time.Microsecond, false); err != nil || n != 1 {
		t.Fatalf("Sent = %d, %v", n, err)
	}
	if chats, _, _ := st.Due(ctx, t0.Add(time.Second), 10, time.Minute); len(chats) != 1 {
		t.Fatalf("chat still claimed after a 10 µs interval: Due = %v", chats)
	}
}

func testForget(t *testing.T, b Backend) {
	st := b.Store
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
	if keys := b.Inspect.ChatKeys(11); !slices.Equal(keys, []string{"out", "seen"}) {
		t.Fatalf("after /forget the chat has keys %v, want only the outbox with the confirmation and the handled ids", keys)
	}
	if _, err := st.Begin(ctx, 11, 2, "b", time.Minute); !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("Begin of the erasure again: %v, want ErrDuplicate", err)
	}
	if m, _, _, _ := st.Next(ctx, 11, t0); m.ID != "2-0" {
		t.Fatalf("confirmation = %+v", m)
	}
	st.Settle(ctx, 11, "2-0", t0, time.Second, false)
	for _, k := range b.Inspect.ChatKeys(11) {
		if k != "seen" {
			t.Errorf("after the confirmation was sent, key %s remains", k)
		}
	}
}

// testForgetInFlight: /forget committed while a sender is sending the
// head of the outbox (claimed, not yet settled). The settle of that
// message lets the chat go, and the confirmation is due at once, not when
// the sender's claim would have run out; a repeated settle then changes
// nothing.
func testForgetInFlight(t *testing.T, b Backend) {
	st := b.Store
	mustBegin(t, st, 12, 1, "a")
	mustCommit(t, st, 12, "a", bot.Commit{UpdateID: 1, Now: t0, Out: []bot.OutMessage{msg("1-0", "sure?")}})
	if chats, _, _ := st.Due(ctx, t0, 10, time.Minute); !slices.Equal(chats, []bot.ChatID{12}) {
		t.Fatalf("Due = %v", chats)
	}
	if m, _, _, _ := st.Next(ctx, 12, t0); m.ID != "1-0" {
		t.Fatalf("Next = %+v", m)
	}
	mustBegin(t, st, 12, 2, "a")
	mustCommit(t, st, 12, "a", bot.Commit{UpdateID: 2, Forget: true, Now: t0, Out: []bot.OutMessage{msg("2-0", "done")}})
	if n, err := st.Settle(ctx, 12, "1-0", t0, 0, true); err != nil || n != 1 {
		t.Fatalf("Settle of the message in flight = %d, %v; want the confirmation left", n, err)
	}
	if n, _ := st.Settle(ctx, 12, "1-0", t0, 0, true); n != 1 {
		t.Fatalf("a repeated Settle left %d, want 1", n)
	}
	if chats, _, _ := st.Due(ctx, t0.Add(time.Millisecond), 10, time.Minute); !slices.Equal(chats, []bot.ChatID{12}) {
		t.Fatalf("after the settle Due = %v; want the chat, whose confirmation waits", chats)
	}
	m, queued, _, err := st.Next(ctx, 12, t0.Add(time.Millisecond))
	if err != nil || m.ID != "2-0" || queued != 1 {
		t.Fatalf("Next = %+v, %d queued, %v; want the confirmation alone", m, queued, err)
	}
	if n, _ := st.Settle(ctx, 12, "2-0", t0, 0, true); n != 0 {
		t.Fatalf("Settle of the confirmation left %d", n)
	}
	if keys := b.Inspect.ChatKeys(12); !slices.Equal(keys, []string{"seen"}) {
		t.Errorf("after the confirmation was sent the chat has keys %v, want only the handled ids", keys)
	}
}

// testCommitTwice: a commit retried after its reply was lost succeeds
// and stores nothing twice.
func testCommitTwice(t *testing.T, b Backend) {
	st := b.Store
	mustBegin(t, st, 15, 1, "a")
	c := bot.Commit{UpdateID: 1, Now: t0, Out: []bot.OutMessage{msg("1-0", "hi")}}
	if err := st.Commit(ctx, 15, "a", c); err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(ctx, 15, "a", c); err != nil {
		t.Fatalf("second commit of the same update: %v, want success", err)
	}
	if n := b.Inspect.OutLen(15); n != 1 {
		t.Errorf("outbox holds %d messages, want 1", n)
	}
	// Another update with a token that never held the lock still fails.
	if err := st.Commit(ctx, 15, "a", bot.Commit{UpdateID: 2, Now: t0}); !errors.Is(err, bot.ErrLeaseLost) {
		t.Errorf("commit without the lock: %v, want ErrLeaseLost", err)
	}
}

func testRelease(t *testing.T, b Backend) {
	st := b.Store
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

// testRate: reservations at 10/s follow each other 100 ms apart, across
// callers (replicas); slots not taken in time are not saved up.
func testRate(t *testing.T, b Backend) {
	st := b.Store
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

func testGaps(t *testing.T, b Backend) {
	st := b.Store
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
	// Only the days asked for count, and the limit keeps the most frequent.
	if got, _ := st.Gaps(ctx, t0, 1, 1); fmt.Sprint(got) != fmt.Sprint([]bot.GapCount{{Lang: knowledge.EN, Question: "weather tomorrow?", Count: 1}}) {
		t.Errorf("Gaps of one day, limit 1 = %v", got)
	}
}

func testLeader(t *testing.T, b Backend) {
	st := b.Store
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

func testAudit(t *testing.T, b Backend) {
	st := b.Store
	for i := range 120 {
		mustBegin(t, st, 13, int64(i), "a")
		st.Commit(ctx, 13, "a", bot.Commit{UpdateID: int64(i), Now: t0, Audit: []bot.AuditRecord{{Ref: fmt.Sprintf("x@%d", i), At: t0}}})
	}
	recs, err := st.Audit(ctx, 13)
	if err != nil || len(recs) != 100 || recs[0].Ref != "x@119" {
		t.Fatalf("Audit: %d records, first %+v, %v; want 100, newest first", len(recs), recs[0], err)
	}
	// Several records of one commit: the last is the newest.
	mustBegin(t, st, 13, 200, "a")
	st.Commit(ctx, 13, "a", bot.Commit{UpdateID: 200, Now: t0, Audit: []bot.AuditRecord{{Ref: "y@1", At: t0}, {Ref: "y@2", At: t0}}})
	recs, _ = st.Audit(ctx, 13)
	if len(recs) != 100 || recs[0].Ref != "y@2" || recs[1].Ref != "y@1" || recs[2].Ref != "x@119" || recs[99].Ref != "x@22" {
		t.Fatalf("Audit after two more: %d records, %v %v %v … %v", len(recs), recs[0].Ref, recs[1].Ref, recs[2].Ref, recs[len(recs)-1].Ref)
	}
}

func testUnreachable(t *testing.T, b Backend) {
	st := b.Store
	mustBegin(t, st, 14, 1, "a")
	st.Commit(ctx, 14, "a", bot.Commit{UpdateID: 1, Now: t0, Out: []bot.OutMessage{msg("1-0", "x")}})
	if err := st.Unreachable(ctx, 14); err != nil {
		t.Fatal(err)
	}
	if n := b.Inspect.OutLen(14); n != 0 {
		t.Errorf("outbox of a blocked chat has %d messages", n)
	}
	if !b.Inspect.Blocked(14) {
		t.Errorf("not marked blocked")
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

// testMaybeSent: a message that may have been sent is allowed once more;
// the mark goes with /forget.
func testMaybeSent(t *testing.T, b Backend) {
	st := b.Store
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
	if slices.Contains(b.Inspect.ChatKeys(19), "uncertain") {
		t.Error("/forget left the maybe-sent marks")
	}
}

// testSettleSchedule: Sent with an interval makes the claimed chat due
// again after the interval, not before; Finish with messages left makes
// it due at once. (The Redis store checks the same after losing its
// script cache.)
func testSettleSchedule(t *testing.T, b Backend) {
	st := b.Store
	mustBegin(t, st, 23, 1, "a")
	mustCommit(t, st, 23, "a", bot.Commit{UpdateID: 1, Now: t0, Out: []bot.OutMessage{msg("1-0", "x"), msg("1-1", "y"), msg("1-2", "z")}})
	st.Due(ctx, t0, 10, time.Minute)
	if n, err := st.Settle(ctx, 23, "1-0", t0, time.Second, false); err != nil || n != 2 {
		t.Fatalf("Sent = %d, %v; want 2 left", n, err)
	}
	dueAfter(t, st, t0, time.Second)
	// Sent again, as a retry after a lost reply, once another sender has
	// claimed the chat: its claim stands.
	if n, err := st.Settle(ctx, 23, "1-0", t0.Add(time.Second), time.Second, false); err != nil || n != 2 {
		t.Fatalf("repeated Sent = %d, %v; want 2 left", n, err)
	}
	if chats, _, _ := st.Due(ctx, t0.Add(2*time.Second), 10, time.Minute); len(chats) != 0 {
		t.Fatalf("a repeated Sent shortened another sender's claim: %v", chats)
	}
	if n, err := st.Settle(ctx, 23, "1-1", t0.Add(time.Second), 0, true); err != nil || n != 1 {
		t.Fatalf("Settle (last) = %d, %v; want 1 left", n, err)
	}
	if m, _, _, _ := st.Next(ctx, 23, t0.Add(2*time.Second)); m.ID != "1-2" {
		t.Fatalf("next message %q, want 1-2", m.ID)
	}
	if chats, _, _ := st.Due(ctx, t0.Add(2*time.Second), 10, time.Minute); len(chats) != 1 {
		t.Fatalf("chat with a message left is not due: %v", chats)
	}
	// Sent of a message that is not at the head removes nothing.
	if n, _ := st.Settle(ctx, 23, "1-0", t0.Add(3*time.Second), 0, false); n != 1 {
		t.Fatalf("Sent of an id not at the head left %d, want 1", n)
	}
}

// testLetGoPaced: a chat its sender lets go with a message that came
// meanwhile is due when its interval ends, not at once: a sender taking
// it sooner would only be told to wait (two more calls to the store).
func testLetGoPaced(t *testing.T, b Backend) {
	st := b.Store
	mustBegin(t, st, 24, 1, "a")
	mustCommit(t, st, 24, "a", bot.Commit{UpdateID: 1, Now: t0, Out: []bot.OutMessage{msg("1-0", "x"), msg("1-1", "y")}})
	st.Due(ctx, t0, 10, time.Minute)
	if n, err := st.Settle(ctx, 24, "1-0", t0, time.Second, true); err != nil || n != 1 {
		t.Fatalf("Settle (let go) = %d, %v; want 1 left", n, err)
	}
	dueAfter(t, st, t0, time.Second)
}

// dueAfter checks that the one chat scheduled is due at from+interval,
// and not a millisecond before; the check claims it.
func dueAfter(t *testing.T, st bot.Store, from time.Time, interval time.Duration) {
	t.Helper()
	if chats, _, _ := st.Due(ctx, from.Add(interval-time.Millisecond), 10, time.Minute); len(chats) != 0 {
		t.Fatalf("chat due before its interval: %v", chats)
	}
	if chats, _, _ := st.Due(ctx, from.Add(interval), 10, time.Minute); len(chats) != 1 {
		t.Fatalf("chat not due after its interval: %v", chats)
	}
}

// testDefer: a deferred chat (rate limited by the platform) gets nothing
// before the time, and is due then; Defer does not schedule a chat that
// is not scheduled. Defer measures from the store's clock (the Redis
// store reads time.Now), so the times here are real ones.
func testDefer(t *testing.T, b Backend) {
	st := b.Store
	now := time.Now()
	mustBegin(t, st, 30, 1, "a")
	mustCommit(t, st, 30, "a", bot.Commit{UpdateID: 1, Now: now, Out: []bot.OutMessage{msg("1-0", "x")}})
	if chats, _, _ := st.Due(ctx, now, 10, time.Minute); len(chats) != 1 {
		t.Fatalf("Due = %v, want the chat", chats)
	}
	until := now.Add(time.Hour)
	if err := st.Defer(ctx, 30, until); err != nil {
		t.Fatal(err)
	}
	if _, _, wait, err := st.Next(ctx, 30, now); err != nil || wait <= time.Hour-time.Millisecond || wait > time.Hour {
		t.Fatalf("Next of a deferred chat: wait %v, %v; want 1h", wait, err)
	}
	chats, next, _ := st.Due(ctx, now.Add(30*time.Minute), 10, time.Minute)
	if len(chats) != 0 || next.UnixMilli() != until.UnixMilli() {
		t.Fatalf("Due before the deferred time = %v, next %v; want none, next %v", chats, next, until)
	}
	if chats, _, _ := st.Due(ctx, until, 10, time.Minute); len(chats) != 1 {
		t.Fatalf("Due at the deferred time = %v, want the chat", chats)
	}
	if m, _, wait, err := st.Next(ctx, 30, until); err != nil || wait != 0 || m.ID != "1-0" {
		t.Fatalf("Next at the deferred time = %+v, wait %v, %v", m, wait, err)
	}
	// A chat off the schedule stays off: Defer is no Schedule.
	if err := st.Defer(ctx, 31, until); err != nil {
		t.Fatal(err)
	}
	if chats, _, _ := st.Due(ctx, until.Add(time.Hour), 10, time.Minute); slices.Contains(chats, 31) {
		t.Fatalf("Defer scheduled an unscheduled chat: %v", chats)
	}
	// A time already past keeps nobody quiet.
	if err := st.Defer(ctx, 32, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, _, wait, err := st.Next(ctx, 32, now); wait != 0 || !errors.Is(err, bot.ErrEmpty) {
		t.Fatalf("Next after Defer to the past: wait %v, %v; want ErrEmpty", wait, err)
	}
}

// testHold: a sender holds a claimed chat while its send runs; Hold does
// not schedule a chat that is not scheduled.
func testHold(t *testing.T, b Backend) {
	st := b.Store
	mustBegin(t, st, 33, 1, "a")
	mustCommit(t, st, 33, "a", bot.Commit{UpdateID: 1, Now: t0, Out: []bot.OutMessage{msg("1-0", "x")}})
	st.Due(ctx, t0, 10, time.Minute)
	if err := st.Hold(ctx, 33, t0.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	chats, next, _ := st.Due(ctx, t0.Add(2*time.Minute), 10, time.Minute)
	if len(chats) != 0 || !next.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("Due during the hold = %v, next %v; want none, next at the hold's end", chats, next)
	}
	if chats, _, _ := st.Due(ctx, t0.Add(5*time.Minute), 10, time.Minute); len(chats) != 1 {
		t.Fatalf("Due after the hold = %v, want the chat", chats)
	}
	if err := st.Hold(ctx, 34, t0); err != nil {
		t.Fatal(err)
	}
	if chats, _, _ := st.Due(ctx, t0.Add(time.Hour), 10, time.Minute); slices.Contains(chats, 34) {
		t.Fatalf("Hold scheduled an unscheduled chat: %v", chats)
	}
}

// testDueOrder: Due hands out the earliest chats first, at most max, ties
// in the order of the chat ids' digits (a Redis sorted set's order), and
// reports the earliest time left on the schedule.
func testDueOrder(t *testing.T, b Backend) {
	st := b.Store
	for chat, at := range map[bot.ChatID]time.Duration{3: 3 * time.Second, 1: time.Second, 10: time.Second, 2: 2 * time.Second} {
		if err := st.Schedule(ctx, chat, t0.Add(at), nil); err != nil {
			t.Fatal(err)
		}
	}
	now := t0.Add(5 * time.Second)
	chats, next, err := st.Due(ctx, now, 2, time.Minute)
	if err != nil || !slices.Equal(chats, []bot.ChatID{1, 10}) || !next.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("Due(max 2) = %v, next %v, %v; want [1 10], next %v", chats, next, err, t0.Add(2*time.Second))
	}
	chats, next, _ = st.Due(ctx, now, 10, time.Minute)
	if !slices.Equal(chats, []bot.ChatID{2, 3}) || !next.Equal(now.Add(time.Minute)) {
		t.Fatalf("Due = %v, next %v; want [2 3], next at the leases' end", chats, next)
	}
	if chats, _, _ := st.Due(ctx, now, 0, time.Minute); len(chats) != 0 {
		t.Fatalf("Due(max 0) = %v", chats)
	}
}

// testSeenForADay: handled update ids are kept for a day and an hour of
// commit time (Telegram keeps updates 24 h), then forgotten: the set
// stays small for a chat that talks for months.
func testSeenForADay(t *testing.T, b Backend) {
	st := b.Store
	mustBegin(t, st, 35, 1, "a")
	mustCommit(t, st, 35, "a", bot.Commit{UpdateID: 1, Now: t0})
	mustBegin(t, st, 35, 2, "a")
	mustCommit(t, st, 35, "a", bot.Commit{UpdateID: 2, Now: t0.Add(24 * time.Hour)})
	if _, err := st.Begin(ctx, 35, 1, "b", time.Minute); !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("Begin of an update handled 24 h before: %v, want ErrDuplicate", err)
	}
	mustBegin(t, st, 35, 3, "a")
	mustCommit(t, st, 35, "a", bot.Commit{UpdateID: 3, Now: t0.Add(26 * time.Hour)})
	mustBegin(t, st, 35, 1, "b") // forgotten: 26 h old
	if _, err := st.Begin(ctx, 35, 2, "b", time.Minute); !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("Begin of an update handled 2 h before: %v, want ErrDuplicate", err)
	}
}

// testIdleKeeps: Idle leaves a chat scheduled when a message is queued
// (committed while the sender was finishing).
func testIdleKeeps(t *testing.T, b Backend) {
	st := b.Store
	now := time.Now()
	mustBegin(t, st, 36, 1, "a")
	mustCommit(t, st, 36, "a", bot.Commit{UpdateID: 1, Now: now, Out: []bot.OutMessage{msg("1-0", "x")}})
	st.Due(ctx, now, 10, time.Hour)
	if err := st.Idle(ctx, 36); err != nil {
		t.Fatal(err)
	}
	if chats, _, _ := st.Due(ctx, now.Add(time.Second), 10, time.Minute); !slices.Equal(chats, []bot.ChatID{36}) {
		t.Fatalf("after Idle with a message queued: Due = %v, want the chat at once", chats)
	}
}

// testControl: a commit can mark the chat blocked (my_chat_member
// "kicked") and unblocked; the outbox is kept meanwhile.
func testControl(t *testing.T, b Backend) {
	st := b.Store
	mustBegin(t, st, 37, 1, "a")
	mustCommit(t, st, 37, "a", bot.Commit{UpdateID: 1, Now: t0, Out: []bot.OutMessage{msg("1-0", "x")}})
	mustBegin(t, st, 37, 2, "a")
	mustCommit(t, st, 37, "a", bot.Commit{UpdateID: 2, Now: t0, Control: bot.Blocked})
	if !b.Inspect.Blocked(37) {
		t.Fatal("a Blocked commit did not mark the chat")
	}
	if _, _, _, err := st.Next(ctx, 37, t0); !errors.Is(err, bot.ErrBlocked) {
		t.Fatalf("Next of a blocked chat: %v, want ErrBlocked", err)
	}
	mustBegin(t, st, 37, 3, "a")
	mustCommit(t, st, 37, "a", bot.Commit{UpdateID: 3, Now: t0, Control: bot.Unblocked})
	if b.Inspect.Blocked(37) {
		t.Fatal("an Unblocked commit left the mark")
	}
	if m, n, _, err := st.Next(ctx, 37, t0); err != nil || m.ID != "1-0" || n != 1 {
		t.Fatalf("Next after unblocking = %+v, %d, %v", m, n, err)
	}
}

// testCancelled: an operation whose context is cancelled fails with the
// context's error and changes nothing (the service gives up on it).
func testCancelled(t *testing.T, b Backend) {
	st := b.Store
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := st.Begin(cctx, 38, 1, "a", time.Minute); !errors.Is(err, context.Canceled) {
		t.Fatalf("Begin with a cancelled context: %v, want context.Canceled", err)
	}
	if err := st.Commit(cctx, 38, "a", bot.Commit{UpdateID: 1, Now: t0, Out: []bot.OutMessage{msg("1-0", "x")}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Commit with a cancelled context: %v, want context.Canceled", err)
	}
	mustBegin(t, st, 38, 1, "b") // neither locked nor handled
}

// testLeaseRunsOut: a worker that outlives its lease loses the chat to
// another worker, and its late commit stores nothing.
func testLeaseRunsOut(t *testing.T, b Backend) {
	st := b.Store
	if _, err := st.Begin(ctx, 39, 1, "a", time.Second); err != nil {
		t.Fatal(err)
	}
	if !b.Inspect.Advance(2 * time.Second) {
		t.Skip("the backend's clock cannot be moved")
	}
	mustBegin(t, st, 39, 1, "b")
	if err := st.Commit(ctx, 39, "a", bot.Commit{UpdateID: 1, Now: t0, Out: []bot.OutMessage{msg("1-0", "late")}}); !errors.Is(err, bot.ErrLeaseLost) {
		t.Fatalf("commit after the lease ran out: %v, want ErrLeaseLost", err)
	}
	mustCommit(t, st, 39, "b", bot.Commit{UpdateID: 1, Now: t0})
}

// testLeaderExpires: a leader that stops renewing loses the lead.
func testLeaderExpires(t *testing.T, b Backend) {
	st := b.Store
	if ok, _ := st.Lead(ctx, "poller", "a", time.Second); !ok {
		t.Fatal("first replica did not lead")
	}
	if !b.Inspect.Advance(2 * time.Second) {
		t.Skip("the backend's clock cannot be moved")
	}
	if ok, _ := st.Lead(ctx, "poller", "b", time.Minute); !ok {
		t.Fatal("the lead did not pass on after its ttl")
	}
	if ok, _ := st.Lead(ctx, "poller", "a", time.Minute); ok {
		t.Fatal("the old leader took the lead back")
	}
}

// testRetention: an inactive chat's data is gone once the retention
// period (one hour here) has passed; the handled ids stay their 25 h.
func testRetention(t *testing.T, b Backend) {
	st := b.Store
	mustBegin(t, st, 40, 1, "a")
	s := flows.Session{Schema: flows.SchemaVersion, Lang: knowledge.UK}
	mustCommit(t, st, 40, "a", bot.Commit{UpdateID: 1, Session: s, Now: t0, Out: []bot.OutMessage{msg("1-0", "x")},
		Audit: []bot.AuditRecord{{Ref: "legal.pesel@1", At: t0}}, Control: bot.Blocked})
	st.MaybeSent(ctx, 40, "1-0")
	if !b.Inspect.Advance(59 * time.Minute) {
		t.Skip("the backend's clock cannot be moved")
	}
	want := []string{"audit", "blocked", "out", "seen", "session", "uncertain"}
	if keys := b.Inspect.ChatKeys(40); !slices.Equal(keys, want) {
		t.Fatalf("before the retention period: keys %v, want %v", keys, want)
	}
	b.Inspect.Advance(2 * time.Minute)
	if keys := b.Inspect.ChatKeys(40); !slices.Equal(keys, []string{"seen"}) {
		t.Fatalf("after the retention period: keys %v, want only the handled ids", keys)
	}
	if _, err := st.Begin(ctx, 40, 1, "b", time.Minute); !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("Begin of a handled update within 25 h: %v, want ErrDuplicate", err)
	}
	if begun := mustBegin(t, st, 40, 2, "b"); begun.Session.Lang != "" {
		t.Errorf("session after the retention period: %+v, want a new one", begun.Session)
	}
	st.Release(ctx, 40, "b")
	b.Inspect.Advance(25 * time.Hour)
	if keys := b.Inspect.ChatKeys(40); len(keys) != 0 {
		t.Fatalf("after 25 h: keys %v remain", keys)
	}
}
