package telegram

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
	"github.com/witaj/witaj/knowledge/markup"
	"github.com/witaj/witaj/locales"
)

// updateFormat is the -update flag that rewrites golden files. Other test
// files of this package may define -update too; defining a flag twice
// panics, so whichever file comes first defines it and the rest reuse it.
var updateFormat = lookupOrDefineBool("update", "rewrite golden files in testdata")

func lookupOrDefineBool(name, usage string) func() bool {
	if f := flag.Lookup(name); f != nil {
		return func() bool { return f.Value.String() == "true" }
	}
	p := flag.Bool(name, false, usage)
	return func() bool { return *p }
}

func docOf(blocks ...markup.Block) markup.Doc { return markup.Doc{Blocks: blocks} }

func paraBlock(lines ...markup.Line) markup.Block {
	return markup.Block{Kind: markup.Paragraph, Lines: lines}
}

func listBlock(lines ...markup.Line) markup.Block {
	return markup.Block{Kind: markup.List, Lines: lines}
}

func lineOf(spans ...markup.Span) markup.Line { return spans }

func plainSpan(s string) markup.Span { return markup.Span{Kind: markup.Text, Text: s} }
func boldSpan(s string) markup.Span  { return markup.Span{Kind: markup.Bold, Text: s} }
func linkSpan(label, url string) markup.Span {
	return markup.Span{Kind: markup.Link, Text: label, URL: url}
}

// textDoc is a one-paragraph, one-line doc.
func textDoc(spans ...markup.Span) markup.Doc { return docOf(paraBlock(lineOf(spans...))) }

func partTexts(parts []Part) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p.Text)
	}
	return out
}

func TestFormatEscaping(t *testing.T) {
	tests := []struct {
		name string
		doc  markup.Doc
		want []string
	}{
		{"script tag", textDoc(plainSpan(`<script>alert("x")</script>`)),
			[]string{`&lt;script&gt;alert("x")&lt;/script&gt;`}},
		{"an entity is text", textDoc(plainSpan("Tom &amp; Jerry & co")),
			[]string{"Tom &amp;amp; Jerry &amp; co"}},
		{"a tag in bold", textDoc(boldSpan("</b><i>x</i>")),
			[]string{"<b>&lt;/b&gt;&lt;i&gt;x&lt;/i&gt;</b>"}},
		{"quotes in a URL", textDoc(linkSpan(`the "form"`, `https://x.pl/?a=1&b="2"&c=<3>`)),
			[]string{`<a href="https://x.pl/?a=1&amp;b=&quot;2&quot;&amp;c=&lt;3&gt;">the "form"</a>`}},
		{"an apostrophe in a URL", textDoc(linkSpan("it's", "https://x.pl/it's")),
			[]string{`<a href="https://x.pl/it's">it's</a>`}},
		{"bare URL", textDoc(linkSpan("https://www.gov.pl/web/udsc", "https://www.gov.pl/web/udsc")),
			[]string{`<a href="https://www.gov.pl/web/udsc">https://www.gov.pl/web/udsc</a>`}},
		{"empty label shows the URL", textDoc(linkSpan("", "https://x.pl")),
			[]string{`<a href="https://x.pl">https://x.pl</a>`}},
		{"Cyrillic URL", textDoc(linkSpan("сайт", "https://пример.рф/путь?q=а&b")),
			[]string{`<a href="https://пример.рф/путь?q=а&amp;b">сайт</a>`}},
		{"javascript link is text", textDoc(linkSpan("click", "javascript:alert(1)")),
			[]string{"click (javascript:alert(1))"}},
		{"URL with a NUL is text", textDoc(linkSpan("x", "https://x.pl/\x00<")),
			[]string{"x (https://x.pl/ &lt;)"}},
		{"emoji", textDoc(plainSpan("Dzięki 🙂👍🏽 🇵🇱 👨‍👩‍👧")),
			[]string{"Dzięki 🙂👍🏽 🇵🇱 👨‍👩‍👧"}},
		{"Cyrillic", textDoc(boldSpan("Посвідка на проживання"), plainSpan(" — що робити?")),
			[]string{"<b>Посвідка на проживання</b> — що робити?"}},
		{"Polish", textDoc(plainSpan("Zażółć gęślą jaźń & "), boldSpan("ŻÓŁW")),
			[]string{"Zażółć gęślą jaźń &amp; <b>ŻÓŁW</b>"}},
		{"invalid UTF-8", textDoc(plainSpan("a\xffb")), []string{"a\uFFFDb"}},
		{"control characters", textDoc(plainSpan("a\x00b\x1bc\r\nd")), []string{"a b c\nd"}},
		{"blocks, lines and a list",
			docOf(
				paraBlock(lineOf(boldSpan("Title")), lineOf(plainSpan("second line"))),
				markup.Block{Kind: markup.Paragraph},
				listBlock(lineOf(plainSpan("one")), lineOf(plainSpan("two "), linkSpan("link", "https://x.pl"))),
			),
			[]string{"<b>Title</b>\nsecond line\n\n• one\n• two <a href=\"https://x.pl\">link</a>"}},
		{"adjacent bold spans merge", textDoc(boldSpan("a"), boldSpan("b"), plainSpan("c")),
			[]string{"<b>ab</b>c"}},
		{"blank edges are trimmed", docOf(paraBlock(lineOf(plainSpan("  \u200b")), lineOf(plainSpan(" x \u00a0")))),
			[]string{"x"}},
		{"empty", markup.Doc{}, nil},
		{"only blank", docOf(paraBlock(lineOf(plainSpan(" \n\u200b\u00a0")), lineOf(boldSpan("\u2800")))), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := partTexts(Format(bot.Message{Doc: tt.doc}))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Format: parts differ (-want +got):\n%s", diff)
			}
			for _, p := range got {
				if _, err := parseTelegramHTML(p); err != nil {
					t.Errorf("Format produced invalid Telegram HTML %q: %v", p, err)
				}
			}
		})
	}
}

