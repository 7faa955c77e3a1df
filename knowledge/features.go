package knowledge

import (
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

const (
	// maxQueryRunes bounds the work per message; a migrant's question fits
	// in far fewer characters, and a pasted document is not a question.
	maxQueryRunes = 400
	// prefixLen is the length of the word prefix used as a cheap stem when
	// judging which words of a message a topic knows.
	prefixLen = 5
)

// feature is a hashed feature with its weight in one text.
type feature struct {
	h uint32
	w float32 // weight of the feature's kind, then of the feature in the text
	n float32 // occurrences in the text
}

// tokens splits folded text into words, dropping stop words.
func (m *Matcher) tokens(folded string, dst []string) []string {
	for _, t := range strings.Fields(folded) {
		if _, stop := m.stop[t]; !stop {
			dst = append(dst, t)
		}
	}
	return dst
}

// features appends the features of the words to dst, merged and weighted
// with sublinear term frequency, not yet normalised.
func (t tuning) features(words []string, dst []feature) []feature {
	start := len(dst)
	for _, w := range words {
		dst = t.rawFeatures(w, dst)
	}
	fs := dst[start:]
	// Sorted by hash, ties in the order made: each hash and its place in
	// one integer, which sorts several times faster than the structs
	// with a comparison function (matching sorts 70 features a message).
	var kbuf [256]uint64
	var fbuf [256]feature
	keys, orig := kbuf[:0], fbuf[:0]
	if len(fs) > len(kbuf) {
		keys, orig = make([]uint64, 0, len(fs)), make([]feature, 0, len(fs))
	}
	orig = append(orig, fs...)
	for i, f := range fs {
		keys = append(keys, uint64(f.h)<<32|uint64(i))
	}
	slices.Sort(keys)
	out := fs[:0]
	for _, k := range keys {
		f := orig[uint32(k)]
		if n := len(out); n > 0 && out[n-1].h == f.h {
			out[n-1].n++
			continue
		}
		out = append(out, f)
	}
	for i := range out {
		if out[i].n > 1 { // 1 + log 1 = 1: most features occur once
			out[i].w *= float32(1 + math.Log(float64(out[i].n)))
		}
	}
	return dst[:start+len(out)]
}

// rawFeatures appends the features of one word, the word itself first,
// each with the weight of its kind and a count of 1.
func (t tuning) rawFeatures(w string, dst []feature) []feature {
	dst = append(dst, feature{hashWord(w), t.word, 1})
	if t.gram3 > 0 {
		dst = grams(w, 3, t.gram3, dst)
	}
	if t.gram4 > 0 {
		dst = grams(w, 4, t.gram4, dst)
	}
	return dst
}

// grams appends the character n-grams of "^word$" (rune-based).
func grams(w string, n int, weight float32, dst []feature) []feature {
	var rs [64]rune
	k := 0
	rs[k] = '^'
	k++
	for _, r := range w {
		if k == len(rs)-1 {
			break
		}
		rs[k] = r
		k++
	}
	rs[k] = '$'
	k++
	if k < n {
		return dst
	}
	for i := 0; i+n <= k; i++ {
		h := uint32(2166136261) ^ uint32(n)
		for _, r := range rs[i : i+n] {
			h = (h ^ uint32(r)) * 16777619
		}
		dst = append(dst, feature{h, weight, 1})
	}
	return dst
}

func hashWord(w string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(w); i++ {
		h = (h ^ uint32(w[i])) * 16777619
	}
	return (h ^ 'w') * 16777619
}

// prefix is the cheap stem of a folded word: its first prefixLen runes.
func prefix(w string) string {
	n := 0
	for i := range w {
		if n == prefixLen {
			return w[:i]
		}
		n++
	}
	return w
}

// truncate cuts s to at most n runes.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}
