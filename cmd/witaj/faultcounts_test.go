package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/google/go-cmp/cmp"
	goredis "github.com/redis/go-redis/v9"

	"github.com/witaj/witaj/bot/redis"
	"github.com/witaj/witaj/bot/slack/slackfake"
	"github.com/witaj/witaj/bot/telegram/telegramtest"
)

// Checklist item 33: when Redis answers late, no counter, queue entry or
// list item is written twice. A command whose reply comes later than the
// client's read timeout (go-redis: 5 s) has run on the server while witaj
// sees an error, and whatever witaj retries must not add it again. The
// tests below count what a run of migrants' conversations leaves in Redis
// — report counters, unanswered questions, dead letters, the Slack queue,
// handled updates, audit records — and compare it with exactly what the
// conversations account for, nothing more and nothing less.

// tallies is what a run wrote to Redis that must be written once.
type tallies struct {
	Stats     map[string]int64 // witaj:stats:<date> fields, summed over the days
	Gaps      map[string]int64 // witaj:gaps:<date> members, summed over the days
	Dead      int64            // witaj:dead entries
	SlackIDs  int64            // requests ever queued for the channel (witaj:{slack:<ch>}:ids)
	SlackLeft int64            // requests still queued (witaj:{slack:<ch>}:out)
	Seen      map[int64]int64  // updates recorded as handled, by chat
	Audit     map[int64]int64  // answers recorded as shown, by chat
}

func readTallies(t *testing.T, addr string, chats []int64) tallies {
	t.Helper()
	rdb := goredis.NewClient(&goredis.Options{Addr: addr})
	defer rdb.Close()
	ctx := context.Background()
	tl := tallies{Stats: map[string]int64{}, Gaps: map[string]int64{}, Seen: map[int64]int64{}, Audit: map[int64]int64{}}
	keys, err := rdb.Keys(ctx, "witaj:stats:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.HasSuffix(k, ":claims") {
			continue
		}
		for f, v := range rdb.HGetAll(ctx, k).Val() {
			if strings.HasPrefix(f, "once:") {
				continue // CountOnce's marks, not counts
			}
			n, _ := strconv.ParseInt(v, 10, 64)
			// An update's counts share one field, "conv:en|decision:answer".
			for _, name := range strings.Split(f, "|") {
				tl.Stats[name] += n
			}
		}
	}
	keys, _ = rdb.Keys(ctx, "witaj:gaps:*").Result()
	for _, k := range keys {
		for _, z := range rdb.ZRangeWithScores(ctx, k, 0, -1).Val() {
			tl.Gaps[z.Member.(string)] += int64(z.Score)
		}
	}
	tl.Dead = rdb.LLen(ctx, "witaj:dead").Val()
	tl.SlackIDs = rdb.SCard(ctx, "witaj:{slack:"+consultants+"}:ids").Val()
	tl.SlackLeft = rdb.LLen(ctx, "witaj:{slack:"+consultants+"}:out").Val()
	for _, c := range chats {
		// Handled ids only: a failing id's count is a negative score.
		tl.Seen[c] = rdb.ZCount(ctx, fmt.Sprintf("witaj:{chat:%d}:seen", c), "(0", "+inf").Val()
		tl.Audit[c] = rdb.LLen(ctx, fmt.Sprintf("witaj:{chat:%d}:audit", c)).Val()
	}
	return tl
}

// countRig is a fault rig with consultants on a fake Slack and migrants
// who each have one conversation (see ask and escalate):
//
//	/start en, "where can I buy a cheap bicycle" (a gap), "how do I get
//	a PESEL number" (answered), /human, consent, two messages to the
//	consultant: 7 updates, 6 replies, 1 case, 1 parent and 2 relays in Slack.
type countRig struct {
	*faultRig
	slack *slackfake.Server
	proc  *proc
	ids   []int64
	users []models.User
}

const (
	countUpdates = 7 // per migrant
	countReplies = 6 // per migrant
)

