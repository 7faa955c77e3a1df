package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/bot/redis"
	"github.com/witaj/witaj/bot/telegram"
	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
	"github.com/witaj/witaj/locales"
)

// announce queues an announcement file for the chats that opted in, or
// shows what it would do (--dry-run), or how far one has got (status).
func (env *environment) announce(args []string) error {
	if len(args) > 0 && args[0] == "status" {
		return env.announceStatus(args[1:])
	}
	fl := env.flagSet("announce")
	dry := fl.Bool("dry-run", false, "show the audience per language and the messages; queue nothing")
	if err := fl.Parse(args); err != nil {
		return parseError(err)
	}
	if fl.NArg() != 1 {
		fmt.Fprintln(env.stderr, "usage: witaj announce [--dry-run] FILE   |   witaj announce status ID   (reads WITAJ_REDIS_URL and WITAJ_FAQ_DIR)")
		return errUsage
	}
	path := fl.Arg(0)
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	f, err := env.loadFAQ()
	if err != nil {
		return err
	}
	a, probs := knowledge.ParseAnnouncement(path, src, f.Engine.KB())
	for _, p := range probs {
		fmt.Fprintln(env.stderr, p.String())
	}
	if a == nil {
		return exitError(1)
	}
	b := bot.AnnouncementBroadcast(f, telegram.Formatter{}, a)
	store, closeStore, err := env.redisStore(*dry)
	if err != nil {
		return err
	}
	defer closeStore()
	ctx, cancel := context.WithTimeout(env.ctx, 5*time.Minute)
	defer cancel()
	if *dry {
		for _, l := range a.Langs {
			fmt.Fprintf(env.stdout, "--- %s ---\n", l)
			for _, m := range b.Messages[l] {
				fmt.Fprintln(env.stdout, m.Text)
				for _, row := range m.Buttons {
					var labels []string
					for _, btn := range row {
						labels = append(labels, "["+btn.Label+"]")
					}
					fmt.Fprintln(env.stdout, strings.Join(labels, " "))
				}
			}
		}
		if store == nil {
			fmt.Fprintln(env.stdout, "audience: unknown (set WITAJ_REDIS_URL to count the chats that would receive it)")
			return nil
		}
		aud, err := store.Audience(ctx, b.Keys, a.Langs)
		if err != nil {
			return fmt.Errorf("count the audience: %v", shortRedisError(err))
		}
		total := 0
		for _, l := range a.Langs {
			fmt.Fprintf(env.stdout, "%s: %d chats\n", l, aud[l])
			total += aud[l]
		}
		fmt.Fprintf(env.stdout, "would send %s to %d chats (dry run: nothing queued)\n", b.ID, total)
		return nil
	}
	created, err := store.CreateBroadcast(ctx, b, time.Now())
	if err != nil {
		return fmt.Errorf("queue %s: %v", b.ID, shortRedisError(err))
	}
	if !created {
		fmt.Fprintf(env.stdout, "%s was queued before; nothing more is sent (see: witaj announce status %s)\n", b.ID, a.ID)
		return nil
	}
	st, err := store.Status(ctx, b.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "queued %s for %d chats; serve sends it (see: witaj announce status %s)\n", b.ID, st.Total, a.ID)
	return nil
}

// loadFAQ loads the FAQ serve answers from (WITAJ_FAQ_DIR or the
// built-in one), for commands that render what serve would send.
func (env *environment) loadFAQ() (*bot.FAQ, error) {
	cat, err := locales.New()
	if err != nil {
		return nil, err
	}
	faqs := &faqSource{dir: env.getenv("WITAJ_FAQ_DIR"), cat: cat, flows: flows.DefaultConfig(), log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	f, _, err := faqs.load()
	return f, err
}

// redisStore opens the service's Redis; optional lets a dry run go on
// without it.
func (env *environment) redisStore(optional bool) (*redis.Store, func(), error) {
	url := env.getenv("WITAJ_REDIS_URL")
	if url == "" {
		if optional {
			return nil, func() {}, nil
		}
		return nil, nil, errors.New("WITAJ_REDIS_URL is not set: announcements are queued in the running service's Redis")
	}
	rdb, err := redis.Connect(url)
	if err != nil {
		return nil, nil, err
	}
	return redis.New(rdb, redis.Options{}), func() { rdb.Close() }, nil
}

// announceStatus shows a broadcast's progress: announcements by their
// file's id, alerts by their full id ("alert:work.wage@5:…").
func (env *environment) announceStatus(args []string) error {
	fl := env.flagSet("announce status")
	if err := fl.Parse(args); err != nil {
		return parseError(err)
	}
	if fl.NArg() != 1 {
		fmt.Fprintln(env.stderr, "usage: witaj announce status ID   (an announcement's id, or an alert's full id)")
		return errUsage
	}
	id := fl.Arg(0)
	if !strings.Contains(id, ":") {
		id = "news:" + id
	}
	store, closeStore, err := env.redisStore(false)
	if err != nil {
		return err
	}
	defer closeStore()
	ctx, cancel := context.WithTimeout(env.ctx, 30*time.Second)
	defer cancel()
	st, err := store.Status(ctx, id)
	if errors.Is(err, bot.ErrNoBroadcast) {
		return fmt.Errorf("no broadcast %s", id)
	}
	if err != nil {
		return fmt.Errorf("read %s: %v", id, shortRedisError(err))
	}
	fmt.Fprint(env.stdout, formatStatus(st))
	return nil
}

// formatStatus shows a broadcast's counts and a progress bar.
func formatStatus(st bot.BroadcastStatus) string {
	var b strings.Builder
	done := st.Total - st.Remaining
	fmt.Fprintf(&b, "%s  %s %d/%d chats handled\n", st.ID, bar(done, st.Total, 30), done, st.Total)
	names := make([]string, 0, len(st.Counts))
	for k := range st.Counts {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(&b, "  %-12s %d\n", k, st.Counts[k])
	}
	fmt.Fprintf(&b, "  %-12s %d\n", "remaining", st.Remaining)
	switch {
	case !st.Finished.IsZero():
		fmt.Fprintf(&b, "finished %s\n", st.Finished.UTC().Format(time.RFC3339))
	case !st.NotBefore.IsZero() && time.Now().Before(st.NotBefore):
		fmt.Fprintf(&b, "starts %s\n", st.NotBefore.UTC().Format(time.RFC3339))
	}
	return b.String()
}

func bar(done, total, width int) string {
	filled := width
	if total > 0 {
		filled = done * width / total
	}
	return "[" + strings.Repeat("#", filled) + strings.Repeat(".", width-filled) + "]"
}
