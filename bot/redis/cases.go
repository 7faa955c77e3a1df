package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/flows"
)

// Cases and the Slack outbox. Keys:
//
//	witaj:{chat:<id>}:case     hash   the chat's case: data (JSON at opening) and
//	                                  the fields that change (status, claimed_by, …)   TTL retention
//	witaj:{chat:<id>}:posted   list   "channel ts" of the bot's Slack messages         TTL retention
//	witaj:thread:<ch>:<ts>     string the chat of a case thread                         TTL retention
//	witaj:cases:open           zset   open unclaimed cases by opening time; permanent, a chat leaves when claimed or closed
//	witaj:cases:active         zset   open and claimed cases; permanent, a chat leaves when its case closes or is forgotten
//	witaj:{slack:<ch>}:out     list   queued Slack requests of a channel                TTL retention
//	witaj:{slack:<ch>}:next    string earliest next post to the channel                 TTL ≤ the wait + 1 s
//	witaj:{slack:<ch>}:ids     set    ids of the requests queued, so none is queued twice  TTL 25 h
//	witaj:slackq               zset   channels with queued requests; permanent, a channel leaves when its queue empties
//	witaj:slack:down           string posting to Slack fails                            TTL 10 min

var _ bot.CaseStore = (*Store)(nil)

// openCaseSrc: KEYS case; ARGV data JSON, status, retention s. Keeps an
// open case, otherwise stores the new one.
var openCaseSrc = goredis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'status')
if st and st ~= 'resolved' then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'data', ARGV[1], 'status', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
`)

// claimSrc: KEYS case; ARGV user, now ms. Claims an open case.
// setThreadSrc: KEYS case; ARGV channel, ts, retention s. Records the
// parent message only on a case that still exists: it never recreates a
// forgotten case.
var setThreadSrc = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'channel', ARGV[1], 'thread_ts', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
`)

// cancelSrc: KEYS queue; ARGV chat. Removes the chat's queued requests
// (not deletions): /forget must stop a parent or relay still waiting for
// Slack from being posted. The head may be in flight: it becomes a
// tombstone (see commitScript), whose settle lets the channel go at once
// for the deletions queued behind it instead of after the lease.
var cancelSrc = goredis.NewScript(tombstoneLua + `
local n = 0
for i, raw in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local ok, m = pcall(cjson.decode, raw)
  if ok and type(m) == 'table' and tostring(m.chat) == ARGV[1] and m.kind ~= 'delete' then
    if i == 1 and type(m.id) == 'string' then
      redis.call('LSET', KEYS[1], 0, tombstoneOf(m.id))
      n = n + 1
    else
      n = n + redis.call('LREM', KEYS[1], 0, raw)
    end
  end
end
return n
`)

var claimSrc = goredis.NewScript(`
if redis.call('HGET', KEYS[1], 'status') ~= 'open' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'claimed', 'claimed_by', ARGV[1])
return 1
`)

