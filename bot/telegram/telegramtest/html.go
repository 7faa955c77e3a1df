package telegramtest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf16"

	"github.com/go-telegram/bot/models"
)

// ParseHTML parses text the way Telegram parses a message sent with
// parse_mode HTML and returns the visible text and its entities (offsets and
// lengths in UTF-16 code units). Tests can call it directly to check that
// rendered text is valid before it ever reaches a server.
//
// It follows the parser of Telegram's own Bot API server (tdlib's
// parse_html): the same tags (b strong i em u ins s strike del a code pre
// tg-spoiler blockquote span), the same rules for attributes and nesting,
// and the same error messages with byte offsets into text. It is stricter
// in one way, on purpose: tdlib keeps a "&" that does not start &lt; &gt;
// &amp; &quot; or a numeric entity as a literal "&", but a text that relies
// on that renders "&lt" or "&copy;" wrongly, so here it is an error. Inside
// attribute values (typically URLs) a bare "&" is accepted.
func ParseHTML(text string) (string, []models.MessageEntity, error) {
	p := htmlParser{src: text}
	for p.i < len(text) {
		var err error
		switch text[p.i] {
		case '&':
			err = p.entity()
		case '<':
			err = p.tag()
		default:
			p.plain()
		}
		if err != nil {
			return "", nil, err
		}
	}
	if n := len(p.open); n > 0 {
		return "", nil, fmt.Errorf("Can't find end tag corresponding to start tag \"%s\"", p.open[n-1].name)
	}
	slices.SortStableFunc(p.entities, func(a, b models.MessageEntity) int {
		if a.Offset != b.Offset {
			return a.Offset - b.Offset
		}
		return b.Length - a.Length
	})
	return p.out.String(), p.entities, nil
}

// Error messages below start with a capital letter and mention byte offsets
// because they reproduce Telegram's descriptions word for word.

// htmlParser holds the state of one ParseHTML call.
type htmlParser struct {
	src      string
	i        int             // next byte of src
	out      strings.Builder // visible text
	u16      int             // length of out in UTF-16 code units
	open     []openTag
	entities []models.MessageEntity
}

type openTag struct {
	name       string
	arg        string // href of <a>, language of <code class="language-…"> or <pre>
	start      int    // UTF-16 offset of the tag's content
	expandable bool   // <blockquote expandable>
}

// plain copies one byte of text, counting UTF-16 code units by the first
// byte of each UTF-8 sequence (4-byte sequences become surrogate pairs).
func (p *htmlParser) plain() {
	c := p.src[p.i]
	p.out.WriteByte(c)
	switch {
	case c&0xC0 == 0x80: // continuation byte
	case c >= 0xF0:
		p.u16 += 2
	default:
		p.u16++
	}
	p.i++
}

func (p *htmlParser) entity() error {
	r, n := decodeEntity(p.src[p.i:])
	if n == 0 {
		return p.entityError()
	}
	if !validRune(r) {
		return errors.New("Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units")
	}
	p.out.WriteRune(r)
	p.u16 += utf16.RuneLen(r)
	p.i += n
	return nil
}

func (p *htmlParser) entityError() error {
	rest := p.src[p.i:]
	if end := strings.IndexByte(rest, ';'); end > 1 && end <= 32 && !strings.ContainsAny(rest[1:end], " \t\r\n<&") {
		return fmt.Errorf("Unsupported HTML entity \"%s\" at byte offset %d; only &lt; &gt; &amp; &quot; and numeric entities are supported", rest[:end+1], p.i)
	}
	return fmt.Errorf("Unescaped \"&\" at byte offset %d; write it as &amp;", p.i)
}

func (p *htmlParser) tag() error {
	begin := p.i
	p.i++
	if p.i < len(p.src) && p.src[p.i] == '/' {
		return p.endTag(begin)
	}
	return p.startTag(begin)
}

