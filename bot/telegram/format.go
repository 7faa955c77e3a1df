package telegram

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/knowledge/markup"
)

// formatLimit is Telegram's limit for a message: 4096 characters after
// entity parsing, counted in UTF-16 code units (Bot API sendMessage).
const formatLimit = 4096

// Part is one Telegram message of a formatted bot.Message: Text is in
// Telegram's HTML parse mode, and Buttons (the inline keyboard) is set on
// the last part only, because it belongs under the whole answer.
type Part struct {
	Text    string
	Buttons [][]bot.Button
}

// Format renders m as Telegram HTML (parse_mode "HTML"), split into parts
// that each fit Telegram's 4096-character limit. Every text span is
// escaped, so no text from users, consultants or the FAQ can make
// Telegram refuse the message ("can't parse entities"). Parts are split
// between paragraphs when possible, else between lines, else between
// words, and only as a last resort inside a word; a bold or link span cut
// in two is closed at the end of one part and reopened in the next. A
// message with no visible text yields no parts, and so drops its buttons:
// Telegram cannot send a keyboard without text.
func Format(m bot.Message) []Part {
	return formatParts(m, formatLimit)
}

// formatParts is Format with the length limit as a parameter, so tests
// can split with small limits. limit is in UTF-16 code units; values
// below 2 are raised to 2 so that a surrogate pair always fits.
func formatParts(m bot.Message, limit int) []Part {
	limit = max(limit, 2)
	var parts []Part
	for _, cells := range splitCells(flattenDoc(m.Doc), limit) {
		parts = append(parts, Part{Text: renderPart(cells)})
	}
	if len(parts) > 0 {
		parts[len(parts)-1].Buttons = m.Buttons
	}
	return parts
}

// htmlStyle is how a character is shown: plain text (the zero value),
// bold, or part of a link's label.
type htmlStyle struct {
	bold bool
	url  string
}

// breakLevel says whether a part may end at a whitespace character (which
// is then dropped), and how good a place that is.
type breakLevel uint8

const (
	noBreak    breakLevel = iota // inside a word, or the space after a bullet
	wordBreak                    // a space between words
	lineBreak                    // a newline between lines
	blockBreak                   // the blank line between paragraphs or lists
)

// htmlCell is one character of the message's visible text. Splitting
// works on cells rather than on HTML, so a cut can never fall inside a tag
// or an entity.
type htmlCell struct {
	style htmlStyle // first: the fields pack into 32 bytes, not 40
	r     rune
	brk   breakLevel
}

// width is the cell's length as Telegram counts it, in UTF-16 code units.
func (c htmlCell) width() int {
	if c.r >= 0x10000 {
		return 2
	}
	return 1
}

// flattenDoc lays d out as Telegram will show it: list items prefixed
// with "• ", lines joined with "\n", blocks with "\n\n".
func flattenDoc(d markup.Doc) []htmlCell {
	cells := make([]htmlCell, 0, docCells(d))
	for _, blk := range d.Blocks {
		if emptyBlock(blk) {
			continue // would only add blank lines
		}
		if len(cells) > 0 {
			cells = append(cells, htmlCell{r: '\n', brk: blockBreak}, htmlCell{r: '\n', brk: blockBreak})
		}
		for i, line := range blk.Lines {
			if i > 0 {
				cells = append(cells, htmlCell{r: '\n', brk: lineBreak})
			}
			if blk.Kind == markup.List {
				cells = append(cells, htmlCell{r: '•'}, htmlCell{r: ' '}) // keep the bullet with its item
			}
			for _, sp := range line {
				cells = appendSpan(cells, sp)
			}
		}
	}
	return cells
}

// docCells is at least how many cells flattenDoc makes of d, so that
// they are allocated once: a long answer has thousands.
func docCells(d markup.Doc) int {
	n := 0
	for _, blk := range d.Blocks {
		n += 2
		for _, line := range blk.Lines {
			n += 3
			for _, sp := range line {
				n += utf8.RuneCountInString(sp.Text)
				if sp.Kind == markup.Link {
					n += utf8.RuneCountInString(sp.URL) + 3
				}
			}
		}
	}
	return n
}

// emptyBlock reports a block with nothing to show, not even a link.
func emptyBlock(blk markup.Block) bool {
	for _, line := range blk.Lines {
		for _, sp := range line {
			if sp.Text != "" || sp.Kind == markup.Link && sp.URL != "" {
				return false
			}
		}
	}
	return true
}

// appendSpan adds the characters of sp. A link whose URL Telegram might
// refuse or misread is shown as plain text, "label (url)", so the address
// is not lost.
func appendSpan(cells []htmlCell, sp markup.Span) []htmlCell {
	switch sp.Kind {
	case markup.Bold:
		return appendText(cells, sp.Text, htmlStyle{bold: true})
	case markup.Link:
		label := sp.Text
		if label == "" {
			label = sp.URL
		}
		if !linkURL(sp.URL) {
			if label != sp.URL {
				label += " (" + sp.URL + ")"
			}
			return appendText(cells, label, htmlStyle{})
		}
		return appendText(cells, label, htmlStyle{url: sp.URL})
	default:
		return appendText(cells, sp.Text, htmlStyle{})
	}
}

// appendText adds the characters of s in style st. Ranging over s turns
// invalid UTF-8 into U+FFFD, so the output is always valid UTF-8, which
// Telegram requires. Control characters become spaces and "\r" is
// dropped, as Telegram would do itself after counting them.
func appendText(cells []htmlCell, s string, st htmlStyle) []htmlCell {
	for _, r := range s {
		brk := noBreak
		switch {
		case r == '\r':
			continue
		case r == '\n':
			brk = lineBreak
		case unicode.IsControl(r):
			r, brk = ' ', wordBreak
		case unicode.IsSpace(r) && !nonBreaking(r):
			brk = wordBreak
		}
		cells = append(cells, htmlCell{r: r, style: st, brk: brk})
	}
	return cells
}

// nonBreaking reports the no-break spaces, which must not end a part.
func nonBreaking(r rune) bool {
	return r == '\u00a0' || r == '\u2007' || r == '\u202f'
}

// linkURL reports whether url can go into an href: http(s), valid UTF-8,
// no whitespace or control characters (a NUL would end Telegram's
// attribute parser early and fail the whole message).
func linkURL(url string) bool {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok || rest == "" || !utf8.ValidString(url) {
		return false
	}
	if !strings.EqualFold(scheme, "https") && !strings.EqualFold(scheme, "http") {
		return false
	}
	return !strings.ContainsFunc(url, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
}

// Formatter formats messages for Telegram without a client: for
// commands that render what serve will send (witaj announce).
type Formatter struct{}

// Format implements bot.Formatter.
func (Formatter) Format(m bot.Message) []bot.OutMessage {
	return outMessages(Format(m), m.Buttons)
}

// outMessages puts the parts into messages, the buttons under the last.
func outMessages(parts []Part, buttons [][]bot.Button) []bot.OutMessage {
	out := make([]bot.OutMessage, len(parts))
	for i, p := range parts {
		out[i] = bot.OutMessage{Text: p.Text}
	}
	if len(out) > 0 {
		out[len(out)-1].Buttons = buttons
	}
	return out
}