// resolveSrc: KEYS case; ARGV now ms.
var resolveSrc = goredis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'status')
if not st or st == 'resolved' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'resolved', 'closed', ARGV[1])
return 1
`)

func chatMember(chat bot.ChatID) string { return strconv.FormatInt(int64(chat), 10) }

// OpenCase implements bot.CaseStore.
func (st *Store) OpenCase(ctx context.Context, c bot.Case) (bot.Case, bool, error) {
	data, _ := json.Marshal(c)
	created, err := openCaseSrc.Run(ctx, st.rdb, []string{st.chatKey(c.Chat, "case")}, string(data), string(c.Status), st.retentionSeconds()).Int()
	if err != nil {
		return bot.Case{}, false, fmt.Errorf("open case chat %d: %w", c.Chat, err)
	}
	if created == 1 && c.Status == flows.StatusOpen {
		z := goredis.Z{Score: float64(ms(c.Opened)), Member: chatMember(c.Chat)}
		if err := st.rdb.ZAdd(ctx, st.key("cases:open"), z).Err(); err != nil {
			return bot.Case{}, false, fmt.Errorf("queue case chat %d: %w", c.Chat, err)
		}
		if err := st.rdb.ZAdd(ctx, st.key("cases:active"), z).Err(); err != nil {
			return bot.Case{}, false, fmt.Errorf("list case chat %d: %w", c.Chat, err)
		}
	}
	cur, err := st.CaseOf(ctx, c.Chat)
	return cur, created == 1, err
}

// CaseOf implements bot.CaseStore.
func (st *Store) CaseOf(ctx context.Context, chat bot.ChatID) (bot.Case, error) {
	h, err := st.rdb.HGetAll(ctx, st.chatKey(chat, "case")).Result()
	if err != nil {
		return bot.Case{}, fmt.Errorf("read case chat %d: %w", chat, err)
	}
	if h["data"] == "" {
		return bot.Case{}, bot.ErrNoCase
	}
	var c bot.Case
	if err := json.Unmarshal([]byte(h["data"]), &c); err != nil {
		return bot.Case{}, fmt.Errorf("read case chat %d: %w", chat, err)
	}
	c.Status = flows.CaseStatus(h["status"])
	c.ClaimedBy = h["claimed_by"]
	if v := h["channel"]; v != "" {
		c.Channel = v
	}
	c.ThreadTS = h["thread_ts"]
	c.Rating, _ = strconv.Atoi(h["rating"])
	c.Reminded = h["reminded"] == "1"
	if v, err := strconv.ParseInt(h["closed"], 10, 64); err == nil {
		c.Closed = time.UnixMilli(v)
	}
	return c, nil
}

// ChatOfThread implements bot.CaseStore.
func (st *Store) ChatOfThread(ctx context.Context, channel, ts string) (bot.ChatID, error) {
	v, err := st.rdb.Get(ctx, st.key("thread:"+channel+":"+ts)).Result()
	if errors.Is(err, goredis.Nil) {
		return 0, bot.ErrNoCase
	}
	if err != nil {
		return 0, fmt.Errorf("find thread %s/%s: %w", channel, ts, err)
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, bot.ErrNoCase
	}
	return bot.ChatID(id), nil
}

// SetThread implements bot.CaseStore.
func (st *Store) SetThread(ctx context.Context, chat bot.ChatID, channel, ts string) error {
	n, err := setThreadSrc.Run(ctx, st.rdb, []string{st.chatKey(chat, "case")}, channel, ts, st.retentionSeconds()).Int()
	if err != nil {
		return fmt.Errorf("set thread chat %d: %w", chat, err)
	}
	if n == 0 {
		return bot.ErrNoCase // forgotten while its parent was being posted
	}
	if err := st.rdb.Set(ctx, st.key("thread:"+channel+":"+ts), chatMember(chat), st.retention).Err(); err != nil {
		return fmt.Errorf("index thread chat %d: %w", chat, err)
	}
	return nil
}

// Claim implements bot.CaseStore.
func (st *Store) Claim(ctx context.Context, chat bot.ChatID, user string, now time.Time) (bot.Case, bool, error) {
	won, err := claimSrc.Run(ctx, st.rdb, []string{st.chatKey(chat, "case")}, user, ms(now)).Int()
	if err != nil {
		return bot.Case{}, false, fmt.Errorf("claim case chat %d: %w", chat, err)
	}
	if won == 1 {
		st.rdb.ZRem(ctx, st.key("cases:open"), chatMember(chat))
	}
	c, err := st.CaseOf(ctx, chat)
	return c, won == 1, err
}

// Resolve implements bot.CaseStore.
func (st *Store) Resolve(ctx context.Context, chat bot.ChatID, now time.Time) (bot.Case, bool, error) {
	done, err := resolveSrc.Run(ctx, st.rdb, []string{st.chatKey(chat, "case")}, ms(now)).Int()
	if err != nil {
		return bot.Case{}, false, fmt.Errorf("resolve case chat %d: %w", chat, err)
	}
	st.rdb.ZRem(ctx, st.key("cases:open"), chatMember(chat))
	st.rdb.ZRem(ctx, st.key("cases:active"), chatMember(chat))
	c, err := st.CaseOf(ctx, chat)
	return c, done == 1, err
}

// RateCase implements bot.CaseStore.
func (st *Store) RateCase(ctx context.Context, chat bot.ChatID, score int) (bot.Case, error) {
	if err := st.rdb.HSet(ctx, st.chatKey(chat, "case"), "rating", score).Err(); err != nil {
		return bot.Case{}, fmt.Errorf("rate case chat %d: %w", chat, err)
	}
	return st.CaseOf(ctx, chat)
}

// Ahead implements bot.CaseStore.
func (st *Store) Ahead(ctx context.Context, chat bot.ChatID) (int, error) {
	n, err := st.rdb.ZRank(ctx, st.key("cases:open"), chatMember(chat)).Result()
	if errors.Is(err, goredis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("queue position chat %d: %w", chat, err)
	}
	return int(n), nil
}

// ActiveCases implements bot.CaseStore.
func (st *Store) ActiveCases(ctx context.Context) ([]bot.ChatID, error) {
	ids, err := st.rdb.ZRange(ctx, st.key("cases:active"), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("active cases: %w", err)
	}
	out := make([]bot.ChatID, 0, len(ids))
	for _, id := range ids {
		if n, err := strconv.ParseInt(id, 10, 64); err == nil {
			out = append(out, bot.ChatID(n))
		}
	}
	return out, nil
}

// Unclaimed implements bot.CaseStore.
func (st *Store) Unclaimed(ctx context.Context, before time.Time) ([]bot.ChatID, error) {
	ids, err := st.rdb.ZRangeByScore(ctx, st.key("cases:open"), &goredis.ZRangeBy{Min: "-inf", Max: strconv.FormatInt(ms(before), 10)}).Result()
	if err != nil {
		return nil, fmt.Errorf("unclaimed cases: %w", err)
	}
	var out []bot.ChatID
	for _, id := range ids {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			continue
		}
		if reminded, _ := st.rdb.HGet(ctx, st.chatKey(bot.ChatID(n), "case"), "reminded").Result(); reminded == "1" {
			continue
		}
		out = append(out, bot.ChatID(n))
	}
	return out, nil
}

// MarkReminded implements bot.CaseStore.
func (st *Store) MarkReminded(ctx context.Context, chat bot.ChatID) error {
	return st.rdb.HSet(ctx, st.chatKey(chat, "case"), "reminded", "1").Err()
}

// Posted implements bot.CaseStore.
func (st *Store) Posted(ctx context.Context, chat bot.ChatID, channel, ts string) error {
	key := st.chatKey(chat, "posted")
	_, err := st.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.RPush(ctx, key, channel+" "+ts)
		p.Expire(ctx, key, st.retention)
		return nil
	})
	return err
}

// CancelQueued implements bot.CaseStore.
func (st *Store) CancelQueued(ctx context.Context, channel string, chat bot.ChatID) (int, error) {
	n, err := cancelSrc.Run(ctx, st.rdb, []string{st.slackKey(channel, "out")}, strconv.FormatInt(int64(chat), 10)).Int()
	if err != nil {
		return 0, fmt.Errorf("cancel queued slack requests chat %d: %w", chat, err)
	}
	return n, nil
}

// ForgetCase implements bot.CaseStore.
func (st *Store) ForgetCase(ctx context.Context, chat bot.ChatID) (bot.Case, []bot.SlackPost, error) {
	c, err := st.CaseOf(ctx, chat)
	if err != nil && !errors.Is(err, bot.ErrNoCase) {
		return bot.Case{}, nil, err
	}
	raw, err := st.rdb.LRange(ctx, st.chatKey(chat, "posted"), 0, -1).Result()
	if err != nil {
		return bot.Case{}, nil, fmt.Errorf("forget case chat %d: %w", chat, err)
	}
	var posts []bot.SlackPost
	for _, r := range raw {
		if ch, ts, ok := strings.Cut(r, " "); ok {
			posts = append(posts, bot.SlackPost{Channel: ch, TS: ts})
		}
	}
	keys := []string{st.chatKey(chat, "case"), st.chatKey(chat, "posted")}
	if c.ThreadTS != "" {
		keys = append(keys, st.key("thread:"+c.Channel+":"+c.ThreadTS))
	}
	// One command a key: the thread index and the case lists live in
	// other slots. Every error counts: /forget must not report success
	// while a key remains.
	var errs []error
	for _, k := range keys {
		errs = append(errs, st.rdb.Del(ctx, k).Err())
	}
	errs = append(errs,
		st.rdb.ZRem(ctx, st.key("cases:open"), chatMember(chat)).Err(),
		st.rdb.ZRem(ctx, st.key("cases:active"), chatMember(chat)).Err())
	if err := errors.Join(errs...); err != nil {
		return bot.Case{}, nil, fmt.Errorf("forget case chat %d: %w", chat, err)
	}
	return c, posts, nil
}

func (st *Store) slackKey(channel, name string) string {
	return st.prefix + "{slack:" + channel + "}:" + name
}

// SlackPush implements bot.CaseStore.
func (st *Store) SlackPush(ctx context.Context, channel string, items ...bot.SlackItem) error {
	if len(items) == 0 {
		return nil
	}
	args := []any{st.retentionSeconds(), int64(SeenTTL / time.Second)}
	for _, it := range items {
		b, _ := json.Marshal(it)
		args = append(args, it.ID, string(b))
	}
	keys := []string{st.slackKey(channel, "out"), st.slackKey(channel, "ids")}
	if err := st.s.push.Run(ctx, st.rdb, keys, args...).Err(); err != nil {
		return fmt.Errorf("queue for slack %s: %w", channel, err)
	}
	// Scheduled even when nothing was new: the first try may have queued
	// the items and lost this step.
	if err := st.rdb.ZAddNX(ctx, st.key("slackq"), goredis.Z{Score: float64(ms(time.Now())), Member: channel}).Err(); err != nil {
		return fmt.Errorf("queue for slack %s: %w", channel, err)
	}
	return nil
}

// SlackBacklog implements bot.CaseStore.
func (st *Store) SlackBacklog(ctx context.Context, channel string) (int, error) {
	n, err := st.rdb.LLen(ctx, st.slackKey(channel, "out")).Result()
	return int(n), err
}

// SetSlackDown implements bot.CaseStore.
func (st *Store) SetSlackDown(ctx context.Context, down bool) error {
	if down {
		return st.rdb.Set(ctx, st.key("slack:down"), "1", 10*time.Minute).Err()
	}
	return st.rdb.Del(ctx, st.key("slack:down")).Err()
}

// SlackDown implements bot.CaseStore.
func (st *Store) SlackDown(ctx context.Context) bool {
	n, _ := st.rdb.Exists(ctx, st.key("slack:down")).Result()
	return n > 0
}

// WaitingCases returns how many cases wait unclaimed, and how long the
// oldest and the oldest urgent one have waited (zero when none): for the
// coordinators' gauges. Open cases are few; each is read.
func (st *Store) WaitingCases(ctx context.Context, now time.Time) (n int, oldest, oldestUrgent time.Duration, err error) {
	zs, err := st.rdb.ZRangeWithScores(ctx, st.key("cases:open"), 0, -1).Result()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("waiting cases: %w", err)
	}
	for _, z := range zs {
		wait := now.Sub(time.UnixMilli(int64(z.Score)))
		oldest = max(oldest, wait)
		chat, perr := strconv.ParseInt(z.Member.(string), 10, 64)
		if perr != nil {
			continue
		}
		if c, cerr := st.CaseOf(ctx, bot.ChatID(chat)); cerr == nil && c.Urgent {
			oldestUrgent = max(oldestUrgent, wait)
		}
	}
	return len(zs), oldest, oldestUrgent, nil
}
