package knowledge

import (
	"cmp"
	"slices"

	"github.com/sahilm/fuzzy"
)

// Typo repair for short messages. A one- or two-word message ("pesl",
// "zamldowanie") carries too few character n-grams for the index to
// recover a misspelt word, so each word the FAQ does not know is replaced
// by the keyword word it is a close subsequence of. github.com/sahilm/fuzzy
// does the subsequence matching; it fits here — short patterns against a
// short list of words — and not on whole sentences, where it finds no
// match at all.
const (
	// typoMaxWords: only messages this short are repaired.
	typoMaxWords = 3
	// typoMinLen: shorter words are too ambiguous to repair.
	typoMinLen = 4
	// typoMaxLen keeps patterns far below the length where fuzzy's score
	// overflows (about 40 identical runes).
	typoMaxLen = 30
	// typoMaxExtra: the keyword word may have at most this many letters
	// the message's word lacks (the letters the user left out).
	typoMaxExtra = 2
)

// repairTypos replaces unknown words of a short message in place.
func (m *Matcher) repairTypos(words []string) {
	if len(words) > typoMaxWords || len(m.kwWords) == 0 {
		return
	}
	for i, w := range words {
		if len(w) < typoMinLen || len(w) > typoMaxLen {
			continue
		}
		if _, known := m.known[prefix(w)]; known {
			continue
		}
		if fix, ok := m.closestKeyword(w); ok {
			words[i] = fix
		}
	}
}

// closestKeyword returns the best keyword word of which w is a
// subsequence with at most typoMaxExtra letters missing; of equal
// scores, the first in byte order. Only the words short enough to be
// accepted are scored (kwWords is sorted by length): fuzzy scores each
// word on its own, so the others could only cost time.
func (m *Matcher) closestKeyword(w string) (string, bool) {
	n, _ := slices.BinarySearchFunc(m.kwWords, len(w)+typoMaxExtra+1, func(k string, l int) int {
		return cmp.Compare(len(k), l)
	})
	var best fuzzy.Match
	found := false
	for _, match := range fuzzy.FindNoSort(w, m.kwWords[:n]) {
		if !found || match.Score > best.Score || match.Score == best.Score && match.Str < best.Str {
			best, found = match, true
		}
	}
	return best.Str, found
}
