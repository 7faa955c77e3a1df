package markup

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseValid(t *testing.T) {
	in := "Go to **Urząd Wojewódzki** now.\nSecond line.\n\n- first [MOS](https://mos.cudzoziemcy.gov.pl/en)\n- see https://www.gov.pl/web/udsc_x.\n\n1. plain numbers are text"
	want := Doc{Blocks: []Block{
		{Kind: Paragraph, Lines: []Line{
			{{Kind: Text, Text: "Go to "}, {Kind: Bold, Text: "Urząd Wojewódzki"}, {Kind: Text, Text: " now."}},
			{{Kind: Text, Text: "Second line."}},
		}},
		{Kind: List, Lines: []Line{
			{{Kind: Text, Text: "first "}, {Kind: Link, Text: "MOS", URL: "https://mos.cudzoziemcy.gov.pl/en"}},
			{{Kind: Text, Text: "see "}, {Kind: Link, Text: "https://www.gov.pl/web/udsc_x", URL: "https://www.gov.pl/web/udsc_x"}, {Kind: Text, Text: "."}},
		}},
		{Kind: Paragraph, Lines: []Line{{{Kind: Text, Text: "1. plain numbers are text"}}}},
	}}
	got, errs := Parse(in)
	if len(errs) > 0 {
		t.Fatalf("Parse: unexpected errors %v", errs)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse mismatch (-want +got):\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Error
	}{
		{"heading", "# Title", []Error{{1, 1, "headings (#) are not supported; use **bold** on its own line"}}},
		{"star bullet", "text\n* item", []Error{{2, 1, "use \"- \" for bullet points"}}},
		{"nested list", "- a\n  - b", []Error{{2, 1, "nested or indented list items are not supported; start bullets with \"- \" at the beginning of the line"}}},
		{"unclosed bold", "a **b", []Error{{1, 3, "\"**\" opens bold text that is not closed on the same line"}}},
		{"italics star", "an *x* y", []Error{
			{1, 4, "single \"*\" (italics) is not supported; use **bold** or write the text plainly"},
			{1, 6, "single \"*\" (italics) is not supported; use **bold** or write the text plainly"},
		}},
		{"underscore", "é _x", []Error{{1, 3, "\"_\" (italics) is not supported outside links"}}},
		{"html", "<b>x", []Error{
			{1, 1, "HTML and angle brackets are not supported; write plain text"},
			{1, 3, "HTML and angle brackets are not supported; write plain text"},
		}},
		{"http link", "[a](http://x.pl)", []Error{{1, 5, "link \"http://x.pl\" must use https://"}}},
		{"bare http", "see http://x.pl", []Error{{1, 5, "link \"http://x.pl\" must use https://"}}},
		{"broken link", "[a] (https://x.pl)", []Error{
			{1, 1, "\"[\" must start a link written as [label](https://…)"},
			{1, 3, "brackets are only allowed as a link [label](https://…)"},
		}},
		{"code", "run `x`", []Error{
			{1, 5, "code (`) is not supported"},
			{1, 7, "code (`) is not supported"},
		}},
		{"strike", "~~no~~", []Error{
			{1, 1, "strikethrough (~~) is not supported"},
			{1, 5, "strikethrough (~~) is not supported"},
		}},
		{"quote", "> said", []Error{{1, 1, "quotes (>) are not supported"}}},
		{"bold in list col", "- **a_b**", []Error{{1, 6, "\"_\" (italics) is not supported outside links"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := Parse(tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%q) errors (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"**a** [b](https://c)", "- x\n\ny", "https://a.pl.", "[", "**"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		doc, _ := Parse(s)
		for _, b := range doc.Blocks {
			if len(b.Lines) == 0 {
				t.Fatalf("empty block from %q", s)
			}
		}
	})
}

func TestPlainDocKeepsMarkupLiteral(t *testing.T) {
	d := PlainDoc("Hi **x** <b>\n[a](https://b)\n\n- not a list")
	want := "Hi **x** <b>\n[a](https://b)\n\n- not a list"
	if got := d.PlainText(); got != want {
		t.Errorf("PlainDoc(...).PlainText() = %q, want %q", got, want)
	}
	for _, blk := range d.Blocks {
		for _, l := range blk.Lines {
			for _, sp := range l {
				if sp.Kind != Text {
					t.Errorf("PlainDoc produced a %v span from %q", sp.Kind, sp.Text)
				}
			}
		}
	}
}

func TestPlainText(t *testing.T) {
	d, _ := Parse("**Title**\n\n- one [MOS](https://mos.gov.pl)\n- https://x.pl")
	want := "Title\n\n• one MOS (https://mos.gov.pl)\n• https://x.pl"
	if got := d.PlainText(); got != want {
		t.Errorf("PlainText() = %q, want %q", got, want)
	}
}
