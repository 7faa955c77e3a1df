package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/witaj/witaj/knowledge"
)

// loadMatcher loads the FAQ chosen by --faq or WITAJ_FAQ_DIR (default: the
// built-in one) and indexes it.
func (env *environment) loadMatcher(dir string) (*knowledge.Base, *knowledge.Matcher, error) {
	fsys, prefix := env.faqSource(dir)
	base, _, err := knowledge.Load(fsys, knowledge.Options{})
	if err != nil {
		return nil, nil, fmt.Errorf("load FAQ %s: %w", prefix, err)
	}
	return base, knowledge.NewMatcher(base, knowledge.DefaultThresholds()), nil
}

func (env *environment) faqAsk(args []string) error {
	fl := env.flagSet("faq ask")
	lang := fl.String("lang", "", "the user's language (pl, en, uk, ru); default: detected")
	dir := fl.String("faq", "", "FAQ folder (default: WITAJ_FAQ_DIR or the built-in FAQ)")
	if err := fl.Parse(args); err != nil {
		return parseError(err)
	}
	if fl.NArg() == 0 {
		fmt.Fprintln(env.stderr, `usage: witaj faq ask [--lang xx] "question"`)
		return errUsage
	}
	base, m, err := env.loadMatcher(*dir)
	if err != nil {
		return err
	}
	q := strings.Join(fl.Args(), " ")
	l := knowledge.Lang(*lang)
	if l == "" {
		l = knowledge.DetectLang(q)
	}
	res := m.Match(q, l)
	fmt.Fprintf(env.stdout, "decision: %s (confidence %.3f, detected language %s", res.Decision, res.Confidence, res.Lang)
	if res.Danger {
		fmt.Fprint(env.stdout, ", danger")
	}
	fmt.Fprintln(env.stdout, ")")
	for i, c := range res.Candidates {
		fmt.Fprintf(env.stdout, "%d. %-28s %.3f  %s\n", i+1, c.Entry.ID, c.Score, c.Entry.Title[lOr(l)])
	}
	env.printReading(base.Phrases().Read(q))
	return nil
}

// printReading shows what the phrasebook (conversation.yaml) finds in a
// message, so that editors see why a message counts as small talk, a
// follow-up or a question about another country.
func (env *environment) printReading(rd knowledge.Reading) {
	var notes []string
	add := func(ok bool, s string) {
		if ok {
			notes = append(notes, s)
		}
	}
	add(rd.Social != "", "small talk: "+string(rd.Social))
	add(rd.Human, "asks for a person")
	add(rd.Opening, "opens like a follow-up")
	add(rd.Pointing, "points back")
	for _, f := range rd.Facets {
		notes = append(notes, "facet: "+string(f))
	}
	add(rd.Elsewhere, "another country")
	add(rd.Travel, "travel")
	add(rd.Offtopic, "off topic")
	notes = append(notes, fmt.Sprintf("%d words", rd.Words))
	fmt.Fprintf(env.stdout, "phrasebook: %s\n", strings.Join(notes, ", "))
	for i, p := range rd.Parts {
		fmt.Fprintf(env.stdout, "  question %d: %s\n", i+1, p)
	}
}

func lOr(l knowledge.Lang) knowledge.Lang {
	if l.Known() {
		return l
	}
	return knowledge.EN
}

func (env *environment) faqEval(args []string) error {
	fl := env.flagSet("faq eval")
	lang := fl.String("lang", "", "only cases in this language")
	verbose := fl.Bool("verbose", false, "list the misses")
	dir := fl.String("faq", "", "FAQ folder (default: WITAJ_FAQ_DIR or the built-in FAQ)")
	if err := fl.Parse(args); err != nil {
		return parseError(err)
	}
	if fl.NArg() != 1 {
		fmt.Fprintln(env.stderr, "usage: witaj faq eval [--lang xx] [--verbose] FILE.tsv")
		return errUsage
	}
	f, err := os.Open(fl.Arg(0))
	if err != nil {
		return err
	}
	cases, err := knowledge.ReadEval(f, fl.Arg(0))
	f.Close()
	if err != nil {
		return err
	}
	if *lang != "" {
		cases = slices.DeleteFunc(cases, func(c knowledge.EvalCase) bool { return string(c.Lang) != *lang })
	}
	if len(cases) == 0 {
		return fmt.Errorf("%s: no cases", fl.Arg(0))
	}
	_, m, err := env.loadMatcher(*dir)
	if err != nil {
		return err
	}
	rep := knowledge.Evaluate(m, cases)
	qps, p99 := measureSpeed(m, cases)
	env.printEval(rep, *verbose)
	t1, t3, ans, wrong, oos := rep.All.Rates()
	fmt.Fprintf(env.stdout, "eval n=%d top1=%.3f top3=%.3f answered=%.3f wrong=%.3f oos_reject=%.3f qps=%.0f p99_us=%.0f\n",
		len(cases), t1, t3, ans, wrong, oos, qps, p99)
	return nil
}

func (env *environment) printEval(rep knowledge.EvalReport, verbose bool) {
	w := env.stdout
	if verbose {
		for _, miss := range rep.Misses {
			var got []string
			for _, c := range miss.Result.Candidates {
				got = append(got, fmt.Sprintf("%s %.2f", c.Entry.ID, c.Score))
			}
			fmt.Fprintf(w, "miss line %d [%s] want %s, %s (conf %.2f): %s\n    %s\n", miss.Case.Line, miss.Case.Lang,
				miss.Case.Expected, miss.Result.Decision, miss.Result.Confidence, strings.Join(got, ", "), miss.Case.Question)
		}
	}
	fmt.Fprintf(w, "%-5s %5s %6s %6s %9s %6s %5s %10s\n", "lang", "n", "top1", "top3", "answered", "wrong", "oos", "oos_reject")
	row := func(name string, c knowledge.EvalCounts) {
		t1, t3, ans, wrong, oos := c.Rates()
		fmt.Fprintf(w, "%-5s %5d %6.3f %6.3f %9.3f %6.3f %5d %10.3f\n", name, c.InScope, t1, t3, ans, wrong, c.OutOfScope, oos)
	}
	for _, l := range knowledge.Langs() {
		if c := rep.PerLang[l]; c.InScope+c.OutOfScope > 0 {
			row(string(l), *c)
		}
	}
	row("all", rep.All)
}

// measureSpeed matches the cases repeatedly on one goroutine for at least a
// second and returns queries per second and the 99th percentile latency in
// microseconds.
func measureSpeed(m *knowledge.Matcher, cases []knowledge.EvalCase) (qps, p99us float64) {
	var lat []time.Duration
	start := time.Now()
	for time.Since(start) < time.Second {
		for _, c := range cases {
			t := time.Now()
			m.Match(c.Question, c.Lang)
			lat = append(lat, time.Since(t))
		}
	}
	total := time.Since(start)
	slices.Sort(lat)
	p := lat[min(len(lat)-1, len(lat)*99/100)]
	return float64(len(lat)) / total.Seconds(), float64(p.Nanoseconds()) / 1e3
}
