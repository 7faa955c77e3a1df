package main

import (
	"fmt"
	"os"
	"time"

	"github.com/witaj/witaj/flows"
)

// faqDialogues replays labelled conversations through the real engine
// and reports, per kind of expectation, how many turns it handled well.
func (env *environment) faqDialogues(args []string) error {
	fl := env.flagSet("faq dialogues")
	verbose := fl.Bool("verbose", false, "list the turns handled badly")
	dir := fl.String("faq", "", "FAQ folder (default: WITAJ_FAQ_DIR or the built-in FAQ)")
	if err := fl.Parse(args); err != nil {
		return parseError(err)
	}
	if fl.NArg() != 1 {
		fmt.Fprintln(env.stderr, "usage: witaj faq dialogues [--verbose] FILE.tsv")
		return errUsage
	}
	f, err := os.Open(fl.Arg(0))
	if err != nil {
		return err
	}
	turns, err := flows.ParseDialogues(fl.Arg(0), f)
	f.Close()
	if err != nil {
		return err
	}
	if len(turns) == 0 {
		return fmt.Errorf("%s: no dialogues", fl.Arg(0))
	}
	base, m, err := env.loadMatcher(*dir)
	if err != nil {
		return err
	}
	engine := flows.New(base, m, flows.DefaultConfig())
	// A weekday morning: the time only matters for review dates and
	// consultants' hours, and must not make results depend on the day.
	results := engine.PlayDialogues(turns, time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	w := env.stdout
	if *verbose {
		for _, r := range results {
			if !r.OK {
				fmt.Fprintf(w, "miss %s line %d [%s] want %s, got %s\n    %s\n", r.Turn.Dialogue, r.Turn.Line, r.Turn.Lang,
					r.Turn.Expect, r.Outcome.Describe(), r.Turn.Text)
			}
		}
	}
	sc := flows.Score(results)
	fmt.Fprintf(w, "%-9s %5s %5s %6s\n", "expect", "n", "ok", "share")
	for _, k := range flows.ExpectKinds() {
		fmt.Fprintf(w, "%-9s %5d %5d %6.3f\n", k, sc.N[k], sc.Hits[k], sc.Share(k))
	}
	fmt.Fprintf(w, "%-9s %5d %5d %6.3f\n", "all", sc.Turns, sc.OK, sc.TurnShare())
	fmt.Fprintln(w, sc.Summary())
	return nil
}
