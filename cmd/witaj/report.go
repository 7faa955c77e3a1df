package main

import (
	"context"
	"fmt"
	"time"

	"github.com/witaj/witaj/bot"
)

// report prints the coordinators' summary of the last days from the
// service's Redis: the weekly digest's content, in the terminal.
func (env *environment) report(args []string) error {
	fl := env.flagSet("report")
	days := fl.Int("days", 7, "sum the last N days (today included)")
	if err := fl.Parse(args); err != nil {
		return parseError(err)
	}
	if fl.NArg() > 0 || *days < 1 || *days > 90 {
		fmt.Fprintln(env.stderr, "usage: witaj report [--days 7]   (1 to 90; reads WITAJ_REDIS_URL and WITAJ_FAQ_DIR)")
		return errUsage
	}
	store, closeStore, err := env.redisStore(false)
	if err != nil {
		return err
	}
	defer closeStore()
	f, err := env.loadFAQ()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(env.ctx, 30*time.Second)
	defer cancel()
	r, err := bot.BuildReport(ctx, store, store, f.Engine.KB(), time.Now(), *days)
	if err != nil {
		return fmt.Errorf("cannot read the figures from WITAJ_REDIS_URL: %v", shortRedisError(err))
	}
	fmt.Fprint(env.stdout, r.Text())
	return nil
}
