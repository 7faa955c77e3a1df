package markup

import "strings"

// PlainDoc turns plain text into a Doc without interpreting any markup:
// lines become paragraph lines, blank lines separate paragraphs. Use it for
// text that must be shown literally (the bot's own messages, anything a
// user or consultant wrote), so that no character in it can format.
func PlainDoc(s string) Doc {
	var doc Doc
	var cur []Line
	flush := func() {
		if len(cur) > 0 {
			doc.Blocks = append(doc.Blocks, Block{Kind: Paragraph, Lines: cur})
			cur = nil
		}
	}
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		cur = append(cur, Line{{Kind: Text, Text: line}})
	}
	flush()
	return doc
}

// Append returns d followed by the blocks of more.
func (d Doc) Append(more ...Doc) Doc {
	out := Doc{Blocks: append([]Block(nil), d.Blocks...)}
	for _, m := range more {
		out.Blocks = append(out.Blocks, m.Blocks...)
	}
	return out
}

// PlainText renders d for a terminal or a plain-text channel: bullets as
// "• ", bold as it is, links as "label (url)".
func (d Doc) PlainText() string {
	var b strings.Builder
	for i, blk := range d.Blocks {
		if i > 0 {
			b.WriteString("\n\n")
		}
		for j, line := range blk.Lines {
			if j > 0 {
				b.WriteByte('\n')
			}
			if blk.Kind == List {
				b.WriteString("• ")
			}
			for _, sp := range line {
				b.WriteString(sp.Text)
				if sp.Kind == Link && sp.Text != sp.URL {
					b.WriteString(" (" + sp.URL + ")")
				}
			}
		}
	}
	return b.String()
}
