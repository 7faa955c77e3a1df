package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/witaj/witaj/bot"
)

// lanes is a bot.Queue on Redis, the same for the Telegram outbox (a lane
// per chat) and the Slack queue (a lane per channel): each lane's items
// in a list (out), the time before which it must not be sent to (next),
// optionally a blocked mark, and one schedule (a sorted set of lanes by
// when they are due; a claimed lane's score is the end of its lease).
type lanes[L comparable, T any] struct {
	st    *Store
	sched string
	// name and parse turn a lane into its schedule member and back.
	name  func(L) string
	parse func(string) (L, error)
	// key returns one of the lane's keys (out, next, blocked), keys
	// several at once.
	key       func(L, string) string
	keys      func(L, ...string) []string
	blockable bool
}

// newChatLanes returns the Telegram outbox, a lane per chat.
func (st *Store) newChatLanes() lanes[bot.ChatID, bot.OutMessage] {
	return lanes[bot.ChatID, bot.OutMessage]{st: st, sched: st.key("sendq"), blockable: true,
		name: func(c bot.ChatID) string { return strconv.FormatInt(int64(c), 10) },
		parse: func(s string) (bot.ChatID, error) {
			id, err := strconv.ParseInt(s, 10, 64)
			return bot.ChatID(id), err
		},
		key: st.chatKey, keys: st.chatKeys}
}

// newSlackLanes returns the Slack requests, a lane per channel.
func (st *Store) newSlackLanes() lanes[string, bot.SlackItem] {
	return lanes[string, bot.SlackItem]{st: st, sched: st.key("slackq"),
		name:  func(ch string) string { return ch },
		parse: func(s string) (string, error) { return s, nil },
		key:   st.slackKey,
		keys: func(ch string, names ...string) []string {
			keys := make([]string, len(names), len(names)+1)
			for i, n := range names {
				keys[i] = st.slackKey(ch, n)
			}
			return keys
		}}
}

// SlackQueue implements bot.CaseStore.
func (st *Store) SlackQueue() bot.Queue[string, bot.SlackItem] { return st.slackq }

func (q lanes[L, T]) Due(ctx context.Context, now time.Time, max int, lease time.Duration) ([]L, time.Time, error) {
	res, err := q.st.s.due.Run(ctx, q.st.rdb, []string{q.sched}, ms(now), lease.Milliseconds(), max).StringSlice()
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("claim due lanes: %w", err)
	}
	// The script answers the earliest due time first, then the lanes.
	var next time.Time
	if len(res) > 0 && res[0] != "" {
		if f, err := strconv.ParseFloat(res[0], 64); err == nil {
			next = time.UnixMilli(int64(f))
		}
	}
	out := make([]L, 0, len(res))
	for _, r := range res[min(1, len(res)):] {
		lane, err := q.parse(r)
		if err != nil {
			continue
		}
		out = append(out, lane)
	}
	return out, next, nil
}

func (q lanes[L, T]) Next(ctx context.Context, lane L, now time.Time) (T, int, time.Duration, error) {
	var item T
	var keys []string
	if q.blockable {
		keys = q.keys(lane, "out", "next", "blocked")
	} else {
		keys = q.keys(lane, "out", "next")
	}
	res, err := q.st.s.next.Run(ctx, q.st.rdb, keys, ms(now)).StringSlice()
	if err != nil {
		return item, 0, 0, fmt.Errorf("next item %s: %w", q.name(lane), err)
	}
	switch res[0] {
	case "empty":
		return item, 0, 0, bot.ErrEmpty
	case "blocked":
		return item, 0, 0, bot.ErrBlocked
	case "wait":
		until, _ := strconv.ParseInt(res[1], 10, 64)
		return item, 0, time.UnixMilli(until).Sub(now), nil
	}
	if err := json.Unmarshal([]byte(res[1]), &item); err != nil {
		return item, 0, 0, fmt.Errorf("next item %s: decode: %w", q.name(lane), err)
	}
	n := 1
	if len(res) > 2 {
		n, _ = strconv.Atoi(res[2])
	}
	return item, n, 0, nil
}

