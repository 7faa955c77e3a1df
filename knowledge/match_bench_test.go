package knowledge

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchQueries are the labelled questions of testdata: realistic messages
// in all four languages, of every length.
func benchQueries(b *testing.B) []EvalCase {
	b.Helper()
	files, _ := filepath.Glob("testdata/*.tsv")
	var cases []EvalCase
	for _, f := range files {
		r, err := os.Open(f)
		if err != nil {
			b.Fatal(err)
		}
		cs, err := ReadEval(r, f)
		r.Close()
		if err != nil {
			b.Fatal(err)
		}
		cases = append(cases, cs...)
	}
	if len(cases) == 0 {
		b.Fatal("no benchmark queries in testdata/*.tsv")
	}
	return cases
}

func shippedBase(tb testing.TB) *Base {
	tb.Helper()
	base, _, err := Load(DefaultFS(), Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return base
}

// BenchmarkMatch: one message against the shipped FAQ. Target ≤ 100 µs.
func BenchmarkMatch(b *testing.B) {
	m := NewMatcher(shippedBase(b), DefaultThresholds())
	qs := benchQueries(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		q := qs[i%len(qs)]
		m.Match(q.Question, q.Lang)
	}
}

// BenchmarkNewMatcher: indexing the shipped FAQ. Target ≤ 50 ms.
func BenchmarkNewMatcher(b *testing.B) {
	base := shippedBase(b)
	b.ReportAllocs()
	for b.Loop() {
		NewMatcher(base, DefaultThresholds())
	}
}

// BenchmarkMatch10k: one message against a generated FAQ of 10,000
// entries. Target ≤ 2 ms.
func BenchmarkMatch10k(b *testing.B) {
	m := NewMatcher(syntheticBase(b, 10000), DefaultThresholds())
	qs := benchQueries(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		q := qs[i%len(qs)]
		m.Match(q.Question, q.Lang)
	}
}

// syntheticBase builds n entries whose questions and answers are random
// sentences over the shipped FAQ's own vocabulary, so that word and n-gram
// frequencies resemble a real FAQ grown large.
func syntheticBase(tb testing.TB, n int) *Base {
	tb.Helper()
	shipped := shippedBase(tb)
	vocab := map[Lang][]string{}
	for _, e := range shipped.Entries() {
		for _, l := range Langs() {
			vocab[l] = append(vocab[l], strings.Fields(e.Answer[l])...)
			for _, q := range e.Questions[l] {
				vocab[l] = append(vocab[l], strings.Fields(q)...)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	sentence := func(l Lang, words int) string {
		ws := make([]string, words)
		for i := range ws {
			ws[i] = vocab[l][rng.IntN(len(vocab[l]))]
		}
		return strings.Join(ws, " ")
	}
	entries := make([]*Entry, n)
	for i := range entries {
		e := &Entry{ID: fmt.Sprintf("gen.t%05d", i), Category: Help, Version: 1,
			Title: map[Lang]string{}, Questions: map[Lang][]string{}, Answer: map[Lang]string{}}
		for _, l := range Langs() {
			e.Title[l] = sentence(l, 3)
			for range 6 {
				e.Questions[l] = append(e.Questions[l], sentence(l, 4+rng.IntN(8)))
			}
			e.Answer[l] = sentence(l, 120)
		}
		e.Keywords = []string{sentence(EN, 1), sentence(PL, 2)}
		entries[i] = e
	}
	return New(entries)
}
