// Package redis is witaj's durable state on Redis (standalone, Sentinel or
// Cluster through go-redis's universal client): sessions, handled-update
// marks, the outbox, audit records, unanswered questions and the polling
// leader lock.
//
// Keys of one chat share the hash tag {chat:<id>}, so every multi-key
// script runs on one Cluster slot:
//
//	witaj:{chat:<id>}:session  string  flows.Session JSON     TTL retention
//	witaj:{chat:<id>}:seen     zset    handled update ids (by when), and failed attempts (negative)  TTL 25 h (Telegram keeps updates 24 h)
//	witaj:{chat:<id>}:lock     string  worker token           TTL lease
//	witaj:{chat:<id>}:out      list    outgoing messages      TTL retention
//	witaj:{chat:<id>}:next     string  earliest next send     TTL ≤ the wait + 1 s
//	witaj:{chat:<id>}:audit    list    answers shown (≤ 100)  TTL retention
//	witaj:{chat:<id>}:blocked  string  user blocked the bot   TTL retention
//	witaj:{chat:<id>}:fails    hash    failed attempts, until 2026-12 (now in seen); erased, not written  TTL 25 h
//	witaj:{chat:<id>}:uncertain hash   ids of messages that may have been sent  TTL retention
//	witaj:{chat:<id>}:bc       set     broadcasts queued for the chat  TTL retention
//
// Global keys, each used alone:
//
//	witaj:sendq            zset    chats with messages to send; permanent, a chat leaves when its outbox empties
//	witaj:rate             string  global send-rate state     TTL ≤ 1 s + the wait
//	witaj:gaps:<date>      zset    unanswered questions, no user identifier; TTL retention
//	witaj:dead             list    updates that failed too often (≤ 1000); TTL retention
//	witaj:leader:<name>    string  polling leader token       TTL lease
//	witaj:subs:<key>:<lang> set    chats following key (topic id, cat:<category>, news) in lang;
//	                               TTL retention, renewed by each follow; the session decides
//	witaj:broadcasts       set     broadcasts with recipients left; permanent, a broadcast leaves when done
//	witaj:topics           hash    last version and change note seen per topic; permanent (one field per topic)
//	witaj:ratebc           string  broadcast send-rate state  TTL ≤ 1 s + the wait
//	witaj:stats:<date>     hash    the day's counts for reports, no identifier; TTL 90 days
//	                               (an update's counts joined in one field, "conv:uk|decision:answer|topic:…")
//	                               (and once:case:<case id> marks, so that a case is counted once)
//	witaj:stats:<date>:claims list minutes cases waited for a claim that day; TTL 90 days
//
// Keys of one broadcast share the hash tag {bc:<id>}:
//
//	witaj:{bc:<id>}:meta   hash    messages, keys, counts     TTL retention
//	witaj:{bc:<id>}:todo   zset    recipients left ("<lang>:<chat>"), by when due  TTL retention
package redis

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
)

// SeenTTL is how long a handled update id is remembered: Telegram keeps an
// undelivered update for 24 hours.
const SeenTTL = 25 * time.Hour

// Store implements bot.Store on Redis.
type Store struct {
	rdb       goredis.UniversalClient
	prefix    string
	retention time.Duration
	s         scripts
	// ordered: a pipeline runs its commands in order on one server
	// (standalone, Sentinel). Redis Cluster sends a pipeline's commands
	// to their slots' nodes independently, so ordered steps take one
	// round trip each there.
	ordered bool
	// contents caches what delivery needs of each broadcast (it never
	// changes once created): broadcast id → *bcContent.
	contents *sync.Map
	// chats and slackq are the Telegram outbox and the Slack queue, made
	// once: the send path uses them for every message.
	chats  lanes[bot.ChatID, bot.OutMessage]
	slackq lanes[string, bot.SlackItem]
	// expiryKey is the day's stats key this store last gave its expiry,
	// at expirySet (statsExpiry).
	expiryMu  sync.Mutex
	expiryKey string
	expirySet time.Time
}

var _ bot.Store = (*Store)(nil)

// Options configure a Store.
type Options struct {
	// Retention is how long a chat's data lives after its last update.
	Retention time.Duration
	// Prefix starts every key ("witaj:" by default); tests use their own.
	Prefix string
}

