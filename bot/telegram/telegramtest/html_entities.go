package telegramtest

import (
	"strconv"
	"strings"

	"github.com/go-telegram/bot/models"
)

// decodeEntity decodes &lt; &gt; &amp; &quot; &#NNN; or &#xHHH; at the start
// of s and returns the character and the entity's length, or 0, 0.
func decodeEntity(s string) (rune, int) {
	end := strings.IndexByte(s, ';')
	if end < 2 || end > 12 {
		return 0, 0
	}
	switch name := s[1:end]; name {
	case "lt":
		return '<', end + 1
	case "gt":
		return '>', end + 1
	case "amp":
		return '&', end + 1
	case "quot":
		return '"', end + 1
	}
	num, found := strings.CutPrefix(s[1:end], "#")
	if !found || num == "" {
		return 0, 0
	}
	base := 10
	if hex, isHex := strings.CutPrefix(strings.ToLower(num), "x"); isHex {
		num, base = hex, 16
	}
	v, err := strconv.ParseUint(num, base, 32)
	if err != nil || num == "" {
		return 0, 0
	}
	return rune(v), end + 1
}

func validRune(r rune) bool {
	return r > 0 && r <= 0x10FFFF && (r < 0xD800 || r > 0xDFFF)
}

// decodeAttribute decodes the supported entities in an attribute value and
// keeps anything else literally.
func decodeAttribute(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); {
		if v[i] == '&' {
			if r, n := decodeEntity(v[i:]); n > 0 && validRune(r) {
				b.WriteRune(r)
				i += n
				continue
			}
		}
		b.WriteByte(v[i])
		i++
	}
	return b.String()
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-'
}

func supportedTag(name string) bool {
	return entityType(name) != ""
}

func entityType(tag string) models.MessageEntityType {
	switch tag {
	case "b", "strong":
		return models.MessageEntityTypeBold
	case "i", "em":
		return models.MessageEntityTypeItalic
	case "u", "ins":
		return models.MessageEntityTypeUnderline
	case "s", "strike", "del":
		return models.MessageEntityTypeStrikethrough
	case "tg-spoiler", "span":
		return models.MessageEntityTypeSpoiler
	case "a":
		return models.MessageEntityTypeTextLink
	case "code":
		return models.MessageEntityTypeCode
	case "pre":
		return models.MessageEntityTypePre
	case "blockquote":
		return models.MessageEntityTypeBlockquote
	}
	return ""
}
