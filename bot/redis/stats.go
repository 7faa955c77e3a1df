package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/witaj/witaj/bot"
)

var _ bot.Stats = (*Store)(nil)

// statsTTL keeps day counts long enough for a quarter's reports; they
// identify no one.
const statsTTL = 90 * 24 * time.Hour

// statsExpiry returns the expiry (s) a commit gives the day's counts, or
// 0 when this store gave it within the last hour: every commit counts,
// and one EXPIRE an hour keeps the key expiring even if Redis lost it
// and a count made it again.
func (st *Store) statsExpiry(key string, now time.Time) int64 {
	st.expiryMu.Lock()
	defer st.expiryMu.Unlock()
	if st.expiryKey == key && now.Sub(st.expirySet) < time.Hour {
		return 0
	}
	st.expiryKey, st.expirySet = key, now
	return int64(statsTTL / time.Second)
}

func (st *Store) statsKey(day time.Time) string {
	return st.key("stats:" + day.UTC().Format(time.DateOnly))
}

// queueStats adds the day's counts to p. A commit retried after a lost
// reply adds them again: counts for reports, not for guarantees.
func (st *Store) queueStats(ctx context.Context, p goredis.Pipeliner, now time.Time, counts map[string]int64) {
	if len(counts) == 0 {
		return
	}
	key := st.statsKey(now)
	for f, n := range counts {
		p.HIncrBy(ctx, key, f, n)
	}
	p.Expire(ctx, key, statsTTL)
}

// CountDay implements bot.Stats.
func (st *Store) CountDay(ctx context.Context, day time.Time, counts map[string]int64) error {
	_, err := st.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		st.queueStats(ctx, p, day, counts)
		return nil
	})
	if err != nil {
		return fmt.Errorf("count day: %w", err)
	}
	return nil
}

// CountOnce implements bot.Stats: the mark is a field of the day's hash
// ("once:<id>"), so that one script on one key checks and counts.
func (st *Store) CountOnce(ctx context.Context, day time.Time, once string, counts map[string]int64) (bool, error) {
	args := []any{onceField + once, int64(statsTTL / time.Second)}
	for f, n := range counts {
		args = append(args, f, n)
	}
	n, err := st.s.countOnce.Run(ctx, st.rdb, []string{st.statsKey(day)}, args...).Int()
	if err != nil {
		return false, fmt.Errorf("count once %s: %w", once, err)
	}
	return n == 1, nil
}

// onceField starts the fields that mark what CountOnce counted.
const onceField = "once:"

// RecordClaim implements bot.Stats.
func (st *Store) RecordClaim(ctx context.Context, day time.Time, wait time.Duration) error {
	key := st.statsKey(day) + ":claims"
	_, err := st.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		p.RPush(ctx, key, int64(wait/time.Second))
		p.Expire(ctx, key, statsTTL)
		return nil
	})
	if err != nil {
		return fmt.Errorf("record claim: %w", err)
	}
	return nil
}

// Days implements bot.Stats.
func (st *Store) Days(ctx context.Context, from, to time.Time) (map[string]int64, []time.Duration, error) {
	counts := map[string]int64{}
	var claims []time.Duration
	for d := from.UTC().Truncate(24 * time.Hour); !d.After(to.UTC()); d = d.AddDate(0, 0, 1) {
		h, err := st.rdb.HGetAll(ctx, st.statsKey(d)).Result()
		if err != nil {
			return nil, nil, fmt.Errorf("read stats: %w", err)
		}
		for k, v := range h {
			if strings.HasPrefix(k, onceField) {
				continue
			}
			n, _ := strconv.ParseInt(v, 10, 64)
			counts[k] += n
		}
		waits, err := st.rdb.LRange(ctx, st.statsKey(d)+":claims", 0, -1).Result()
		if err != nil {
			return nil, nil, fmt.Errorf("read stats: %w", err)
		}
		for _, w := range waits {
			if s, err := strconv.ParseInt(w, 10, 64); err == nil {
				claims = append(claims, time.Duration(s)*time.Second)
			}
		}
	}
	return counts, claims, nil
}
