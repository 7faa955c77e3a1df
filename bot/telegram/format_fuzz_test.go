package telegram

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/knowledge/markup"
)

// parseTelegramHTML checks that s is Telegram HTML as Format may write
// it, a stricter subset of what Telegram accepts: only <b> and
// <a href="…"> tags, balanced and not nested; only the entities &amp;
// &lt; &gt; &quot;; no raw "<" or ">" in text; valid UTF-8 and no control
// characters but "\n". It returns the visible text Telegram would show.
func parseTelegramHTML(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", errors.New("invalid UTF-8")
	}
	var out strings.Builder
	open := ""
	for i := 0; i < len(s); {
		switch s[i] {
		case '&':
			r, n, err := htmlEntity(s[i:])
			if err != nil {
				return "", fmt.Errorf("byte %d: %w", i, err)
			}
			out.WriteRune(r)
			i += n
		case '<':
			n, err := htmlTag(s[i:], &open)
			if err != nil {
				return "", fmt.Errorf("byte %d: %w", i, err)
			}
			i += n
		case '>':
			return "", fmt.Errorf("byte %d: raw '>'", i)
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if unicode.IsControl(r) && r != '\n' {
				return "", fmt.Errorf("byte %d: control character %U", i, r)
			}
			out.WriteRune(r)
			i += n
		}
	}
	if open != "" {
		return "", fmt.Errorf("<%s> is not closed", open)
	}
	return out.String(), nil
}

var htmlEntities = map[string]rune{"&amp;": '&', "&lt;": '<', "&gt;": '>', "&quot;": '"'}

// htmlEntity decodes the entity at the start of s.
func htmlEntity(s string) (rune, int, error) {
	for e, r := range htmlEntities {
		if strings.HasPrefix(s, e) {
			return r, len(e), nil
		}
	}
	return 0, 0, fmt.Errorf("bad entity %.8q", s)
}

// htmlTag reads the tag at the start of s, tracking the open tag.
func htmlTag(s string, open *string) (int, error) {
	end := strings.IndexByte(s, '>')
	if end < 0 {
		return 0, errors.New("unclosed tag")
	}
	tag := s[1:end]
	switch {
	case tag == "/b" || tag == "/a":
		if *open != tag[1:] {
			return 0, fmt.Errorf("<%s> closes <%s>", tag, *open)
		}
		*open = ""
	case *open != "":
		return 0, fmt.Errorf("<%s> inside <%s>", tag, *open)
	case tag == "b":
		*open = "b"
	case strings.HasPrefix(tag, `a href="`) && strings.HasSuffix(tag, `"`) && len(tag) > len(`a href=""`):
		if err := checkHref(tag[len(`a href="`) : len(tag)-1]); err != nil {
			return 0, err
		}
		*open = "a"
	default:
		return 0, fmt.Errorf("tag <%s> not allowed", tag)
	}
	return end + 1, nil
}

// checkHref checks an escaped href value and the URL it stands for.
func checkHref(v string) error {
	var url strings.Builder
	for i := 0; i < len(v); {
		switch c := v[i]; {
		case c == '&':
			r, n, err := htmlEntity(v[i:])
			if err != nil {
				return fmt.Errorf("href: %w", err)
			}
			url.WriteRune(r)
			i += n
		case c == '"' || c == '<' || c == '>':
			return fmt.Errorf("href: raw %q", c)
		default:
			url.WriteByte(c)
			i++
		}
	}
	if !strings.HasPrefix(url.String(), "https://") && !strings.HasPrefix(url.String(), "http://") {
		return fmt.Errorf("href %q is not http(s)", url.String())
	}
	if strings.ContainsFunc(url.String(), func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return fmt.Errorf("href %q has whitespace or control characters", url.String())
	}
	return nil
}