// New returns a store on rdb.
func New(rdb goredis.UniversalClient, opts Options) *Store {
	if opts.Prefix == "" {
		opts.Prefix = "witaj:"
	}
	if opts.Retention <= 0 {
		opts.Retention = 30 * 24 * time.Hour
	}
	_, cluster := rdb.(*goredis.ClusterClient)
	st := &Store{rdb: rdb, prefix: opts.Prefix, retention: opts.Retention, s: newScripts(), ordered: !cluster, contents: &sync.Map{}}
	st.chats, st.slackq = st.newChatLanes(), st.newSlackLanes()
	return st
}

func (st *Store) chatKey(chat bot.ChatID, name string) string {
	return st.prefix + "{chat:" + strconv.FormatInt(int64(chat), 10) + "}:" + name
}

// chatKeys returns several of a chat's keys, cut from one string: a
// commit names ten, and two allocations here instead of twenty showed in
// the profile of every update.
func (st *Store) chatKeys(chat bot.ChatID, names ...string) []string {
	var num [20]byte
	digits := strconv.AppendInt(num[:0], int64(chat), 10)
	base := len(st.prefix) + len("{chat:") + len(digits) + len("}:")
	size := 0
	for _, n := range names {
		size += base + len(n)
	}
	var b strings.Builder
	b.Grow(size)
	for _, n := range names {
		b.WriteString(st.prefix)
		b.WriteString("{chat:")
		b.Write(digits)
		b.WriteString("}:")
		b.WriteString(n)
	}
	all := b.String()
	keys := make([]string, len(names), len(names)+3) // room for the keys a commit adds
	for i, n := range names {
		keys[i], all = all[:base+len(n)], all[base+len(n):]
	}
	return keys
}

func (st *Store) key(name string) string { return st.prefix + name }

func ms(t time.Time) int64 { return t.UnixMilli() }

func (st *Store) retentionSeconds() int64 { return int64(st.retention / time.Second) }

// Begin implements bot.Store.
func (st *Store) Begin(ctx context.Context, chat bot.ChatID, updateID int64, token string, lease time.Duration) (bot.Begun, error) {
	keys := st.chatKeys(chat, "seen", "lock", "session")
	res, err := st.s.begin.Run(ctx, st.rdb, keys, updateID, token, lease.Milliseconds()).StringSlice()
	if err != nil {
		return bot.Begun{}, fmt.Errorf("begin chat %d update %d: %w", chat, updateID, err)
	}
	switch res[0] {
	case "dup":
		return bot.Begun{}, bot.ErrDuplicate
	case "busy":
		return bot.Begun{}, bot.ErrBusy
	}
	var b bot.Begun
	if res[1] != "" {
		if b.Session, err = flows.DecodeSession([]byte(res[1])); err != nil {
			// A session we cannot read starts afresh rather than blocking
			// the chat forever; the engine treats it as new.
			b.Session = flows.Session{}
		}
	}
	return b, nil
}

// Commit implements bot.Store.
func (st *Store) Commit(ctx context.Context, chat bot.ChatID, token string, c bot.Commit) error {
	_, err := st.CommitWith(ctx, chat, token, c, bot.CommitOptions{})
	return err
}