// Settle pops an item sent and updates the lane's schedule: in one
// script on one server; one step after the other in a cluster, where
// the schedule lives in another slot. Either way the pop comes first:
// the lane must never be claimable while the item is still queued.
func (q lanes[L, T]) Settle(ctx context.Context, lane L, id string, now time.Time, interval time.Duration, last bool) (int, error) {
	n, err := q.settle(ctx, lane, id, now, interval, last)
	if err != nil {
		return 0, fmt.Errorf("settle %s: %w", q.name(lane), err)
	}
	return n, nil
}

func (q lanes[L, T]) settle(ctx context.Context, lane L, id string, now time.Time, interval time.Duration, last bool) (int, error) {
	member := q.name(lane)
	iv := interval.Milliseconds()
	if interval > 0 && iv == 0 {
		// Under a millisecond (rates raised for load tests) is still an
		// interval: the drainer lets the lane go and counts on the
		// schedule to bring it back.
		iv = 1
	}
	args := []any{id, ms(now), iv, q.st.retentionSeconds()}
	if q.st.ordered {
		flag := "0"
		if last {
			flag = "1"
		}
		keys := append(q.keys(lane, "out", "next"), q.sched)
		return q.st.s.settle.Run(ctx, q.st.rdb, keys, append(args, member, flag)...).Int()
	}
	res, err := q.st.s.pop.Run(ctx, q.st.rdb, q.keys(lane, "out", "next"), args...).Int64Slice()
	if err != nil {
		return 0, err
	}
	if len(res) != 2 {
		return 0, fmt.Errorf("pop: unexpected reply %v", res)
	}
	n := int(res[0])
	switch {
	case res[1] == 0:
		return n, nil // a repeat: the first call changed the schedule
	case last && n == 0:
		return 0, q.Idle(ctx, lane)
	case last:
		// Due when the interval ends, as settleScript does.
		return n, q.st.rdb.ZAdd(ctx, q.sched, goredis.Z{Score: float64(ms(now.Add(interval))), Member: member}).Err()
	case interval > 0:
		return n, q.st.rdb.ZAddXX(ctx, q.sched, goredis.Z{Score: float64(ms(now.Add(interval))), Member: member}).Err()
	}
	return n, nil
}

func (q lanes[L, T]) Defer(ctx context.Context, lane L, t time.Time) error {
	if err := q.st.s.quiet.Run(ctx, q.st.rdb, []string{q.key(lane, "next")}, ms(t), ms(time.Now())).Err(); err != nil {
		return fmt.Errorf("defer %s: %w", q.name(lane), err)
	}
	if err := q.st.rdb.ZAddXX(ctx, q.sched, goredis.Z{Score: float64(ms(t)), Member: q.name(lane)}).Err(); err != nil {
		return fmt.Errorf("defer %s: %w", q.name(lane), err)
	}
	return nil
}

func (q lanes[L, T]) Hold(ctx context.Context, lane L, t time.Time) error {
	if err := q.st.rdb.ZAddXX(ctx, q.sched, goredis.Z{Score: float64(ms(t)), Member: q.name(lane)}).Err(); err != nil {
		return fmt.Errorf("hold %s: %w", q.name(lane), err)
	}
	return nil
}

// Idle removes the lane from the schedule, then looks at its items again;
// an item queued in between (whose own scheduling may have found the
// lane still scheduled) puts it back.
func (q lanes[L, T]) Idle(ctx context.Context, lane L) error {
	member := q.name(lane)
	if err := q.st.rdb.ZRem(ctx, q.sched, member).Err(); err != nil {
		return fmt.Errorf("idle %s: %w", member, err)
	}
	n, err := q.st.rdb.LLen(ctx, q.key(lane, "out")).Result()
	if err != nil {
		return fmt.Errorf("idle %s: %w", member, err)
	}
	if n > 0 {
		if err := q.st.rdb.ZAddNX(ctx, q.sched, goredis.Z{Score: float64(ms(time.Now())), Member: member}).Err(); err != nil {
			return fmt.Errorf("idle %s: %w", member, err)
		}
	}
	return nil
}
