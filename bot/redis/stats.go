package redis

import (
	"context"
	"fmt"
	"slices"
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
	for _, f := range joinCounts(counts) {
		p.HIncrBy(ctx, key, f.name, f.n)
	}
	p.Expire(ctx, key, statsTTL)
}

// joinedCount is one field of the day's hash and its increment.
type joinedCount struct {
	name string
	n    int64
}

// joinCounts joins the counts that share an increment into one field,
// their names sorted and separated by fieldSep: an update's counts (its
// language, decision and topic, each 1) then cost one HINCRBY, not
// three. Days splits them again. The joined names number no more than
// languages × decisions × topics a day.
func joinCounts(counts map[string]int64) []joinedCount {
	byN := map[int64][]string{}
	for f, n := range counts {
		if n != 0 {
			byN[n] = append(byN[n], f)
		}
	}
	out := make([]joinedCount, 0, len(byN))
	for n, fs := range byN {
		slices.Sort(fs)
		out = append(out, joinedCount{strings.Join(fs, fieldSep), n})
	}
	return out
}

// fieldSep separates the counts joined in one field; no count's name
// (a language, a decision, a topic id) has it.
const fieldSep = "|"

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
	for _, f := range joinCounts(counts) {
		args = append(args, f.name, f.n)
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
			for _, name := range strings.Split(k, fieldSep) {
				counts[name] += n
			}
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