func TestFormatSplit(t *testing.T) {
	long := strings.Repeat("ab", 6) // 12 characters, no space
	tests := []struct {
		name  string
		doc   markup.Doc
		limit int
		want  []string
	}{
		{"fits", textDoc(plainSpan("hello world")), 11, []string{"hello world"}},
		{"between blocks",
			docOf(paraBlock(lineOf(plainSpan("first para"))), paraBlock(lineOf(plainSpan("second para")))), 15,
			[]string{"first para", "second para"}},
		{"blocks before lines",
			docOf(paraBlock(lineOf(plainSpan("aaaa")), lineOf(plainSpan("bbbbbbbb"))), paraBlock(lineOf(plainSpan("cc")))), 16,
			[]string{"aaaa\nbbbbbbbb", "cc"}},
		{"between lines",
			docOf(listBlock(lineOf(plainSpan("one")), lineOf(plainSpan("two")), lineOf(plainSpan("three")))), 12,
			[]string{"• one\n• two", "• three"}},
		{"between words", textDoc(plainSpan("one two three four")), 9,
			[]string{"one two", "three", "four"}},
		{"a break right after what fits", textDoc(plainSpan("abcd efgh")), 4,
			[]string{"abcd", "efgh"}},
		{"inside a word", textDoc(plainSpan(long)), 5, []string{"ababa", "babab", "ab"}},
		{"a late word beats an early block",
			docOf(paraBlock(lineOf(boldSpan("Title"))), paraBlock(lineOf(plainSpan("aaa bbb ccc ddd eee fff")))), 20,
			[]string{"<b>Title</b>\n\naaa bbb ccc", "ddd eee fff"}},
		{"an early block beats a cut word",
			docOf(paraBlock(lineOf(plainSpan("a b"))), paraBlock(lineOf(plainSpan(long)))), 10,
			[]string{"a b", "ababababab", "ab"}},
		{"a colon stays with what it introduces",
			docOf(paraBlock(lineOf(plainSpan("one two three"))), paraBlock(lineOf(plainSpan("Sources:"))),
				listBlock(lineOf(plainSpan("a")), lineOf(plainSpan("b")))), 26,
			[]string{"one two three", "Sources:\n\n• a\n• b"}},
		{"bold reopened", textDoc(plainSpan("x "), boldSpan("bold words here"), plainSpan(" y")), 10,
			[]string{"x <b>bold</b>", "<b>words here</b>", "y"}},
		{"link reopened", textDoc(linkSpan("a long label", "https://x.pl/?a&b")), 7,
			[]string{`<a href="https://x.pl/?a&amp;b">a long</a>`, `<a href="https://x.pl/?a&amp;b">label</a>`}},
		{"a cut word in bold", textDoc(boldSpan(long)), 8,
			[]string{"<b>abababab</b>", "<b>abab</b>"}},
		{"entities count once", textDoc(plainSpan("&&& <<<")), 7, []string{"&amp;&amp;&amp; &lt;&lt;&lt;"}},
		{"a surrogate pair is never cut", textDoc(plainSpan("abcd😀😀")), 5, []string{"abcd", "😀😀"}},
		{"a flag stays whole", textDoc(plainSpan("abc🇵🇱de")), 6, []string{"abc", "🇵🇱de"}},
		{"an accent stays with its letter", textDoc(plainSpan("abce\u0301f")), 4, []string{"abc", "e\u0301f"}},
		{"no-break space does not split", textDoc(plainSpan("ab 12\u00a0zł")), 7, []string{"ab", "12\u00a0zł"}},
		{"the bullet stays with its item", docOf(listBlock(lineOf(plainSpan("abcdef")))), 3,
			[]string{"• a", "bcd", "ef"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := partTexts(formatParts(bot.Message{Doc: tt.doc}, tt.limit))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("formatParts(limit %d): parts differ (-want +got):\n%s", tt.limit, diff)
			}
			checkParts(t, got, tt.limit)
		})
	}
}