func newCountRig(t *testing.T, chats int) *countRig {
	r := &countRig{faultRig: newFaultRig(t, false), slack: slackfake.New(t), ids: chatIDs(9400, chats)}
	r.slack.SetMembers(consultants, "UCONS1")
	for k, v := range map[string]string{
		"WITAJ_SLACK_BOT_TOKEN": "xoxb-test", "WITAJ_SLACK_API_URL": r.slack.APIURL(), "WITAJ_SLACK_CHANNEL": consultants,
		"WITAJ_SLACK_SIGNING_SECRET": slackSecret, "WITAJ_SLACK_RATE": "50", "WITAJ_HOURS": "Mon-Sun 00:00-24:00",
	} {
		r.env[k] = v
	}
	r.proc = startProc(t, r.env)
	t.Cleanup(r.proc.stop)
	for _, id := range r.ids {
		r.users = append(r.users, telegramtest.User(id, "Test", "en"))
	}
	return r
}

// ask queues the first three updates of migrant i: /start, a gap, an answer.
func (r *countRig) ask(i int) {
	u := r.users[i]
	r.tg.QueueUpdate(telegramtest.Command(u, "start", "en"))
	r.tg.QueueUpdate(telegramtest.Text(u, "where can I buy a cheap bicycle"))
	r.tg.QueueUpdate(telegramtest.Text(u, "how do I get a PESEL number"))
}

// escalate queues the last four updates of migrant i.
func (r *countRig) escalate(i int) {
	u := r.users[i]
	r.tg.QueueUpdate(telegramtest.Command(u, "human", ""))
	r.tg.QueueUpdate(telegramtest.Callback(u, fmt.Sprintf("cb%d", i), "consent:yes", 1))
	r.tg.QueueUpdate(telegramtest.Text(u, fmt.Sprintf("first words of %d", i)))
	r.tg.QueueUpdate(telegramtest.Text(u, fmt.Sprintf("second words of %d", i)))
}

// converse runs migrant i's whole conversation and waits for it to end:
// a warm-up that loads every script into Redis before a fault.
func (r *countRig) converse(t *testing.T, i int) {
	r.ask(i)
	r.escalate(i)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := r.slack.WaitFor(ctx, func(s *slackfake.Server) bool {
		return strings.Contains(allTexts(s), fmt.Sprintf("second words of %d\n", i))
	})
	if err != nil {
		t.Fatalf("warm-up conversation %d never reached Slack: %v", i, err)
	}
	r.settle(r.ids[i:i+1], countReplies, 20*time.Second)
}

// check waits for every conversation to end, stops witaj and compares
// what Redis, Telegram and Slack hold with what the conversations account
// for.
func (r *countRig) check(t *testing.T, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	relayed := func(s *slackfake.Server) bool {
		texts := allTexts(s)
		for i := range r.users {
			if !strings.Contains(texts, fmt.Sprintf("second words of %d\n", i)) {
				return false
			}
		}
		return true
	}
	if err := r.slack.WaitFor(ctx, relayed); err != nil {
		t.Errorf("relays never all reached Slack: %v", err)
	}
	r.settle(r.ids, countReplies, time.Until(deadline(ctx)))
	// The last post leaves the queue once Slack's answer is in.
	rdb := goredis.NewClient(&goredis.Options{Addr: r.redis.Addr})
	defer rdb.Close()
	for rdb.LLen(ctx, "witaj:{slack:"+consultants+"}:out").Val() > 0 && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond) // Redis has no event to wait on
	}
	r.proc.stop()

	n := int64(len(r.ids))
	want := tallies{
		Stats: map[string]int64{"conv:en": n, "decision:none": n, "decision:answer": n, "topic:legal.pesel": n, "cases:opened": n},
		Gaps:  map[string]int64{"en\twhere can i buy a cheap bicycle": n},
		Dead:  0, SlackIDs: 3 * n, SlackLeft: 0,
		Seen: map[int64]int64{}, Audit: map[int64]int64{},
	}
	for _, id := range r.ids {
		want.Seen[id], want.Audit[id] = countUpdates, 1
	}
	if diff := cmp.Diff(want, readTallies(t, r.redis.Addr, r.ids)); diff != "" {
		t.Errorf("Redis after the fault (-want +got):\n%s", diff)
	}
	lost, dup := r.tally(r.ids, countReplies)
	if lost > 0 || dup > 0 {
		t.Errorf("Telegram replies: %d lost, %d duplicated", lost, dup)
	}
	texts, parents := allTexts(r.slack), 0
	for _, p := range r.slack.Posts() {
		if p.ThreadTS == "" && strings.Contains(p.Text, "case W-") && !p.Deleted {
			parents++
		}
	}
	if parents != len(r.ids) {
		t.Errorf("%d case parents in Slack, want %d", parents, len(r.ids))
	}
	for i := range r.users {
		for _, m := range []string{"first", "second"} {
			if c := strings.Count(texts, fmt.Sprintf("%s words of %d\n", m, i)); c != 1 {
				t.Errorf("%q relayed %d times, want once", fmt.Sprintf("%s words of %d", m, i), c)
			}
		}
	}
	if t.Failed() {
		t.Log(tail(r.proc.stderr.String(), 4000))
	}
}

