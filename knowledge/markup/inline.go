package markup

import (
	"strings"
	"unicode"
)

// inline parses one line of text starting at column col0 of line n.
func (p *parser) inline(n, col0 int, s string) Line {
	var (
		out  Line
		text strings.Builder
		rs   = []rune(s)
	)
	emit := func(sp Span) {
		if text.Len() > 0 {
			out = append(out, Span{Kind: Text, Text: text.String()})
			text.Reset()
		}
		out = append(out, sp)
	}
	for i := 0; i < len(rs); {
		col := col0 + i
		switch {
		case hasAt(rs, i, "**"):
			end := indexFrom(rs, i+2, "**")
			if end < 0 {
				p.errorf(n, col, "\"**\" opens bold text that is not closed on the same line")
				text.WriteString(string(rs[i:]))
				i = len(rs)
				continue
			}
			inner := string(rs[i+2 : end])
			if strings.TrimSpace(inner) == "" {
				p.errorf(n, col, "empty bold text \"****\"")
			}
			p.plain(n, col+2, inner)
			emit(Span{Kind: Bold, Text: inner})
			i = end + 2
		case rs[i] == '[':
			label, url, next, ok := link(rs, i)
			if !ok {
				p.errorf(n, col, "\"[\" must start a link written as [label](https://…)")
				text.WriteRune(rs[i])
				i++
				continue
			}
			p.plain(n, col+1, label)
			p.checkURL(n, col+len([]rune(label))+3, url)
			emit(Span{Kind: Link, Text: label, URL: url})
			i = next
		case hasAt(rs, i, "https://") || hasAt(rs, i, "http://"):
			end := urlEnd(rs, i)
			url := string(rs[i:end])
			p.checkURL(n, col, url)
			emit(Span{Kind: Link, Text: url, URL: url})
			i = end
		case hasAt(rs, i, "~~"):
			p.errorf(n, col, "strikethrough (~~) is not supported")
			text.WriteString("~~")
			i += 2
		default:
			p.plain(n, col, string(rs[i]))
			text.WriteRune(rs[i])
			i++
		}
	}
	if text.Len() > 0 {
		out = append(out, Span{Kind: Text, Text: text.String()})
	}
	return out
}

// plain reports Markdown syntax the subset does not allow inside text.
func (p *parser) plain(n, col int, s string) {
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case r == '*':
			p.errorf(n, col+i, "single \"*\" (italics) is not supported; use **bold** or write the text plainly")
		case r == '_':
			p.errorf(n, col+i, "\"_\" (italics) is not supported outside links")
		case r == '`':
			p.errorf(n, col+i, "code (`) is not supported")
		case r == '<' || r == '>':
			p.errorf(n, col+i, "HTML and angle brackets are not supported; write plain text")
		case r == '[' || r == ']':
			p.errorf(n, col+i, "brackets are only allowed as a link [label](https://…)")
		case r == '\t':
			p.errorf(n, col+i, "tab character; use spaces")
		}
	}
}

func (p *parser) checkURL(n, col int, url string) {
	switch {
	case !strings.HasPrefix(url, "https://"):
		p.errorf(n, col, "link %q must use https://", url)
	case len(url) <= len("https://") || strings.ContainsAny(url, " <>\"`"):
		p.errorf(n, col, "link %q is not a valid URL", url)
	}
}

// link parses [label](url) starting at rs[i] == '['.
func link(rs []rune, i int) (label, url string, next int, ok bool) {
	closeLabel := indexFrom(rs, i+1, "](")
	if closeLabel < 0 {
		return "", "", 0, false
	}
	closeURL := indexFrom(rs, closeLabel+2, ")")
	if closeURL < 0 {
		return "", "", 0, false
	}
	label = string(rs[i+1 : closeLabel])
	url = string(rs[closeLabel+2 : closeURL])
	if strings.TrimSpace(label) == "" || strings.ContainsAny(label, "[]") || strings.ContainsRune(url, ' ') {
		return "", "", 0, false
	}
	return label, url, closeURL + 1, true
}

// urlEnd returns the end of a bare URL that starts at rs[i]: the URL runs to
// the next space, minus trailing punctuation that belongs to the sentence.
func urlEnd(rs []rune, i int) int {
	end := i
	for end < len(rs) && !unicode.IsSpace(rs[end]) {
		end++
	}
	for end > i && strings.ContainsRune(".,;:!?)»\"'", rs[end-1]) {
		end--
	}
	return end
}

func hasAt(rs []rune, i int, s string) bool {
	for _, r := range s {
		if i >= len(rs) || rs[i] != r {
			return false
		}
		i++
	}
	return true
}

func indexFrom(rs []rune, from int, s string) int {
	for i := from; i < len(rs); i++ {
		if hasAt(rs, i, s) {
			return i
		}
	}
	return -1
}
