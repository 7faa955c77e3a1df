package knowledge

import (
	"fmt"
	"slices"
	"strings"
)

// Outlier thresholds for answer length. They catch an answer that grew a
// second topic, and a translation that lost or gained content.
const (
	// longFactor: an answer this many times the median length of the
	// language's answers is much longer than the rest.
	longFactor = 2.0
	// imbalanceFactor: an answer this many times shorter than the longest
	// translation of the same entry probably lacks content.
	imbalanceFactor = 0.5
)

// crossChecks compares entries with each other.
func crossChecks(entries []*Entry) Problems {
	var probs Problems
	probs = append(probs, sharedQuestions(entries)...)
	probs = append(probs, longAnswers(entries)...)
	probs = append(probs, unevenTranslations(entries)...)
	return probs
}

// sharedQuestions reports an example question that teaches two topics at
// once: the matcher cannot tell them apart on it.
func sharedQuestions(entries []*Entry) Problems {
	var probs Problems
	type owner struct {
		e    *Entry
		path string
	}
	seen := map[string]owner{}
	for _, e := range entries {
		for _, l := range Langs() {
			for i, q := range e.Questions[l] {
				key := questionKey(q)
				field := fmt.Sprintf("questions.%s[%d]", l, i)
				if prev, dup := seen[key]; dup && prev.e != e && key != "" {
					reporter{e.Path, &probs}.errorAt(e.pos.at(field), "%s %q is also an example of %s (%s); an example question must belong to one topic", field, q, prev.e.ID, prev.path)
					continue
				}
				seen[key] = owner{e, field}
			}
		}
	}
	return probs
}

func longAnswers(entries []*Entry) Problems {
	var probs Problems
	if len(entries) < 5 {
		return nil // too few answers for a meaningful median
	}
	for _, l := range Langs() {
		var lens []int
		for _, e := range entries {
			if a, ok := e.Answer[l]; ok {
				lens = append(lens, wordCount(a))
			}
		}
		if len(lens) == 0 {
			continue
		}
		slices.Sort(lens)
		median := lens[len(lens)/2]
		for _, e := range entries {
			n := wordCount(e.Answer[l])
			if float64(n) > longFactor*float64(median) {
				field := "answer." + string(l)
				reporter{e.Path, &probs}.warnAt(e.pos.at(field), "%s has %d words, much longer than the other %s answers (median %d); consider splitting the topic", field, n, l, median)
			}
		}
	}
	return probs
}

func unevenTranslations(entries []*Entry) Problems {
	var probs Problems
	for _, e := range entries {
		longest, longLang := 0, Lang("")
		for _, l := range Langs() {
			if n := len([]rune(e.Answer[l])); n > longest {
				longest, longLang = n, l
			}
		}
		for _, l := range Langs() {
			a, ok := e.Answer[l]
			if !ok || strings.TrimSpace(a) == "" {
				continue
			}
			if n := len([]rune(a)); float64(n) < imbalanceFactor*float64(longest) {
				field := "answer." + string(l)
				reporter{e.Path, &probs}.warnAt(e.pos.at(field), "%s is much shorter than answer.%s (%d vs %d characters); check that the translation is complete", field, longLang, n, longest)
			}
		}
	}
	return probs
}

func wordCount(s string) int { return len(strings.Fields(s)) }
