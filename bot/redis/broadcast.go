package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/knowledge"
)

var _ bot.BroadcastStore = (*Store)(nil)

func (st *Store) subsKey(key string, lang knowledge.Lang) string {
	return st.key("subs:" + key + ":" + string(lang))
}

func (st *Store) bcKey(id, name string) string { return st.prefix + "{bc:" + id + "}:" + name }

// queueSubs adds the commit's changes of the subscription index to p.
// The index may lag the session (a crash between the two): delivery
// checks the session, and a stale entry is removed when found.
func (st *Store) queueSubs(ctx context.Context, p goredis.Pipeliner, chat bot.ChatID, c bot.Commit) {
	member := strconv.FormatInt(int64(chat), 10)
	for _, s := range c.Follow {
		key := st.subsKey(s.Key, s.Lang)
		p.SAdd(ctx, key, member)
		p.Expire(ctx, key, st.retention)
	}
	for _, s := range c.Unfollow {
		p.SRem(ctx, st.subsKey(s.Key, s.Lang), member)
	}
}

// scanSet returns every member of a set, a page at a time (a set of
// 100,000 chats must not block Redis).
func (st *Store) scanSet(ctx context.Context, key string) ([]string, error) {
	var out []string
	var cursor uint64
	for {
		page, next, err := st.rdb.SScan(ctx, key, cursor, "", 1000).Result()
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if cursor = next; cursor == 0 {
			return out, nil
		}
	}
}

// audience returns the members ("<lang>:<chat>") following any of keys
// in lang: a union made here, because in a cluster the sets live in
// different slots.
func (st *Store) audience(ctx context.Context, keys []string, lang knowledge.Lang) (map[string]struct{}, error) {
	seen := map[string]struct{}{}
	for _, k := range keys {
		chats, err := st.scanSet(ctx, st.subsKey(k, lang))
		if err != nil {
			return nil, fmt.Errorf("read subscribers of %s (%s): %w", k, lang, err)
		}
		for _, c := range chats {
			seen[string(lang)+":"+c] = struct{}{}
		}
	}
	return seen, nil
}

// Audience implements bot.BroadcastStore.
func (st *Store) Audience(ctx context.Context, keys []string, langs []knowledge.Lang) (map[knowledge.Lang]int, error) {
	out := map[knowledge.Lang]int{}
	for _, l := range langs {
		m, err := st.audience(ctx, keys, l)
		if err != nil {
			return nil, err
		}
		out[l] = len(m)
	}
	return out, nil
}

// CreateBroadcast implements bot.BroadcastStore. The recipients are
// added before the broadcast is marked ready, each only if absent: two
// replicas creating the same broadcast, or one repeating a creation a
// crash cut short, add nobody twice (and delivery skips a chat that has
// it already).
func (st *Store) CreateBroadcast(ctx context.Context, b bot.Broadcast, now time.Time) (bool, error) {
	meta, todo := st.bcKey(b.ID, "meta"), st.bcKey(b.ID, "todo")
	state, err := st.rdb.HGet(ctx, meta, "state").Result()
	if err != nil && err != goredis.Nil {
		return false, fmt.Errorf("create broadcast %s: %w", b.ID, err)
	}
	if state != "" {
		return false, nil
	}
	due := max(ms(b.NotBefore), 0)
	fields := map[string]any{
		"keys": strings.Join(b.Keys, ","), "created": ms(now), "not_before": due,
	}
	for _, l := range knowledge.Langs() {
		msgs, ok := b.Messages[l]
		if !ok {
			continue
		}
		enc, err := json.Marshal(msgs)
		if err != nil {
			return false, fmt.Errorf("create broadcast %s: %w", b.ID, err)
		}
		fields["msg:"+string(l)] = string(enc)
		members, err := st.audience(ctx, b.Keys, l)
		if err != nil {
			return false, fmt.Errorf("create broadcast %s: %w", b.ID, err)
		}
		batch := make([]goredis.Z, 0, 1000)
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			err := st.rdb.ZAddNX(ctx, todo, batch...).Err()
			batch = batch[:0]
			return err
		}
		for m := range members {
			batch = append(batch, goredis.Z{Score: float64(due), Member: m})
			if len(batch) == cap(batch) {
				if err := flush(); err != nil {
					return false, fmt.Errorf("create broadcast %s: %w", b.ID, err)
				}
			}
		}
		if err := flush(); err != nil {
			return false, fmt.Errorf("create broadcast %s: %w", b.ID, err)
		}
	}
	total, err := st.rdb.ZCard(ctx, todo).Result()
	if err != nil {
		return false, fmt.Errorf("create broadcast %s: %w", b.ID, err)
	}
	fields["total"], fields["state"] = total, "ready"
	_, err = st.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		p.HSet(ctx, meta, fields)
		p.Expire(ctx, meta, st.retention)
		p.Expire(ctx, todo, st.retention)
		p.SAdd(ctx, st.key("broadcasts"), b.ID)
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("create broadcast %s: %w", b.ID, err)
	}
	return true, nil
}

