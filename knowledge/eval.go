package knowledge

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
)

// EvalCase is one labelled message of an evaluation file:
// lang<TAB>expected_id<TAB>question, expected_id "-" for a message no topic
// answers.
type EvalCase struct {
	Lang     Lang
	Expected string
	Question string
	Line     int
}

// OutOfScope reports a case that no topic should answer directly.
func (c EvalCase) OutOfScope() bool { return c.Expected == "-" }

// ReadEval reads an evaluation file. '#' starts a comment line; blank lines
// are skipped. Errors name the file and line.
func ReadEval(r io.Reader, name string) ([]EvalCase, error) {
	var cases []EvalCase
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, "\t")
		if len(parts) != 3 {
			return nil, fmt.Errorf("%s:%d: want 3 tab-separated columns (lang, expected id, question), got %d", name, n, len(parts))
		}
		l := Lang(parts[0])
		if !l.Known() {
			return nil, fmt.Errorf("%s:%d: unknown language %q", name, n, parts[0])
		}
		cases = append(cases, EvalCase{Lang: l, Expected: parts[1], Question: parts[2], Line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return cases, nil
}

// EvalCounts are the tallies of one evaluation, overall or for a language.
type EvalCounts struct {
	InScope, OutOfScope int
	Top1, Top3          int // in-scope cases whose expected id is first / in the first three
	Answered, Wrong     int // in-scope cases answered directly / directly with a wrong id
	Rejected            int // out-of-scope cases not answered directly
}

// Rates returns top1, top3, answered, wrong and oos_reject as shares.
func (c EvalCounts) Rates() (top1, top3, answered, wrong, oosReject float64) {
	div := func(a, b int) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	return div(c.Top1, c.InScope), div(c.Top3, c.InScope), div(c.Answered, c.InScope),
		div(c.Wrong, c.InScope), div(c.Rejected, c.OutOfScope)
}

// EvalMiss is a case the matcher got wrong: not first, answered wrongly, or
// an out-of-scope message answered.
type EvalMiss struct {
	Case   EvalCase
	Result Result
}

// EvalReport is the outcome of an evaluation.
type EvalReport struct {
	All     EvalCounts
	PerLang map[Lang]*EvalCounts
	Misses  []EvalMiss
}

// Evaluate matches every case as if the user had chosen the case's language.
func Evaluate(m *Matcher, cases []EvalCase) EvalReport {
	rep := EvalReport{PerLang: map[Lang]*EvalCounts{}}
	for _, l := range Langs() {
		rep.PerLang[l] = &EvalCounts{}
	}
	for _, c := range cases {
		res := m.Match(c.Question, c.Lang)
		if m.OutOfScope(c.Question) {
			// The bot says it covers Poland only, or not this subject,
			// whatever the matcher found: count it as it is shown.
			res.Decision, res.Suggested = NoMatch, nil
		}
		miss := tally(&rep.All, c, res)
		tally(rep.PerLang[c.Lang], c, res)
		if miss {
			rep.Misses = append(rep.Misses, EvalMiss{c, res})
		}
	}
	return rep
}

// tally counts one case and reports whether it is a miss.
func tally(t *EvalCounts, c EvalCase, res Result) bool {
	ids := make([]string, 0, 3)
	for _, cand := range res.Candidates {
		ids = append(ids, cand.Entry.ID)
	}
	direct := res.Decision == Direct
	if c.OutOfScope() {
		t.OutOfScope++
		if !direct {
			t.Rejected++
		}
		return direct
	}
	t.InScope++
	first := len(ids) > 0 && ids[0] == c.Expected
	if first {
		t.Top1++
	}
	if slices.Contains(ids, c.Expected) {
		t.Top3++
	}
	if direct {
		t.Answered++
		if !first {
			t.Wrong++
		}
	}
	return !first || (direct && !first)
}
