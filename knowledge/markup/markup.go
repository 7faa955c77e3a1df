// Package markup defines the small Markdown subset that FAQ answers are
// written in, and parses it into a tree that adapters render for Telegram
// and Slack.
//
// The subset is deliberately tiny so that every construct has a safe
// rendering on both platforms and editors cannot produce markup that a
// platform rejects ("can't parse entities"):
//
//   - paragraphs separated by a blank line; single line breaks are kept;
//   - bullet lists: lines that start with "- ";
//   - **bold** text, opened and closed on the same line;
//   - links [label](https://…) and bare https:// URLs.
//
// Anything else that Markdown would interpret — headings, italics, code,
// HTML, tables, quotes, nested lists — is an error, so an editor learns
// about it from the linter rather than from a migrant's broken message.
package markup

import (
	"fmt"
	"strings"
)

// Doc is a parsed answer: a sequence of blocks.
type Doc struct {
	Blocks []Block
}

// BlockKind tells paragraphs from bullet lists.
type BlockKind int

// Block kinds.
const (
	Paragraph BlockKind = iota
	List
)

// Block is a paragraph (one or more lines) or a bullet list (one item per
// line). Lines holds the paragraph's lines or the list's items.
type Block struct {
	Kind  BlockKind
	Lines []Line
}

// Line is one line of inline content.
type Line []Span

// SpanKind tells the inline pieces apart.
type SpanKind int

// Span kinds.
const (
	Text SpanKind = iota
	Bold
	Link
)

// Span is a run of inline content. For Link, Text is the label (equal to
// URL for a bare URL) and URL the https target.
type Span struct {
	Kind SpanKind
	Text string
	URL  string
}

// Error is a problem in an answer's markup, positioned within the answer
// text: Line and Col are 1-based, Col counts characters (runes).
type Error struct {
	Line, Col int
	Msg       string
}

func (e Error) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

// Parse parses s. It returns the document and every problem it found;
// the document is usable (problems are kept as plain text) even when
// errors are returned, but callers that validate should refuse it.
func Parse(s string) (Doc, []Error) {
	var p parser
	for i, raw := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		p.line(i+1, strings.TrimRight(raw, " \t\r"))
	}
	p.flush()
	return p.doc, p.errs
}

type parser struct {
	doc  Doc
	cur  *Block
	errs []Error
}

func (p *parser) errorf(line, col int, format string, args ...any) {
	p.errs = append(p.errs, Error{Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) flush() {
	if p.cur != nil {
		p.doc.Blocks = append(p.doc.Blocks, *p.cur)
		p.cur = nil
	}
}

func (p *parser) line(n int, s string) {
	if strings.TrimSpace(s) == "" {
		p.flush()
		return
	}
	kind, body, col := p.classify(n, s)
	if p.cur == nil || p.cur.Kind != kind {
		p.flush()
		p.cur = &Block{Kind: kind}
	}
	p.cur.Lines = append(p.cur.Lines, p.inline(n, col, body))
}

// classify decides whether line n is a list item or paragraph text and
// reports block-level Markdown that the subset does not allow.
func (p *parser) classify(n int, s string) (kind BlockKind, body string, col int) {
	trimmed := strings.TrimLeft(s, " ")
	indent := len(s) - len(trimmed)
	// After reporting a block-level problem the marker is skipped, so the
	// same characters are not reported a second time as inline problems.
	skip := func(marker string) (BlockKind, string, int) {
		rest := strings.TrimLeft(trimmed, marker)
		return Paragraph, rest, indent + 1 + len(trimmed) - len(rest)
	}
	switch {
	case strings.HasPrefix(trimmed, "- ") && indent > 0:
		p.errorf(n, 1, "nested or indented list items are not supported; start bullets with \"- \" at the beginning of the line")
		return skip("- ")
	case strings.HasPrefix(trimmed, "* ") || strings.HasPrefix(trimmed, "+ "):
		p.errorf(n, indent+1, "use \"- \" for bullet points")
		return skip(trimmed[:1] + " ")
	case strings.HasPrefix(trimmed, "#"):
		p.errorf(n, indent+1, "headings (#) are not supported; use **bold** on its own line")
		return skip("# ")
	case strings.HasPrefix(trimmed, ">"):
		p.errorf(n, indent+1, "quotes (>) are not supported")
		return skip("> ")
	case strings.HasPrefix(trimmed, "|"):
		p.errorf(n, indent+1, "tables are not supported; use a bullet list")
	case strings.HasPrefix(s, "- "):
		return List, s[2:], 3
	}
	return Paragraph, trimmed, indent + 1
}