// CommitWith implements bot.Committer. The claim of the chat's lane is
// made on one server only: in a cluster the schedule lives in another
// slot, and the commit schedules after the script, as Commit does.
func (st *Store) CommitWith(ctx context.Context, chat bot.ChatID, token string, c bot.Commit, o bot.CommitOptions) (bot.Committed, error) {
	sess, err := c.Session.Encode()
	if err != nil {
		return bot.Committed{}, fmt.Errorf("commit chat %d: encode session: %w", chat, err)
	}
	keys := st.chatKeys(chat, "seen", "lock", "session", "out", "audit", "blocked", "fails", "next", "uncertain", "bc")
	forget := "0"
	if c.Forget {
		forget = "1"
	}
	// On one server the script schedules and counts too (-1: the caller
	// does, after it).
	sched, statsExpiry := int64(-1), int64(0)
	if st.ordered {
		sched = max(o.Claim.Milliseconds(), 0)
		stats := st.statsKey(c.Now)
		keys = append(keys, st.key("sendq"), stats, st.key("gaps:"+c.Now.UTC().Format(time.DateOnly)))
		if len(c.Stats) > 0 {
			statsExpiry = st.statsExpiry(stats, time.Now())
		}
	}
	next, retry := "", "0"
	if o.Keep > 0 {
		next = strconv.FormatInt(o.Next, 10)
	}
	if o.Retry {
		retry = "1"
	}
	// Encoded JSON goes as []byte: go-redis writes it as it is, where a
	// string would be one more copy of every message.
	args := make([]any, 0, 16+len(c.Out)+len(c.Audit)+2*len(c.Stats)+len(c.Gaps))
	args = append(args, c.UpdateID, token, ms(c.Now), sess, st.retentionSeconds(), int64(SeenTTL/time.Second),
		forget, int(c.Control), sched, strconv.FormatInt(int64(chat), 10), statsExpiry,
		o.Keep.Milliseconds(), next, retry, len(c.Out))
	for _, m := range c.Out {
		b, err := marshalMessage(m)
		if err != nil {
			return bot.Committed{}, fmt.Errorf("commit chat %d: encode message: %w", chat, err)
		}
		args = append(args, b)
	}
	args = append(args, len(c.Audit))
	for _, a := range c.Audit {
		b, _ := json.Marshal(a)
		args = append(args, b)
	}
	if st.ordered {
		joined := joinCounts(c.Stats)
		args = append(args, len(joined))
		for _, f := range joined {
			args = append(args, f.name, f.n)
		}
		args = append(args, len(c.Gaps))
		for _, g := range c.Gaps {
			args = append(args, string(g.Lang)+"\t"+normaliseGap(g.Text))
		}
	}
	res, err := st.commit(ctx, chat, keys, args, c)
	if err != nil {
		return bot.Committed{}, fmt.Errorf("commit chat %d update %d: %w", chat, c.UpdateID, err)
	}
	if res[0] == -1 {
		return bot.Committed{}, bot.ErrLeaseLost
	}
	// Stored now, or by an earlier try whose reply was lost.
	return bot.Committed{Claimed: res[1] == 1, Kept: res[0] >= 0 && o.Keep > 0, NextSeen: res[2] == 1}, nil
}

// commit runs the commit script: on one server alone, or pipelined with
// the subscription changes; in a cluster, followed by the schedule and
// the counts. Scheduling a chat whose commit then fails (lease lost) is
// harmless: the sender finds nothing new to send.
func (st *Store) commit(ctx context.Context, chat bot.ChatID, keys []string, args []any, c bot.Commit) ([]int64, error) {
	if !st.ordered {
		res, err := commitResult(st.s.commit.Run(ctx, st.rdb, keys, args...))
		if err != nil || res[0] == -1 {
			return res, err
		}
		return res, st.schedule(ctx, chat, c)
	}
	if len(c.Follow) == 0 && len(c.Unfollow) == 0 {
		return commitResult(st.s.commit.Run(ctx, st.rdb, keys, args...))
	}
	var cmd *goredis.Cmd
	_, err := st.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		cmd = st.s.commit.EvalSha(ctx, p, keys, args...)
		st.queueSubs(ctx, p, chat, c)
		return nil
	})
	if err != nil && isNoScript(cmd.Err()) {
		// Redis lost its script cache (a restart): load the script and
		// commit, then change the subscriptions again, after the commit
		// this time.
		res, err := commitResult(st.s.commit.Run(ctx, st.rdb, keys, args...))
		if err != nil || res[0] == -1 {
			return res, err
		}
		return res, st.schedule(ctx, chat, bot.Commit{Follow: c.Follow, Unfollow: c.Unfollow})
	}
	if err != nil {
		return nil, err
	}
	return commitResult(cmd)
}

// marshalMessage encodes a message for the outbox. HTML is left as it
// is, not escaped as \u003c: a Telegram message is full of tags, and the
// escapes made it larger to store, send and read.
func marshalMessage(m bot.OutMessage) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// commitResult reads the commit script's {length, claimed, next seen}.
func commitResult(cmd *goredis.Cmd) ([]int64, error) {
	res, err := cmd.Int64Slice()
	if err != nil {
		return nil, err
	}
	if len(res) != 3 {
		return nil, fmt.Errorf("commit script answered %v", res)
	}
	return res, nil
}