// ActiveBroadcasts implements bot.BroadcastStore.
func (st *Store) ActiveBroadcasts(ctx context.Context) ([]string, error) {
	ids, err := st.rdb.SMembers(ctx, st.key("broadcasts")).Result()
	if err != nil {
		return nil, fmt.Errorf("list broadcasts: %w", err)
	}
	return ids, nil
}

// ClaimRecipients implements bot.BroadcastStore.
func (st *Store) ClaimRecipients(ctx context.Context, id string, now time.Time, n int, lease time.Duration) ([]bot.Recipient, bool, error) {
	res, err := st.s.bcClaim.Run(ctx, st.rdb, []string{st.bcKey(id, "todo")}, ms(now), lease.Milliseconds(), n).StringSlice()
	if err != nil {
		return nil, false, fmt.Errorf("claim recipients of %s: %w", id, err)
	}
	if len(res) == 0 || res[0] == "done" {
		return nil, true, nil
	}
	var rs []bot.Recipient
	for _, m := range res[1:] {
		if r, ok := parseRecipient(m); ok {
			rs = append(rs, r)
		}
	}
	return rs, false, nil
}

func parseRecipient(m string) (bot.Recipient, bool) {
	lang, chat, ok := strings.Cut(m, ":")
	id, err := strconv.ParseInt(chat, 10, 64)
	if !ok || err != nil {
		return bot.Recipient{}, false
	}
	return bot.Recipient{Chat: bot.ChatID(id), Lang: knowledge.Lang(lang)}, true
}

func recipientMember(r bot.Recipient) string {
	return string(r.Lang) + ":" + strconv.FormatInt(int64(r.Chat), 10)
}

// bcContent is what delivery needs of a broadcast; it never changes once
// created, so each replica reads it once.
type bcContent struct {
	keys string
	args []any // per language: lang, count, messages
}

func (st *Store) content(ctx context.Context, id string) (*bcContent, error) {
	if c, ok := st.contents.Load(id); ok {
		return c.(*bcContent), nil
	}
	meta, err := st.rdb.HGetAll(ctx, st.bcKey(id, "meta")).Result()
	if err != nil {
		return nil, err
	}
	if meta["state"] == "" {
		return nil, fmt.Errorf("broadcast %s does not exist", id)
	}
	c := &bcContent{keys: meta["keys"]}
	for _, l := range knowledge.Langs() {
		raw, ok := meta["msg:"+string(l)]
		if !ok {
			continue
		}
		var msgs []json.RawMessage
		if err := json.Unmarshal([]byte(raw), &msgs); err != nil {
			return nil, fmt.Errorf("broadcast %s: decode %s messages: %w", id, l, err)
		}
		c.args = append(c.args, string(l), len(msgs))
		for _, m := range msgs {
			c.args = append(c.args, string(m))
		}
	}
	st.contents.Store(id, c)
	return c, nil
}

// Deliver implements bot.BroadcastStore: one script per chat, all in
// one round trip, then the chats on the send schedule (after the
// scripts: a chat must never be idled before its message is queued).
func (st *Store) Deliver(ctx context.Context, id string, rs []bot.Recipient, now time.Time) ([]bot.Delivery, error) {
	c, err := st.content(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("deliver %s: %w", id, err)
	}
	if err := st.s.bcDeliver.Load(ctx, st.rdb).Err(); err != nil {
		return nil, fmt.Errorf("deliver %s: %w", id, err)
	}
	args := append([]any{id, c.keys, st.retentionSeconds()}, c.args...)
	cmds := make([]*goredis.Cmd, len(rs))
	_, err = st.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, r := range rs {
			keys := []string{st.chatKey(r.Chat, "session"), st.chatKey(r.Chat, "out"), st.chatKey(r.Chat, "blocked"), st.chatKey(r.Chat, "bc")}
			cmds[i] = st.s.bcDeliver.EvalSha(ctx, p, keys, args...)
		}
		if st.ordered {
			st.queueDue(ctx, p, rs, now)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("deliver %s: %w", id, err)
	}
	out := make([]bot.Delivery, len(rs))
	for i, cmd := range cmds {
		d, err := cmd.Text()
		if err != nil {
			return nil, fmt.Errorf("deliver %s: %w", id, err)
		}
		out[i] = bot.Delivery(d)
	}
	if !st.ordered {
		_, err = st.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
			st.queueDue(ctx, p, rs, now)
			return nil
		})
		if err != nil {
			return out, fmt.Errorf("deliver %s: schedule: %w", id, err)
		}
	}
	return out, nil
}

// queueDue puts the chats on the send schedule at now (where they are
// not already); a chat that got nothing is taken off by the sender.
func (st *Store) queueDue(ctx context.Context, p goredis.Pipeliner, rs []bot.Recipient, now time.Time) {
	zs := make([]goredis.Z, len(rs))
	for i, r := range rs {
		zs[i] = goredis.Z{Score: float64(ms(now)), Member: strconv.FormatInt(int64(r.Chat), 10)}
	}
	p.ZAddNX(ctx, st.key("sendq"), zs...)
}