func TestFormatButtonsOnLastPart(t *testing.T) {
	buttons := [][]bot.Button{{{Label: "Tak", Data: "fb:up"}, {Label: "Nie", Data: "fb:down"}}}
	doc := docOf(paraBlock(lineOf(plainSpan("first"))), paraBlock(lineOf(plainSpan("second"))))
	got := formatParts(bot.Message{Doc: doc, Buttons: buttons}, 6)
	want := []Part{{Text: "first"}, {Text: "second", Buttons: buttons}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parts differ (-want +got):\n%s", diff)
	}
	if got := Format(bot.Message{Buttons: buttons}); got != nil {
		t.Errorf("Format(empty doc with buttons) = %v, want no parts", got)
	}
}

// checkParts checks what every part must satisfy: valid Telegram HTML,
// at most limit UTF-16 code units of visible text, not blank.
func checkParts(t *testing.T, texts []string, limit int) {
	t.Helper()
	for i, text := range texts {
		visible, err := parseTelegramHTML(text)
		if err != nil {
			t.Errorf("part %d is not valid Telegram HTML: %v\n%s", i+1, err, text)
			continue
		}
		if n := len(utf16.Encode([]rune(visible))); n > limit {
			t.Errorf("part %d has %d characters, more than %d:\n%s", i+1, n, limit, text)
		}
		if strings.TrimFunc(visible, blank) != visible || visible == "" {
			t.Errorf("part %d is blank or not trimmed: %q", i+1, visible)
		}
	}
}