func (st *Store) schedule(ctx context.Context, chat bot.ChatID, c bot.Commit) error {
	if len(c.Out) == 0 && len(c.Gaps) == 0 && len(c.Follow) == 0 && len(c.Unfollow) == 0 && len(c.Stats) == 0 {
		return nil
	}
	_, err := st.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		st.queueSchedule(ctx, p, chat, c.Now, len(c.Out) > 0, c.Gaps)
		st.queueSubs(ctx, p, chat, c)
		st.queueStats(ctx, p, c.Now, c.Stats)
		return nil
	})
	return err
}

func isNoScript(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT")
}

// Release implements bot.Store.
func (st *Store) Release(ctx context.Context, chat bot.ChatID, token string) error {
	if err := st.s.release.Run(ctx, st.rdb, []string{st.chatKey(chat, "lock")}, token).Err(); err != nil {
		return fmt.Errorf("release chat %d: %w", chat, err)
	}
	return nil
}

// Fail implements bot.Store.
func (st *Store) Fail(ctx context.Context, chat bot.ChatID, updateID int64, token string) (int, error) {
	keys := st.chatKeys(chat, "seen", "lock")
	n, err := st.s.fail.Run(ctx, st.rdb, keys, updateID, token, int64(SeenTTL/time.Second)).Int()
	if err != nil {
		return 0, fmt.Errorf("record failure chat %d update %d: %w", chat, updateID, err)
	}
	return n, nil
}

// Schedule implements bot.Store. An existing schedule entry is left
// alone: it is either due already, held by a sender that will see the new
// message, or deferred on purpose (rate limits). Gaps are counted per day,
// without any user identifier, in the same round trip.
func (st *Store) Schedule(ctx context.Context, chat bot.ChatID, t time.Time, gaps []flows.Gap) error {
	_, err := st.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		st.queueSchedule(ctx, p, chat, t, true, gaps)
		return nil
	})
	if err != nil {
		return fmt.Errorf("schedule chat %d: %w", chat, err)
	}
	return nil
}

// queueSchedule adds to p: the chat on the send schedule at t (when send
// is set; an entry already there is left alone: it is due already, held
// by a sender that will see the new message, or deferred on purpose), and
// the day's count of each gap.
func (st *Store) queueSchedule(ctx context.Context, p goredis.Pipeliner, chat bot.ChatID, t time.Time, send bool, gaps []flows.Gap) {
	if send {
		p.ZAddNX(ctx, st.key("sendq"), goredis.Z{Score: float64(ms(t)), Member: strconv.FormatInt(int64(chat), 10)})
	}
	if len(gaps) > 0 {
		key := st.key("gaps:" + t.UTC().Format(time.DateOnly))
		for _, g := range gaps {
			p.ZIncrBy(ctx, key, 1, string(g.Lang)+"\t"+normaliseGap(g.Text))
		}
		p.Expire(ctx, key, st.retention)
	}
}

// Due implements bot.Store.
func (st *Store) Due(ctx context.Context, now time.Time, max int, lease time.Duration) ([]bot.ChatID, time.Time, error) {
	return st.chats.Due(ctx, now, max, lease)
}

// Next implements bot.Store.
func (st *Store) Next(ctx context.Context, chat bot.ChatID, now time.Time) (bot.OutMessage, int, time.Duration, error) {
	return st.chats.Next(ctx, chat, now)
}

// Settle implements bot.Store.
func (st *Store) Settle(ctx context.Context, chat bot.ChatID, id string, now time.Time, interval time.Duration, last bool) (int, error) {
	return st.chats.Settle(ctx, chat, id, now, interval, last)
}

// Defer implements bot.Store.
func (st *Store) Defer(ctx context.Context, chat bot.ChatID, t time.Time) error {
	return st.chats.Defer(ctx, chat, t)
}

// Hold implements bot.Store.
func (st *Store) Hold(ctx context.Context, chat bot.ChatID, t time.Time) error {
	return st.chats.Hold(ctx, chat, t)
}

// MaybeSent implements bot.Store: the mark is a field of the chat's
// uncertain hash, deleted with the chat.
func (st *Store) MaybeSent(ctx context.Context, chat bot.ChatID, id string) (bool, error) {
	key := st.chatKey(chat, "uncertain")
	var first *goredis.BoolCmd
	_, err := st.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		first = p.HSetNX(ctx, key, id, "1")
		p.Expire(ctx, key, st.retention)
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("mark maybe sent chat %d: %w", chat, err)
	}
	return first.Val(), nil
}

