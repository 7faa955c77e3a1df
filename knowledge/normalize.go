package knowledge

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Fold turns text in any of the bot's languages and scripts into a common
// spelling skeleton, so that a Polish term written in Cyrillic, Ukrainian
// typed in Latin letters and Polish without diacritics meet the same words
// in the FAQ: "карта побиту", "karta pobytu" and "Kartа Pobytu!" all fold
// to "karta pobitu".
//
// Steps: Unicode NFKC; case folding; apostrophes (', ’, ʼ …) dropped, since
// Ukrainian writes the same word with any of them or none; Polish and
// other Latin diacritics removed; Cyrillic transliterated letter by letter
// into Polish-style Latin; finally letters that migrants spell
// interchangeably merged (sz/ш/sh→s, cz/ч/ch→c, rz/ż/ж→z, y/и/ы/і/j→i,
// v/в→w, doubled letters→one). Everything that is not a letter or digit
// becomes a single space. The skeleton is for matching only, never shown.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	foldInto(&b, s)
	return b.String()
}

// foldInto appends the folded form of s to b.
func foldInto(b *strings.Builder, s string) {
	if needsNFKC(s) {
		s = norm.NFKC.String(s)
	}
	out := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z' && r != 'j' && r != 'q' && r != 'v' && r != 'x' && r != 'y',
			r >= '0' && r <= '9':
			out = push(out, r) // the common case, without the table below
			continue
		case r >= 'A' && r <= 'Z':
			r += 'a' - 'A'
		case r >= 0x410 && r <= 0x42F: // Cyrillic А–Я
			r += 0x20
		case r >= 0x400 && r <= 0x40F: // Cyrillic Ѐ–Џ (Є, І, Ї, Ё …)
			r += 0x50
		case r >= 0x80:
			r = unicode.ToLower(r)
		}
		if isApostrophe(r) {
			continue
		}
		for _, o := range letter(r) {
			out = push(out, o)
		}
	}
	for len(out) > 0 && out[len(out)-1] == ' ' {
		out = out[:len(out)-1]
	}
	b.Write(out)
}

// push appends r to the skeleton, merging it with the letters before it:
// two-letter spellings of one sound become one letter, doubled letters one
// ("adress" meets "address"), runs of spaces one space. Merging repeats
// because a merged letter can pair with the one before it ("srz" → "sz" →
// "s"), which keeps Fold idempotent. Letters of other scripts are kept as
// they are.
func push(out []byte, r rune) []byte {
	if r >= utf8.RuneSelf {
		return utf8.AppendRune(out, r)
	}
	c := byte(r)
	if c == ' ' && (len(out) == 0 || out[len(out)-1] == ' ') {
		return out
	}
	out = append(out, c)
	for n := len(out); n >= 2; n = len(out) {
		a, z := out[n-2], out[n-1]
		if m := digraph(a, z); m != 0 {
			out = append(out[:n-2], m)
			continue
		}
		if a == z && a != ' ' && (a < '0' || a > '9') {
			out = out[:n-1]
			continue
		}
		break
	}
	return out
}

// digraph merges two-letter spellings of one sound: Polish sz, cz, rz and
// the English-style sh, zh, kh, ch, ts used for Russian and Ukrainian in
// Latin letters ("poluchit" meets "получить"). It returns 0 when a and z
// are not such a pair.
func digraph(a, z byte) byte {
	switch {
	case a == 's' && (z == 'z' || z == 'h'):
		return 's'
	case a == 'c' && (z == 'z' || z == 'h'), a == 't' && z == 's':
		return 'c'
	case a == 'r' && z == 'z', a == 'z' && z == 'h':
		return 'z'
	case a == 'k' && z == 'h':
		return 'h'
	}
	return 0
}

// letter folds one lower-case rune to zero or more skeleton letters.
func letter(r rune) string {
	switch r {
	// Latin letters migrants swap freely.
	case 'y', 'j':
		return "i"
	case 'v':
		return "w"
	case 'x':
		return "ks"
	case 'q':
		return "k"
	// Polish letters with diacritics that NFD does not decompose.
	case 'ł':
		return "l"
	case 'ß':
		return "s"
	// Cyrillic (Ukrainian and Russian) in Polish-style spelling.
	case 'а':
		return "a"
	case 'б':
		return "b"
	case 'в':
		return "w"
	case 'г', 'ґ':
		return "g"
	case 'д':
		return "d"
	case 'е', 'э':
		return "e"
	case 'є':
		return "ie"
	case 'ё':
		return "io"
	case 'ж', 'з':
		return "z"
	case 'и', 'і', 'ы', 'й':
		return "i"
	case 'ї':
		return "ii"
	case 'к':
		return "k"
	case 'л':
		return "l"
	case 'м':
		return "m"
	case 'н':
		return "n"
	case 'о':
		return "o"
	case 'п':
		return "p"
	case 'р':
		return "r"
	case 'с':
		return "s"
	case 'т':
		return "t"
	case 'у':
		return "u"
	case 'ф':
		return "f"
	case 'х':
		return "h"
	case 'ц', 'ч':
		return "c"
	case 'ш':
		return "s"
	case 'щ':
		return "sc"
	case 'ъ', 'ь':
		return ""
	case 'ю':
		return "iu"
	case 'я':
		return "ia"
	}
	if r < 0x80 {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			return string(r)
		}
		return " "
	}
	// Other Latin letters with diacritics (ą, ę, ó, ś, é, ü …): drop the marks.
	if unicode.Is(unicode.Latin, r) {
		base := []rune(norm.NFD.String(string(r)))[0]
		if base < 0x80 {
			return letter(base)
		}
	}
	if unicode.IsLetter(r) || unicode.IsDigit(r) {
		return string(r) // other scripts pass through unchanged
	}
	return " " // punctuation, symbols, emoji
}

// needsNFKC reports whether s has characters that NFKC changes: combining
// marks, compatibility forms (ligatures, full-width letters, superscripts)
// and the like. Plain Latin, Polish and Cyrillic text is left as it is,
// which spares the normaliser on almost every message.
func needsNFKC(s string) bool {
	for _, r := range s {
		switch {
		case r < 0xA0:
		case r >= 0xC0 && r < 0x300: // Latin-1 letters, Latin Extended-A/B
		case r >= 0x370 && r < 0x2000: // Greek, Cyrillic and other scripts
		default:
			return true
		}
	}
	return false
}

func isApostrophe(r rune) bool {
	switch r {
	case '\'', '’', 'ʼ', '‘', '`', '´', 'ʹ', '′':
		return true
	}
	return false
}
