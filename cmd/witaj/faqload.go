package main

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
	"github.com/witaj/witaj/locales"
)

// faqSource loads the FAQ the service answers from — a folder or the
// built-in copy — and reloads a folder when it changes. A broken FAQ is
// refused with its lint problems in the log; the last good one keeps
// serving.
type faqSource struct {
	dir     string
	cat     *locales.Catalog
	flows   flows.Config
	log     *slog.Logger
	metrics *bot.Metrics
	// loaded is the folder's fingerprint when it was last loaded: the
	// watcher reloads when the folder differs from it.
	loaded string
}

// load builds the engine and renderer for the FAQ as it is now.
func (f *faqSource) load() (*bot.FAQ, knowledge.Version, error) {
	var fsys fs.FS = knowledge.DefaultFS()
	if f.dir != "" {
		fsys = os.DirFS(f.dir)
	}
	f.loaded = f.fingerprint()
	base, probs, err := knowledge.Load(fsys, knowledge.Options{Today: knowledge.DateOf(time.Now()), Required: knowledge.RequiredIDs()})
	if ws := probs.Warnings(); len(ws) > 0 {
		// One line, not one per warning: warnings are for editors
		// (witaj faq lint lists them), and the FAQ serves regardless.
		f.log.Warn("FAQ loaded with warnings; run witaj faq lint for the list", "warnings", len(ws), "first", ws[0].String())
		for _, p := range ws {
			f.log.Debug("FAQ", "problem", p.String())
		}
	}
	if err != nil {
		for _, p := range probs.Errors() {
			f.log.Error("FAQ", "problem", p.String())
		}
		return nil, knowledge.Version{}, fmt.Errorf("FAQ %s: %w", or(f.dir, "built-in"), err)
	}
	m := knowledge.NewMatcher(base, knowledge.DefaultThresholds())
	r := bot.NewRenderer(base, f.cat)
	r.Missing = func(lang knowledge.Lang, key string, err error) {
		f.log.Error("missing translation: the user read the English text", "lang", lang, "key", key, "err", err)
	}
	return &bot.FAQ{Engine: flows.New(base, m, f.flows), Render: r}, base.Version(), nil
}

// overdue counts the topics past their review_by date.
func overdue(kb *knowledge.Base) int {
	today := knowledge.DateOf(time.Now())
	n := 0
	for _, e := range kb.Entries() {
		if !e.ReviewBy.IsZero() && e.ReviewBy.Before(today) {
			n++
		}
	}
	return n
}

// reload loads the FAQ again and hands it to use when it is good.
func (f *faqSource) reload(use func(*bot.FAQ)) {
	faq, v, err := f.load()
	if err != nil {
		f.log.Error("FAQ reload refused; still serving the previous version", "err", err)
		f.metrics.ReloadRefused()
		return
	}
	use(faq)
	f.metrics.ServingFAQ(v.String())
	f.metrics.Overdue(overdue(faq.Engine.KB()))
	f.log.Info("FAQ reloaded", "version", v.String())
}

// watch reloads when a signal arrives on hup or the folder's files
// differ from those last loaded (checked every interval), until ctx ends.
// It must not run alongside another call of load or reload.
func (f *faqSource) watch(ctx context.Context, hup <-chan os.Signal, interval time.Duration, use func(*bot.FAQ)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if f.dir == "" {
				f.log.Info("SIGHUP: the built-in FAQ cannot change; set WITAJ_FAQ_DIR to reload from a folder")
				continue
			}
			f.reload(use)
		case <-t.C:
			if f.dir != "" && f.fingerprint() != f.loaded {
				f.reload(use)
			}
		}
	}
}

// fingerprint summarises the folder's files (names, sizes, times), so a
// change is noticed without reading them.
func (f *faqSource) fingerprint() string {
	if f.dir == "" {
		return ""
	}
	var b strings.Builder
	_ = filepath.WalkDir(f.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			fmt.Fprintf(&b, "%s %d %d\n", p, info.Size(), info.ModTime().UnixNano())
		}
		return nil
	})
	return b.String()
}