// Unreachable implements bot.Store.
func (st *Store) Unreachable(ctx context.Context, chat bot.ChatID) error {
	_, err := st.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.Del(ctx, st.chatKey(chat, "out"))
		p.Set(ctx, st.chatKey(chat, "blocked"), "1", st.retention)
		return nil
	})
	if err != nil {
		return fmt.Errorf("mark chat %d unreachable: %w", chat, err)
	}
	return nil
}

// Idle implements bot.Store.
func (st *Store) Idle(ctx context.Context, chat bot.ChatID) error {
	return st.chats.Idle(ctx, chat)
}

// Reserve implements bot.Store.
func (st *Store) Reserve(ctx context.Context, now time.Time, rate float64, n int) (time.Duration, error) {
	interval := int64(float64(time.Second.Microseconds()) / rate)
	wait, err := st.s.reserve.Run(ctx, st.rdb, []string{st.key("rate")}, now.UnixMicro(), max(interval, 1), max(n, 1)).Int64()
	if err != nil {
		return 0, fmt.Errorf("rate limit: %w", err)
	}
	return time.Duration(wait) * time.Microsecond, nil
}

// normaliseGap makes repeated questions count together: lower case, single
// spaces, bounded length.
func normaliseGap(s string) string {
	s = strings.Join(strings.Fields(strings.ToLower(s)), " ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200])
	}
	return s
}

// Gaps implements bot.Store.
func (st *Store) Gaps(ctx context.Context, now time.Time, days, limit int) ([]bot.GapCount, error) {
	counts := map[string]int{}
	for d := range days {
		key := st.key("gaps:" + now.UTC().AddDate(0, 0, -d).Format(time.DateOnly))
		zs, err := st.rdb.ZRangeWithScores(ctx, key, 0, -1).Result()
		if err != nil {
			return nil, fmt.Errorf("read gaps: %w", err)
		}
		for _, z := range zs {
			counts[z.Member.(string)] += int(z.Score)
		}
	}
	out := make([]bot.GapCount, 0, len(counts))
	for k, n := range counts {
		lang, q, _ := strings.Cut(k, "\t")
		out = append(out, bot.GapCount{Lang: knowledge.Lang(lang), Question: q, Count: n})
	}
	bot.SortGaps(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// DeadLetter implements bot.Store.
func (st *Store) DeadLetter(ctx context.Context, rec bot.DeadLetter) error {
	b, _ := json.Marshal(rec)
	key := st.key("dead")
	_, err := st.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		p.LPush(ctx, key, string(b))
		p.LTrim(ctx, key, 0, 999)
		p.Expire(ctx, key, st.retention)
		return nil
	})
	if err != nil {
		return fmt.Errorf("dead-letter update %d: %w", rec.UpdateID, err)
	}
	return nil
}

// Audit implements bot.Store.
func (st *Store) Audit(ctx context.Context, chat bot.ChatID) ([]bot.AuditRecord, error) {
	raw, err := st.rdb.LRange(ctx, st.chatKey(chat, "audit"), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("read audit chat %d: %w", chat, err)
	}
	out := make([]bot.AuditRecord, 0, len(raw))
	for _, r := range raw {
		var a bot.AuditRecord
		if json.Unmarshal([]byte(r), &a) == nil {
			out = append(out, a)
		}
	}
	return out, nil
}

// Lead implements bot.Store.
func (st *Store) Lead(ctx context.Context, name, token string, ttl time.Duration) (bool, error) {
	n, err := st.s.lead.Run(ctx, st.rdb, []string{st.key("leader:" + name)}, token, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("lead %s: %w", name, err)
	}
	return n == 1, nil
}

// Ping implements bot.Store.
func (st *Store) Ping(ctx context.Context) error {
	return st.rdb.Ping(ctx).Err()
}

// Pending returns how many chats have messages waiting to be sent.
func (st *Store) Pending(ctx context.Context) (int64, error) {
	return st.rdb.ZCard(ctx, st.key("sendq")).Result()
}

// SlackPending returns how many Slack channels have requests waiting.
func (st *Store) SlackPending(ctx context.Context) (int64, error) {
	return st.rdb.ZCard(ctx, st.key("slackq")).Result()
}
