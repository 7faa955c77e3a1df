package redis

import (
	"cmp"
	"slices"

	"github.com/witaj/witaj/bot"
)

// sortGaps orders the most frequent questions first, then alphabetically
// so that the listing is stable.
func sortGaps(gs []bot.GapCount) {
	slices.SortFunc(gs, func(a, b bot.GapCount) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Lang, b.Lang); c != 0 {
			return c
		}
		return cmp.Compare(a.Question, b.Question)
	})
}