// TestParseTelegramHTML keeps the validator honest: the fuzz test is only
// as good as what it rejects.
func TestParseTelegramHTML(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{`a &amp; <b>b&lt;</b> <a href="https://x.pl/?a&amp;b=&quot;">c</a>`, `a & b< c`, true},
		{"x\ny", "x\ny", true},
		{"a < b", "", false},
		{"a > b", "", false},
		{"a & b", "", false},
		{"&nbsp;", "", false},
		{"&#39;", "", false},
		{"<i>x</i>", "", false},
		{"<b>x", "", false},
		{"x</b>", "", false},
		{"<b><b>x</b></b>", "", false},
		{"<b>x</a>", "", false},
		{`<a href="https://x.pl/"a">x</a>`, "", false},
		{`<a href='https://x.pl/'>x</a>`, "", false},
		{`<a href="javascript:x">x</a>`, "", false},
		{`<a href="">x</a>`, "", false},
		{"<b", "", false},
		{"a\x00b", "", false},
		{"a\xffb", "", false},
	}
	for _, tt := range tests {
		got, err := parseTelegramHTML(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseTelegramHTML(%q) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// Pieces the fuzzer builds docs from: the characters that break naive
// formatters (markup, entities, surrogate pairs, joiners, invisible and
// control characters, invalid UTF-8) and words long enough to be cut.
var (
	fuzzTexts = []string{
		"a", "word", "słowo", "слово", "Gdańsk", "&", "<", ">", `"`, "'", "&amp;", "<b>", "</a>", "&lt;",
		"😀", "👨‍👩‍👧", "🇵🇱", "👍🏽", "é", "e\u0301", " ", "  ", "\n", "\n\n", "\u00a0", "\u200b", "\u2800",
		"\r\n", "\x00", "\t", "\xff", "\xed\xa0\x80", "Konstantynopolitańczykowianeczka", "https://x.pl/?a=1&b=2",
	}
	fuzzURLs = []string{
		"https://www.gov.pl/web/udsc", `https://x.pl/?a=1&b="2"<3>`, "https://пример.рф/путь", "http://x.pl",
		"javascript:alert(1)", "https://a b", "https://x\x00y", "https://x\xffy", "", "https://",
	}
)

// fuzzDoc builds a doc from data, one instruction per byte: the low three
// bits pick what to add, the rest which piece. Raw bytes from data become
// text too, so the fuzzer can try any string.
func fuzzDoc(data []byte) markup.Doc {
	var d markup.Doc
	last := func() *markup.Block {
		if len(d.Blocks) == 0 {
			d.Blocks = append(d.Blocks, markup.Block{})
		}
		return &d.Blocks[len(d.Blocks)-1]
	}
	add := func(sp markup.Span) {
		b := last()
		if len(b.Lines) == 0 {
			b.Lines = append(b.Lines, nil)
		}
		b.Lines[len(b.Lines)-1] = append(b.Lines[len(b.Lines)-1], sp)
	}
	for i := 0; i < len(data); i++ {
		op, arg := data[i]&7, int(data[i]>>3)
		text := fuzzTexts[arg%len(fuzzTexts)]
		switch op {
		case 0:
			d.Blocks = append(d.Blocks, markup.Block{Kind: markup.Paragraph})
		case 1:
			d.Blocks = append(d.Blocks, markup.Block{Kind: markup.List})
		case 2:
			last().Lines = append(last().Lines, nil)
		case 3:
			add(markup.Span{Kind: markup.Text, Text: text})
		case 4:
			add(markup.Span{Kind: markup.Bold, Text: text})
		case 5:
			add(markup.Span{Kind: markup.Link, Text: text, URL: fuzzURLs[arg%len(fuzzURLs)]})
		case 6:
			n := min(arg%16, len(data)-i-1)
			add(markup.Span{Kind: markup.Text, Text: string(data[i+1 : i+1+n])})
			i += n
		case 7:
			add(markup.Span{Kind: markup.Text, Text: strings.Repeat(text, arg%8+1)})
		}
	}
	return d
}

// shownText is what Telegram shows for d, independently of how Format
// lays it out: every span's characters, link URLs that cannot be links
// written out after their labels, a bullet for each list item unless the
// whole list is empty.
func shownText(d markup.Doc) string {
	var b strings.Builder
	for _, blk := range d.Blocks {
		if emptyBlock(blk) {
			continue
		}
		for _, line := range blk.Lines {
			if blk.Kind == markup.List {
				b.WriteString("•")
			}
			for _, sp := range line {
				label := sp.Text
				if sp.Kind == markup.Link && label == "" {
					label = sp.URL
				}
				if sp.Kind == markup.Link && !linkURL(sp.URL) && label != sp.URL {
					label += " (" + sp.URL + ")"
				}
				b.WriteString(string([]rune(label))) // invalid UTF-8 as U+FFFD, span by span

			}
		}
	}
	return b.String()
}

// nonBlank is s without the characters Telegram strips or shows as
// nothing.
func nonBlank(s string) string {
	return strings.Map(func(r rune) rune {
		if blank(r) {
			return -1
		}
		return r
	}, s)
}

// FuzzFormat checks, for random docs and limits, that every part is
// valid Telegram HTML within the limit, that no visible character is
// lost, and that buttons go on the last part only. Run it with
// go test ./bot/telegram -run '^$' -fuzz FuzzFormat -fuzztime 1m.
func FuzzFormat(f *testing.F) {
	f.Add([]byte{3, 4 | 8, 2, 5 | 16, 1, 3 | 40, 2, 7 | 250}, uint8(10))
	f.Add([]byte("\x06<b>x & y\x06\xf0\x9f\x98\x80\x00\x01\x05\x0d\x07\x9f"), uint8(3))
	f.Add([]byte{7 | 0xf8, 7 | 0xf0, 0, 4 | 0x80, 5 | 0x88, 3 | 0x70}, uint8(0))
	f.Add([]byte{1, 3 | 24, 2, 5 | 8, 2, 4 | 32}, uint8(254))
	f.Add([]byte("12"), uint8(25)) // a list of one empty item
	buttons := [][]bot.Button{{{Label: "Tak", Data: "fb:up"}}, {{Label: "Menu", Data: "menu"}}}
	f.Fuzz(func(t *testing.T, data []byte, limit uint8) {
		d := fuzzDoc(data)
		lim := 2 + int(limit)
		parts := formatParts(bot.Message{Doc: d, Buttons: buttons}, lim)
		checkParts(t, partTexts(parts), lim)
		var shown strings.Builder
		for i, p := range parts {
			visible, _ := parseTelegramHTML(p.Text)
			shown.WriteString(visible)
			wantButtons := i == len(parts)-1
			if (p.Buttons != nil) != wantButtons || (wantButtons && !cmp.Equal(p.Buttons, buttons)) {
				t.Errorf("part %d of %d has buttons %v", i+1, len(parts), p.Buttons)
			}
		}
		if got, want := nonBlank(shown.String()), nonBlank(shownText(d)); got != want {
			t.Errorf("visible text changed:\n got %q\nwant %q", got, want)
		}
	})
}