func deadline(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

// TestFaultsLatencyWritesOnce: Redis answers 6 s late (past go-redis's
// 5 s read timeout) for a window in which migrants escalate and write to
// the consultants; every count comes out exact.
func TestFaultsLatencyWritesOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the built binary for about 40 s")
	}
	t.Parallel()
	const chats = 6
	r := newCountRig(t, chats)
	for i := range chats {
		r.ask(i)
	}
	r.settle(r.ids, 3, 20*time.Second)
	r.proxy.Delay(6 * time.Second)
	for i := range chats {
		r.escalate(i)
	}
	time.Sleep(window(7*time.Second, 20*time.Second))
	r.proxy.Delay(0)
	r.check(t, 90*time.Second)
	if !strings.Contains(r.proc.stderr.String(), "i/o timeout") {
		t.Errorf("no Redis command timed out: the fault was not felt")
	}
}

// TestFaultsLostRepliesWriteOnce: the reply to a write is lost — it ran,
// witaj sees an error, as after a reply later than the read timeout —
// for each kind of write that counts: a commit (with the day's counters
// and gaps in its pipeline), a push to the Slack queue, the settling of a
// sent Telegram reply or Slack post. One migrant's conversation runs
// first, so that every script is loaded and the lost replies are those of
// writes that ran.
func TestFaultsLostRepliesWriteOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the built binary")
	}
	t.Parallel()
	scenarios := []struct {
		name  string
		match []byte
		times int
	}{
		{"commit", []byte(redis.ScriptSHA("commit")), 3},
		{"slack push", []byte(redis.ScriptSHA("push")), 3},
		{"settle", []byte(redis.ScriptSHA("settle")), 6}, // Telegram replies and Slack posts
	}
	for _, sc := range scenarios {
		t.Run(strings.ReplaceAll(sc.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			const chats = 4
			r := newCountRig(t, chats)
			r.converse(t, 0)
			r.proxy.LoseReplyTo(sc.match, sc.times)
			for i := 1; i < chats; i++ {
				r.ask(i)
				r.escalate(i)
			}
			r.check(t, 60*time.Second)
			t.Logf("%s: replies lost by the proxy: %d", sc.name, r.proxy.Lost())
			if r.proxy.Lost() == 0 {
				t.Errorf("no reply was lost: the fault was not felt")
			}
		})
	}
}

// TestFaultsLostCaseOpening: the reply to the script that opens a case is
// lost (a reply later than the read timeout has the same effect). The
// escalation is retried and must still put one case, counted once, with
// one parent message and the migrant's messages, in Slack.
func TestFaultsLostCaseOpening(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the built binary")
	}
	t.Parallel()
	const chats = 2
	r := newCountRig(t, chats)
	r.converse(t, 0)
	// The first command naming chat 1's case key is the case's opening.
	r.proxy.LoseReplyTo([]byte(fmt.Sprintf("{chat:%d}:case\r\n", r.ids[1])), 1)
	r.ask(1)
	r.escalate(1)
	r.check(t, 30*time.Second)
	if r.proxy.Lost() != 1 {
		t.Errorf("%d replies lost, want the case opening's", r.proxy.Lost())
	}
}
