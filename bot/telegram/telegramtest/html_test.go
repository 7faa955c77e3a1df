package telegramtest_test

import (
	"testing"

	"github.com/go-telegram/bot/models"
	"github.com/google/go-cmp/cmp"

	"github.com/witaj/witaj/bot/telegram/telegramtest"
)

func TestParseHTML(t *testing.T) {
	type ents = []models.MessageEntity
	bold := models.MessageEntityTypeBold
	italic := models.MessageEntityTypeItalic
	tests := []struct {
		in       string
		text     string
		entities ents
	}{
		{"", "", nil},
		{"plain > text", "plain > text", nil},
		{"&lt;&gt;&amp;&quot;&#65;&#x42;&#X43;", `<>&"ABC`, nil},
		{"<b>bold</b> <strong>x</strong>", "bold x", ents{{Type: bold, Offset: 0, Length: 4}, {Type: bold, Offset: 5, Length: 1}}},
		{"<B>up</B>", "up", ents{{Type: bold, Offset: 0, Length: 2}}},
		// Offsets count UTF-16 code units: the emoji is a surrogate pair.
		{"😀 <i>Привіт</i>", "😀 Привіт", ents{{Type: italic, Offset: 3, Length: 6}}},
		{"<i><b> </b> <code> </code></i>", "   ", ents{
			{Type: italic, Offset: 0, Length: 3}, {Type: bold, Offset: 0, Length: 1}, {Type: models.MessageEntityTypeCode, Offset: 2, Length: 1}}},
		{`<a href="https://x.pl/?a=1&b=2&amp;c=3">link</a>`, "link", ents{{Type: models.MessageEntityTypeTextLink, Length: 4, URL: "https://x.pl/?a=1&b=2&c=3"}}},
		{"<a href='https://x.pl'>x</a>", "x", ents{{Type: models.MessageEntityTypeTextLink, Length: 1, URL: "https://x.pl"}}},
		{"<i    aba  =  190azAz-.   >a</i>", "a", ents{{Type: italic, Length: 1}}},
		{"<i>a</>", "a", ents{{Type: italic, Length: 1}}},
		{"<i>a</i   >", "a", ents{{Type: italic, Length: 1}}},
		{"<b></b>x", "x", nil},
		{`<pre><code class="language-go">x := 1</code></pre>`, "x := 1", ents{{Type: models.MessageEntityTypePre, Length: 6, Language: "go"}}},
		{`<tg-spoiler>s</tg-spoiler><span class="tg-spoiler">t</span>`, "st", ents{
			{Type: models.MessageEntityTypeSpoiler, Offset: 0, Length: 1}, {Type: models.MessageEntityTypeSpoiler, Offset: 1, Length: 1}}},
		{"<blockquote expandable>q</blockquote>", "q", ents{{Type: models.MessageEntityTypeExpandableBlockquote, Length: 1}}},
		{"<u>u</u><ins>i</ins><s>s</s><del>d</del><strike>k</strike><em>e</em>", "uisdke", ents{
			{Type: models.MessageEntityTypeUnderline, Offset: 0, Length: 1}, {Type: models.MessageEntityTypeUnderline, Offset: 1, Length: 1},
			{Type: models.MessageEntityTypeStrikethrough, Offset: 2, Length: 1}, {Type: models.MessageEntityTypeStrikethrough, Offset: 3, Length: 1},
			{Type: models.MessageEntityTypeStrikethrough, Offset: 4, Length: 1}, {Type: italic, Offset: 5, Length: 1}}},
	}
	for _, tt := range tests {
		text, entities, err := telegramtest.ParseHTML(tt.in)
		if err != nil {
			t.Errorf("ParseHTML(%q): %v", tt.in, err)
			continue
		}
		if text != tt.text {
			t.Errorf("ParseHTML(%q) text = %q, want %q", tt.in, text, tt.text)
		}
		if diff := cmp.Diff(tt.entities, entities); diff != "" {
			t.Errorf("ParseHTML(%q) entities (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestParseHTMLErrors(t *testing.T) {
	// Most cases and messages come from tdlib's own tests of parse_html
	// (td/test/message_entities.cpp); 🏟 🏟&lt; is 13 bytes.
	tests := []struct{ in, want string }{
		{"🏟 🏟&lt;<abacaba", "Unclosed start tag at byte offset 13"},
		{"🏟 🏟&lt;<abac aba>", `Unsupported start tag "abac" at byte offset 13`},
		{"🏟 🏟&lt;<i   =aba>", `Empty attribute name in the tag "i" at byte offset 13`},
		{"🏟 🏟&lt;<i    aba>", `Expected equal sign in declaration of an attribute of the tag "i" at byte offset 13`},
		{"🏟 🏟&lt;<i    aba  =  ", `Unclosed start tag "i" at byte offset 13`},
		{"🏟 🏟&lt;<i    aba  =  190azAz-.,", "Unexpected end of name token at byte offset 27"},
		{"🏟 🏟&lt;<i    aba  =  \"&lt;&gt;&quot;>", "Unclosed start tag at byte offset 13"},
		{"🏟 🏟&lt;</", "Unexpected end tag at byte offset 13"},
		{"🏟 🏟&lt;<b></b></", "Unexpected end tag at byte offset 20"},
		{"🏟 🏟&lt;<i>a</i   ", "Unclosed end tag at byte offset 17"},
		{"🏟 🏟&lt;<i>a</em   >", `Unmatched end tag at byte offset 17, expected "</i>", found "</em>"`},
		{"&#xDFDF;", "Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units"},
		{"a < b", `Unsupported start tag "" at byte offset 2`},
		{"x <b", "Unclosed start tag at byte offset 2"},
		{"<br>", `Unsupported start tag "br" at byte offset 0`},
		{"<b>x", `Can't find end tag corresponding to start tag "b"`},
		{"<span>x</span>", `Tag "span" must have class "tg-spoiler" at byte offset 0`},
		// Stricter than tdlib on purpose: these would render wrongly.
		{"Tom & Jerry", `Unescaped "&" at byte offset 4; write it as &amp;`},
		{"R&D", `Unescaped "&" at byte offset 1; write it as &amp;`},
		{"&lt", `Unescaped "&" at byte offset 0; write it as &amp;`},
		{"&copy; 2026", `Unsupported HTML entity "&copy;" at byte offset 0; only &lt; &gt; &amp; &quot; and numeric entities are supported`},
	}
	for _, tt := range tests {
		_, _, err := telegramtest.ParseHTML(tt.in)
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseHTML(%q) error = %v, want %q", tt.in, err, tt.want)
		}
	}
}
