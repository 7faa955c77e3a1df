package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/witaj/witaj/bot/redis"
)

// faqGaps lists the questions the bot could not answer directly, most
// frequent first, from the service's Redis.
func (env *environment) faqGaps(args []string) error {
	fl := env.flagSet("faq gaps")
	days := fl.Int("days", 30, "look at the last N days")
	limit := fl.Int("limit", 50, "list at most N questions")
	if err := fl.Parse(args); err != nil {
		return parseError(err)
	}
	if fl.NArg() > 0 || *days < 1 || *limit < 1 {
		fmt.Fprintln(env.stderr, "usage: witaj faq gaps [--days 30] [--limit 50]   (reads WITAJ_REDIS_URL; both at least 1)")
		return errUsage
	}
	url := env.getenv("WITAJ_REDIS_URL")
	if url == "" {
		return fmt.Errorf("WITAJ_REDIS_URL is not set: faq gaps reads the running service's Redis")
	}
	rdb, err := redis.Connect(url)
	if err != nil {
		return err
	}
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(env.ctx, 30*time.Second)
	defer cancel()
	gaps, err := redis.New(rdb, redis.Options{}).Gaps(ctx, time.Now(), *days, *limit)
	if err != nil {
		return fmt.Errorf("cannot read the unanswered questions from WITAJ_REDIS_URL: %v", shortRedisError(err))
	}
	if len(gaps) == 0 {
		fmt.Fprintf(env.stdout, "no unanswered questions in the last %d days\n", *days)
		return nil
	}
	fmt.Fprintf(env.stdout, "%5s  %-4s %s\n", "count", "lang", "question (asked without a direct answer)")
	for _, g := range gaps {
		fmt.Fprintf(env.stdout, "%5d  %-4s %s\n", g.Count, g.Lang, g.Question)
	}
	return nil
}

// shortRedisError is the last part of a Redis error: "dial tcp …:
// connection refused" says enough on one line.
func shortRedisError(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && i+2 < len(msg) {
		return msg[i+2:]
	}
	return msg
}
