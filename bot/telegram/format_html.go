package telegram

import "strings"

// renderPart writes cells as Telegram HTML. Each run of cells in one
// style gets its own tags, so a bold or link span that was cut between
// parts is closed at the end of one and reopened in the next, and tags
// never nest.
func renderPart(cells []htmlCell) string {
	var b strings.Builder
	var cur htmlStyle
	for _, c := range cells {
		if c.style != cur {
			closeTag(&b, cur)
			openTag(&b, c.style)
			cur = c.style
		}
		writeEscaped(&b, c.r, false)
	}
	closeTag(&b, cur)
	return b.String()
}

func openTag(b *strings.Builder, st htmlStyle) {
	switch {
	case st.bold:
		b.WriteString("<b>")
	case st.url != "":
		b.WriteString(`<a href="`)
		for _, r := range st.url {
			writeEscaped(b, r, true)
		}
		b.WriteString(`">`)
	}
}

func closeTag(b *strings.Builder, st htmlStyle) {
	switch {
	case st.bold:
		b.WriteString("</b>")
	case st.url != "":
		b.WriteString("</a>")
	}
}

// writeEscaped writes r, escaped for Telegram's HTML: "&", "<" and ">"
// everywhere, and '"' too inside an attribute value. These are the named
// entities Telegram knows; "'" needs no escape inside double quotes.
func writeEscaped(b *strings.Builder, r rune, attr bool) {
	switch {
	case r == '&':
		b.WriteString("&amp;")
	case r == '<':
		b.WriteString("&lt;")
	case r == '>':
		b.WriteString("&gt;")
	case r == '"' && attr:
		b.WriteString("&quot;")
	default:
		b.WriteRune(r)
	}
}
