package telegram

import "unicode"

// splitCells cuts cells into parts of at most limit UTF-16 code units,
// with blank characters trimmed from both ends of every part. A part that
// would be blank is never produced: Telegram refuses an empty message.
func splitCells(cells []htmlCell, limit int) [][]htmlCell {
	var parts [][]htmlCell
	for {
		cells = trimLeft(cells)
		if len(cells) == 0 {
			return parts
		}
		end, next := cutPart(cells, limit)
		parts = append(parts, trimRight(cells[:end]))
		cells = cells[next:]
	}
}

// cutPart decides where the part that starts at cells[0] ends: it is
// cells[:end], and the next one starts at cells[next]. A part ends at the
// last paragraph break in the second half of what fits, else at the last
// line break there, else at the last space there, but not right after a
// colon, which introduces what follows ("Official sources:"). The
// second-half rule keeps a title or a short sentence from going out as a
// message of its own. Failing those, it ends at the best break anywhere
// in what fits, and only when that has no whitespace at all, inside a word.
//
// cells[0] is not blank, so end > 0 and every call makes progress.
func cutPart(cells []htmlCell, limit int) (end, next int) {
	n, width := fitCells(cells, limit)
	if n == len(cells) {
		return n, n
	}
	passes := []struct {
		least int  // the part's least width
		colon bool // whether it may end with a colon
	}{{(limit + 1) / 2, false}, {1, true}}
	for _, p := range passes {
		for lv := blockBreak; lv >= wordBreak; lv-- {
			if i := lastBreak(cells, n, width, lv, p.least, p.colon); i > 0 {
				return i, i + 1 // the break character itself is dropped
			}
		}
	}
	i := wordCut(cells, n)
	return i, i
}

// fitCells returns how many cells fit in limit code units, and their width.
func fitCells(cells []htmlCell, limit int) (n, width int) {
	for n < len(cells) && width+cells[n].width() <= limit {
		width += cells[n].width()
		n++
	}
	return n, width
}

// lastBreak returns the largest i <= n with a break of level lv or better
// at cells[i] such that cells[:i] is at least least code units wide, and
// does not end with a colon unless colon is set; or 0. width is the width
// of cells[:n], and n < len(cells): a break right after what fits is
// fine, since the break character is dropped.
func lastBreak(cells []htmlCell, n, width int, lv breakLevel, least int, colon bool) int {
	prev := n - 1 // the last non-blank cell before i, moved left lazily
	for i := n; i > 0 && width >= least; i-- {
		if cells[i].brk >= lv {
			for prev >= 0 && (prev >= i || blank(cells[prev].r)) {
				prev--
			}
			if colon || prev < 0 || cells[prev].r != ':' {
				return i
			}
		}
		width -= cells[i-1].width()
	}
	return 0
}

// wordCut returns where to cut a word that does not fit: at n, or a little
// earlier if n would separate a character from an accent, a joiner or a
// variation selector that belongs to it (as in "é" written as e + U+0301,
// or a family emoji).
func wordCut(cells []htmlCell, n int) int {
	const maxBack = 8 // a longer cluster is not worth keeping together
	for i := n; i > 0 && n-i < maxBack; i-- {
		if !joined(cells[i-1].r, cells[i].r) {
			return i
		}
	}
	return n
}

// joined reports whether b continues the character that a starts.
func joined(a, b rune) bool {
	switch {
	case a == '\u200d' || b == '\u200d': // zero-width joiner
		return true
	case unicode.Is(unicode.Mn, b) || unicode.Is(unicode.Me, b) || unicode.Is(unicode.Mc, b):
		return true
	case unicode.Is(unicode.Variation_Selector, b):
		return true
	case b >= 0x1f3fb && b <= 0x1f3ff: // skin tone modifiers
		return true
	}
	return regionalIndicator(a) && regionalIndicator(b) // a flag, like 🇵🇱
}

func regionalIndicator(r rune) bool { return r >= 0x1f1e6 && r <= 0x1f1ff }

func trimLeft(cells []htmlCell) []htmlCell {
	for len(cells) > 0 && blank(cells[0].r) {
		cells = cells[1:]
	}
	return cells
}

func trimRight(cells []htmlCell) []htmlCell {
	for len(cells) > 0 && blank(cells[len(cells)-1].r) {
		cells = cells[:len(cells)-1]
	}
	return cells
}

// blank reports characters that Telegram strips, removes or treats as
// empty (tdlib's clean_input_string and strip_empty_characters): a message
// made only of these is refused as empty, so they are trimmed from the
// ends of every part.
func blank(r rune) bool {
	switch {
	case unicode.IsSpace(r) || unicode.IsControl(r):
		return true
	case r >= '\u2000' && r <= '\u200f', r >= '\u2028' && r <= '\u202f':
		return true // spaces, zero-width characters, direction marks
	case r >= 0xe0000 && r <= 0xe007f: // tag characters
		return true
	}
	switch r {
	case '\u030a', '\u0333', '\u033f', '\u1680', '\u180e', '\u205f', '\u2800', '\u3000', '\ufeff', '\ufffc':
		return true
	}
	return false
}