func (p *htmlParser) startTag(begin int) error {
	s := p.src
	j := p.i
	for j < len(s) && !isSpace(s[j]) && s[j] != '>' {
		j++
	}
	if j == len(s) {
		return fmt.Errorf("Unclosed start tag at byte offset %d", begin)
	}
	name := strings.ToLower(s[p.i:j])
	if !supportedTag(name) {
		return fmt.Errorf("Unsupported start tag \"%s\" at byte offset %d", name, begin)
	}
	p.i = j
	tag := openTag{name: name, start: p.u16}
	class := ""
	for {
		p.skipSpaces()
		if p.i == len(s) {
			return fmt.Errorf("Unclosed start tag \"%s\" at byte offset %d", name, begin)
		}
		if s[p.i] == '>' {
			break
		}
		attr, value, err := p.attribute(name, begin)
		if err != nil {
			return err
		}
		switch {
		case name == "a" && attr == "href":
			tag.arg = value
		case name == "code" && attr == "class" && strings.HasPrefix(value, "language-"):
			tag.arg = strings.TrimPrefix(value, "language-")
		case name == "span" && attr == "class":
			class = value
		case name == "blockquote" && attr == "expandable":
			tag.expandable = true
		}
	}
	p.i++ // '>'
	if name == "span" && class != "tg-spoiler" {
		return fmt.Errorf("Tag \"span\" must have class \"tg-spoiler\" at byte offset %d", begin)
	}
	p.open = append(p.open, tag)
	return nil
}

// attribute reads one name=value pair at p.i; the value is quoted, or a bare
// token of letters, digits, dots and dashes. <blockquote expandable> is the
// one attribute without a value.
func (p *htmlParser) attribute(tag string, begin int) (name, value string, err error) {
	s := p.src
	start := p.i
	for p.i < len(s) && !isSpace(s[p.i]) && s[p.i] != '=' && s[p.i] != '>' {
		p.i++
	}
	name = strings.ToLower(s[start:p.i])
	if name == "" {
		return "", "", fmt.Errorf("Empty attribute name in the tag \"%s\" at byte offset %d", tag, begin)
	}
	p.skipSpaces()
	if p.i == len(s) || s[p.i] != '=' {
		if tag == "blockquote" && name == "expandable" {
			return name, "", nil
		}
		return "", "", fmt.Errorf("Expected equal sign in declaration of an attribute of the tag \"%s\" at byte offset %d", tag, begin)
	}
	p.i++
	p.skipSpaces()
	if p.i == len(s) {
		return "", "", fmt.Errorf("Unclosed start tag \"%s\" at byte offset %d", tag, begin)
	}
	if q := s[p.i]; q == '"' || q == '\'' {
		end := strings.IndexByte(s[p.i+1:], q)
		if end < 0 {
			return "", "", fmt.Errorf("Unclosed start tag at byte offset %d", begin)
		}
		value = decodeAttribute(s[p.i+1 : p.i+1+end])
		p.i += end + 2
		return name, value, nil
	}
	start = p.i
	for p.i < len(s) && isNameByte(s[p.i]) {
		p.i++
	}
	if p.i == len(s) || (!isSpace(s[p.i]) && s[p.i] != '>') {
		return "", "", fmt.Errorf("Unexpected end of name token at byte offset %d", start)
	}
	return name, s[start:p.i], nil
}

func (p *htmlParser) endTag(begin int) error {
	if len(p.open) == 0 {
		return fmt.Errorf("Unexpected end tag at byte offset %d", begin)
	}
	s := p.src
	j := p.i + 1 // after "</"
	for j < len(s) && !isSpace(s[j]) && s[j] != '>' {
		j++
	}
	name := s[p.i+1 : j]
	for j < len(s) && isSpace(s[j]) {
		j++
	}
	if j == len(s) || s[j] != '>' {
		return fmt.Errorf("Unclosed end tag at byte offset %d", begin)
	}
	top := p.open[len(p.open)-1]
	if name != "" && strings.ToLower(name) != top.name {
		return fmt.Errorf("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", begin, top.name, name)
	}
	p.open = p.open[:len(p.open)-1]
	p.i = j + 1
	p.closeEntity(top)
	return nil
}

// closeEntity turns a closed tag into an entity; empty tags make none.
func (p *htmlParser) closeEntity(t openTag) {
	if n := len(p.open); t.name == "code" && t.arg != "" && n > 0 && p.open[n-1].name == "pre" {
		p.open[n-1].arg = t.arg // <pre><code class="language-go"> is one pre entity
		return
	}
	length := p.u16 - t.start
	if length == 0 || (t.name == "a" && t.arg == "") {
		return
	}
	e := models.MessageEntity{Type: entityType(t.name), Offset: t.start, Length: length}
	switch {
	case t.name == "a":
		e.URL = t.arg
	case t.name == "pre":
		e.Language = t.arg
	case t.expandable:
		e.Type = models.MessageEntityTypeExpandableBlockquote
	}
	p.entities = append(p.entities, e)
}

func (p *htmlParser) skipSpaces() {
	for p.i < len(p.src) && isSpace(p.src[p.i]) {
		p.i++
	}
}
