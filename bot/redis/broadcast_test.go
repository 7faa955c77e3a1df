package redis

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
)

// follow commits a session for chat that follows keys in lang, the way
// the service does: session and index in one commit.
func follow(t *testing.T, st *Store, chat bot.ChatID, upd int64, lang knowledge.Lang, keys ...string) {
	t.Helper()
	mustBegin(t, st, chat, upd, "f")
	s := flows.Session{Schema: flows.SchemaVersion, Lang: lang, LangConfirmed: true, Subs: keys}
	var subs []bot.Sub
	for _, k := range keys {
		subs = append(subs, bot.Sub{Key: k, Lang: lang})
	}
	if err := st.Commit(ctx, chat, "f", bot.Commit{UpdateID: upd, Session: s, Now: t0, Follow: subs}); err != nil {
		t.Fatal(err)
	}
}

func alert() bot.Broadcast {
	msgs := map[knowledge.Lang][]bot.OutMessage{}
	for _, l := range knowledge.Langs() {
		msgs[l] = []bot.OutMessage{{ID: "bc:alert:work.wage@3:x-0", Text: "changed " + string(l), Broadcast: "alert:work.wage@3:x"}}
	}
	return bot.Broadcast{ID: "alert:work.wage@3:x", Keys: []string{"work.wage", "cat:work"}, Messages: msgs}
}