// TestFormatGolden formats real answers from the shipped FAQ, rendered as
// the bot renders them, and pins the parts in testdata/format/*.golden
// (refresh with -update).
func TestFormatGolden(t *testing.T) {
	kb, _, err := knowledge.Load(knowledge.DefaultFS(), knowledge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	r := bot.NewRenderer(kb, cat)
	answer := func(id string, lang knowledge.Lang, stale bool) bot.Message {
		t.Helper()
		m, err := r.Answer(flows.Answer{EntryID: id, Lang: lang, Stale: stale, Buttons: [][]flows.Button{
			{{LabelKey: "button.helpful", Data: "up:" + id}, {LabelKey: "button.not_helpful", Data: "down:" + id}},
			{{LabelKey: "button.menu", Data: "menu"}, {LabelKey: "button.human", Data: "human"}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	// No shipped answer reaches 4096 characters, so the real limit is
	// shown on a whole category in one message; smaller limits show how
	// single answers would split.
	helpAll := answer("help.contact", knowledge.EN, false)
	helpAll.Doc = markup.Doc{}
	for _, e := range kb.InCategory(knowledge.Help) {
		helpAll.Doc = helpAll.Doc.Append(answer(e.ID, knowledge.EN, false).Doc)
	}
	// The alert a Ukrainian subscriber of work.permit got when its
	// version 5 (with a change note) was published.
	alert, err := r.Alert(flows.Alert{EntryID: "work.permit", Lang: knowledge.UK, Buttons: [][]flows.Button{
		{{LabelKey: "button.full_answer", Data: "topic:work.permit"}}, {{LabelKey: "button.stop_alerts", Data: "unsub:work.permit"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		msg   bot.Message
		limit int
	}{
		{"alert-work-permit-uk", alert, formatLimit},
		{"study-residence-uk", answer("legal.study-residence", knowledge.UK, false), formatLimit},
		{"study-residence-ru-700", answer("legal.study-residence", knowledge.RU, false), 700},
		{"insurance-pl-stale-300", answer("health.insurance", knowledge.PL, true), 300},
		{"help-category-en", helpAll, formatLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts := formatParts(tt.msg, tt.limit)
			checkParts(t, partTexts(parts), tt.limit)
			checkGolden(t, filepath.Join("testdata", "format", tt.name+".golden"), goldenParts(parts, tt.limit))
		})
	}
}

func goldenParts(parts []Part, limit int) []byte {
	var b strings.Builder
	for i, p := range parts {
		visible, _ := parseTelegramHTML(p.Text)
		fmt.Fprintf(&b, "=== part %d of %d: %d of %d characters ===\n%s\n",
			i+1, len(parts), len(utf16.Encode([]rune(visible))), limit, p.Text)
		for _, row := range p.Buttons {
			b.WriteString("[buttons]")
			for _, btn := range row {
				fmt.Fprintf(&b, " [%s | %s]", btn.Label, btn.Data)
			}
			b.WriteString("\n")
		}
	}
	return []byte(b.String())
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if updateFormat() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

// TestFormatSameOnce: an answer is formatted once and shared, yet each
// user gets it with their own buttons, and answers in other languages,
// facets or stale states are not mixed up.
func TestFormatSameOnce(t *testing.T) {
	kb, _, err := knowledge.Load(knowledge.DefaultFS(), knowledge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cat, _ := locales.New()
	r := bot.NewRenderer(kb, cat)
	c := &Client{}
	tests := []flows.Answer{
		{EntryID: "legal.pesel", Lang: knowledge.PL},
		{EntryID: "legal.pesel", Lang: knowledge.UK},
		{EntryID: "legal.pesel", Lang: knowledge.UK, Stale: true},
		{EntryID: "legal.pesel", Lang: knowledge.UK, Facet: knowledge.FacetCost},
		{EntryID: "health.emergency", Lang: knowledge.UK},
	}
	for round := range 2 {
		for i, a := range tests {
			a.Buttons = [][]flows.Button{{{Label: fmt.Sprint("b", round, i), Data: fmt.Sprint("d", round, i)}}}
			m, err := r.Answer(a)
			if err != nil {
				t.Fatal(err)
			}
			got := c.Format(m)
			m.Same = ""
			want := c.Format(m) // formatted afresh
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("round %d, %+v (-fresh +cached):\n%s", round, a, diff)
			}
		}
	}
}