// SettleRecipients implements bot.BroadcastStore. A chat the index lists wrongly
// (gone, unfollowed) leaves the index too.
func (st *Store) SettleRecipients(ctx context.Context, id string, rs []bot.Recipient, ds []bot.Delivery) error {
	args := make([]any, 0, 2*len(rs))
	for i, r := range rs {
		d := ds[i]
		if d == bot.AlreadyDone {
			d = bot.Queued // queued by a try that crashed before settling
		}
		args = append(args, recipientMember(r), string(d))
	}
	if err := st.s.bcSettle.Run(ctx, st.rdb, []string{st.bcKey(id, "todo"), st.bcKey(id, "meta")}, args...).Err(); err != nil {
		return fmt.Errorf("settle recipients of %s: %w", id, err)
	}
	c, err := st.content(ctx, id)
	if err != nil {
		return err
	}
	_, err = st.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, r := range rs {
			if ds[i] != bot.Gone && ds[i] != bot.Unfollowed {
				continue
			}
			for _, k := range strings.Split(c.keys, ",") {
				p.SRem(ctx, st.subsKey(k, r.Lang), strconv.FormatInt(int64(r.Chat), 10))
			}
		}
		return nil
	})
	return err
}

// End implements bot.BroadcastStore.
func (st *Store) End(ctx context.Context, id string, now time.Time) error {
	_, err := st.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		p.HSet(ctx, st.bcKey(id, "meta"), "state", "done", "finished", ms(now))
		p.Expire(ctx, st.bcKey(id, "meta"), st.retention)
		p.SRem(ctx, st.key("broadcasts"), id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("end broadcast %s: %w", id, err)
	}
	st.contents.Delete(id)
	return nil
}

// Count implements bot.BroadcastStore.
func (st *Store) Count(ctx context.Context, id, counter string) error {
	meta := st.bcKey(id, "meta")
	_, err := st.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		p.HIncrBy(ctx, meta, counter, 1)
		p.Expire(ctx, meta, st.retention)
		return nil
	})
	return err
}

// Status implements bot.BroadcastStore.
func (st *Store) Status(ctx context.Context, id string) (bot.BroadcastStatus, error) {
	var meta *goredis.MapStringStringCmd
	var left *goredis.IntCmd
	_, err := st.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		meta = p.HGetAll(ctx, st.bcKey(id, "meta"))
		left = p.ZCard(ctx, st.bcKey(id, "todo"))
		return nil
	})
	if err != nil {
		return bot.BroadcastStatus{}, fmt.Errorf("broadcast %s: %w", id, err)
	}
	m := meta.Val()
	if m["state"] == "" {
		return bot.BroadcastStatus{}, fmt.Errorf("broadcast %s: %w", id, bot.ErrNoBroadcast)
	}
	st2 := bot.BroadcastStatus{ID: id, Remaining: int(left.Val()), Counts: map[string]int{}}
	for k, v := range m {
		n, _ := strconv.ParseInt(v, 10, 64)
		switch {
		case k == "total":
			st2.Total = int(n)
		case k == "created":
			st2.Created = time.UnixMilli(n)
		case k == "not_before":
			if n > 0 {
				st2.NotBefore = time.UnixMilli(n)
			}
		case k == "finished":
			st2.Finished = time.UnixMilli(n)
		case k == "state" || k == "keys" || strings.HasPrefix(k, "msg:"):
		default:
			st2.Counts[k] = int(n)
		}
	}
	return st2, nil
}

// ReserveBroadcast implements bot.BroadcastStore.
func (st *Store) ReserveBroadcast(ctx context.Context, now time.Time, rate float64, n int) (time.Duration, error) {
	interval := int64(float64(time.Second.Microseconds()) / rate)
	wait, err := st.s.reserve.Run(ctx, st.rdb, []string{st.key("ratebc")}, now.UnixMicro(), max(interval, 1), max(n, 1)).Int64()
	if err != nil {
		return 0, fmt.Errorf("broadcast rate: %w", err)
	}
	return time.Duration(wait) * time.Microsecond, nil
}

// TopicVersions implements bot.BroadcastStore.
func (st *Store) TopicVersions(ctx context.Context) (map[string]string, error) {
	m, err := st.rdb.HGetAll(ctx, st.key("topics")).Result()
	if err != nil {
		return nil, fmt.Errorf("read topic versions: %w", err)
	}
	return m, nil
}

// SetTopicVersions implements bot.BroadcastStore.
func (st *Store) SetTopicVersions(ctx context.Context, vs map[string]string) error {
	if err := st.rdb.HSet(ctx, st.key("topics"), vs).Err(); err != nil {
		return fmt.Errorf("record topic versions: %w", err)
	}
	return nil
}