func outbox(t *testing.T, st *Store, rdb goredis.UniversalClient, chat bot.ChatID) []string {
	t.Helper()
	raw, err := rdb.LRange(ctx, st.chatKey(chat, "out"), 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// testBroadcastOnce: the audience is the followers of the topic or its
// category; each gets the message in their language once, even when
// creation and delivery are repeated (two replicas, a crash before
// settling); a blocked chat and one that stopped following get nothing.
func testBroadcastOnce(t *testing.T, st *Store, rdb goredis.UniversalClient) {
	follow(t, st, 1, 1, knowledge.UK, "work.wage")
	follow(t, st, 2, 1, knowledge.EN, "cat:work", "work.wage") // both keys: still one message
	follow(t, st, 3, 1, knowledge.PL, "legal.pesel")           // not in the audience
	follow(t, st, 4, 1, knowledge.RU, "work.wage")
	st.Unreachable(ctx, 4)
	follow(t, st, 5, 1, knowledge.PL, "work.wage")
	// Chat 5 stops following with no index change (as if the index lagged
	// a crash): the session decides.
	mustBegin(t, st, 5, 2, "g")
	st.Commit(ctx, 5, "g", bot.Commit{UpdateID: 2, Session: flows.Session{Schema: flows.SchemaVersion, Lang: knowledge.PL}, Now: t0})

	// Chat 6's data expired (the retention period): its index entry is
	// stale until a broadcast finds it gone.
	follow(t, st, 6, 1, knowledge.EN, "work.wage")
	rdb.Del(ctx, st.chatKey(6, "session"))

	aud, err := st.Audience(ctx, alert().Keys, knowledge.Langs())
	if err != nil {
		t.Fatal(err)
	}
	if want := map[knowledge.Lang]int{knowledge.PL: 1, knowledge.EN: 2, knowledge.UK: 1, knowledge.RU: 1}; !mapsEqual(aud, want) {
		t.Errorf("Audience = %v, want %v", aud, want)
	}
	for i, want := range []bool{true, false} {
		created, err := st.CreateBroadcast(ctx, alert(), t0)
		if err != nil || created != want {
			t.Fatalf("CreateBroadcast #%d = %v, %v; want %v", i+1, created, err, want)
		}
	}
	rs, done, err := st.ClaimRecipients(ctx, alert().ID, t0, 10, time.Minute)
	if err != nil || done || len(rs) != 5 {
		t.Fatalf("ClaimRecipients = %v, %v, %v; want 5 recipients", rs, done, err)
	}
	ds, err := st.Deliver(ctx, alert().ID, rs, t0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[bot.ChatID]bot.Delivery{}
	for i, r := range rs {
		got[r.Chat] = ds[i]
	}
	want := map[bot.ChatID]bot.Delivery{1: bot.Queued, 2: bot.Queued, 4: bot.Unreachable, 5: bot.Unfollowed, 6: bot.Gone}
	if !mapsEqual(got, want) {
		t.Errorf("Deliver = %v, want %v", got, want)
	}
	// A crash before Settle: the same recipients come again.
	ds, _ = st.Deliver(ctx, alert().ID, rs, t0)
	for i, r := range rs {
		if ds[i] == bot.Queued {
			t.Errorf("chat %d: queued a second time", r.Chat)
		}
	}
	if err := st.SettleRecipients(ctx, alert().ID, rs, ds); err != nil {
		t.Fatal(err)
	}
	for chat, lang := range map[bot.ChatID]string{1: "uk", 2: "en"} {
		out := outbox(t, st, rdb, chat)
		if len(out) != 1 || !slices.ContainsFunc(out, func(s string) bool { return strings.Contains(s, "changed "+lang) }) {
			t.Errorf("chat %d outbox = %v, want one message in %s", chat, out, lang)
		}
	}
	for _, chat := range []bot.ChatID{3, 4, 5} {
		if out := outbox(t, st, rdb, chat); len(out) != 0 {
			t.Errorf("chat %d got %v", chat, out)
		}
	}
	if n, _ := rdb.ZScore(ctx, st.key("sendq"), "1").Result(); n == 0 {
		t.Error("chat 1 is not on the send schedule")
	}
	if ok, _ := rdb.SIsMember(ctx, st.subsKey("work.wage", knowledge.PL), "5").Result(); ok {
		t.Error("chat 5, which no longer follows, is still in the index")
	}
	if ok, _ := rdb.SIsMember(ctx, st.subsKey("work.wage", knowledge.EN), "6").Result(); ok {
		t.Error("chat 6, whose data expired, is still in the index")
	}
	if _, done, _ := st.ClaimRecipients(ctx, alert().ID, t0, 10, time.Minute); !done {
		t.Error("broadcast not done after every recipient was settled")
	}
	if err := st.End(ctx, alert().ID, t0); err != nil {
		t.Fatal(err)
	}
	status, err := st.Status(ctx, alert().ID)
	if err != nil {
		t.Fatal(err)
	}
	if status.Total != 5 || status.Remaining != 0 || status.Counts["queued"] != 2 || status.Counts["unreachable"] != 1 || status.Counts["unfollowed"] != 1 || status.Counts["gone"] != 1 {
		t.Errorf("Status = %+v", status)
	}
	if ids, _ := st.ActiveBroadcasts(ctx); len(ids) != 0 {
		t.Errorf("active after End: %v", ids)
	}
}

// testBroadcastLease: recipients claimed by a replica that then dies are
// claimed again once the lease ends, not before.
func testBroadcastLease(t *testing.T, st *Store, _ goredis.UniversalClient) {
	for chat := bot.ChatID(1); chat <= 3; chat++ {
		follow(t, st, chat, 1, knowledge.UK, "cat:work")
	}
	st.CreateBroadcast(ctx, alert(), t0)
	first, _, _ := st.ClaimRecipients(ctx, alert().ID, t0, 2, time.Minute)
	second, _, _ := st.ClaimRecipients(ctx, alert().ID, t0.Add(time.Second), 10, time.Minute)
	if len(first) != 2 || len(second) != 1 {
		t.Fatalf("claims = %v then %v; want 2 then the 1 left", first, second)
	}
	if again, done, _ := st.ClaimRecipients(ctx, alert().ID, t0.Add(30*time.Second), 10, time.Minute); len(again) != 0 || done {
		t.Fatalf("claimed during the lease: %v (done %v)", again, done)
	}
	again, _, _ := st.ClaimRecipients(ctx, alert().ID, t0.Add(2*time.Minute), 10, time.Minute)
	if len(again) != 3 {
		t.Fatalf("after the lease: %v, want all 3 again", again)
	}
}

// testBroadcastNotBefore: nothing is claimed before the broadcast's time.
func testBroadcastNotBefore(t *testing.T, st *Store, _ goredis.UniversalClient) {
	follow(t, st, 1, 1, knowledge.EN, "news")
	b := alert()
	b.ID, b.Keys, b.NotBefore = "news:courses", []string{"news"}, t0.Add(time.Hour)
	st.CreateBroadcast(ctx, b, t0)
	if rs, done, _ := st.ClaimRecipients(ctx, b.ID, t0, 10, time.Minute); len(rs) != 0 || done {
		t.Fatalf("claimed before not_before: %v (done %v)", rs, done)
	}
	if rs, _, _ := st.ClaimRecipients(ctx, b.ID, t0.Add(time.Hour), 10, time.Minute); len(rs) != 1 {
		t.Fatalf("at not_before: %v", rs)
	}
}

// testForgetUnfollows: /forget takes the chat out of the index and
// deletes its broadcast marks; a later broadcast does not reach it.
func testForgetUnfollows(t *testing.T, st *Store, rdb goredis.UniversalClient) {
	follow(t, st, 9, 1, knowledge.UK, "work.wage")
	st.CreateBroadcast(ctx, alert(), t0)
	rs, _, _ := st.ClaimRecipients(ctx, alert().ID, t0, 10, time.Minute)
	ds, _ := st.Deliver(ctx, alert().ID, rs, t0)
	st.SettleRecipients(ctx, alert().ID, rs, ds)
	mustBegin(t, st, 9, 2, "a")
	err := st.Commit(ctx, 9, "a", bot.Commit{UpdateID: 2, Forget: true, Now: t0, Unfollow: []bot.Sub{{Key: "work.wage", Lang: knowledge.UK}}})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := rdb.SCard(ctx, st.subsKey("work.wage", knowledge.UK)).Result(); n != 0 {
		t.Errorf("index still holds %d chats after /forget", n)
	}
	// The sender comes for the chat, still scheduled for the alert: the
	// alert is gone, and so is the tombstone a store without the schedule
	// at hand leaves in its place (for a send that may be in flight).
	if _, _, _, err := st.Next(ctx, 9, t0); !errors.Is(err, bot.ErrEmpty) {
		t.Errorf("after /forget Next = %v, want nothing to send", err)
	}
	for _, k := range chatKeys(t, st, rdb, 9) {
		if !slices.Contains([]string{st.chatKey(9, "seen")}, k) {
			t.Errorf("after /forget, key %s remains", k)
		}
	}
	b := alert()
	b.ID = "alert:work.wage@4:y"
	st.CreateBroadcast(ctx, b, t0)
	if status, _ := st.Status(ctx, b.ID); status.Total != 0 {
		t.Errorf("a forgotten chat is in a later audience: %+v", status)
	}
}

// testTopicVersions: the versions seen round-trip.
func testTopicVersions(t *testing.T, st *Store, _ goredis.UniversalClient) {
	if vs, err := st.TopicVersions(ctx); err != nil || len(vs) != 0 {
		t.Fatalf("TopicVersions = %v, %v", vs, err)
	}
	st.SetTopicVersions(ctx, map[string]string{"work.wage": "3:abc"})
	if vs, _ := st.TopicVersions(ctx); vs["work.wage"] != "3:abc" {
		t.Errorf("TopicVersions = %v", vs)
	}
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
