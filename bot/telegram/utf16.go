package telegram

import (
	"strings"
	"unicode/utf16"
)

// utf16Span returns the part of s that a Telegram entity addresses with
// offset and length in UTF-16 code units, and the byte index where it
// ends. ok is false when the span lies outside s or cuts a character in
// half: such an entity is malformed and must be ignored, never sliced.
//
// Telegram counts UTF-16 code units while Go strings are UTF-8, so the
// bytes of "Привіт /help" and its entity offset 7 disagree; go-telegram's
// own command matcher slices bytes and misses the command there.
func utf16Span(s string, offset, length int) (span string, end int, ok bool) {
	if offset < 0 || length < 0 {
		return "", 0, false
	}
	from, ok := utf16Index(s, offset)
	if !ok {
		return "", 0, false
	}
	n, ok := utf16Index(s[from:], length)
	if !ok {
		return "", 0, false
	}
	return s[from : from+n], from + n, true
}

// utf16Index returns the byte index in s of the character that starts
// units UTF-16 code units into s (len(s) for the end of s); ok is false
// when units is past the end of s or inside a surrogate pair.
func utf16Index(s string, units int) (int, bool) {
	for i, r := range s {
		if units == 0 {
			return i, true
		}
		if units < 0 {
			return 0, false // units pointed into a surrogate pair
		}
		units -= runeLen16(r)
	}
	return len(s), units == 0
}

// runeLen16 is the number of UTF-16 code units r takes; an invalid byte
// (decoded as utf8.RuneError) counts as one, as Telegram would send the
// replacement character.
func runeLen16(r rune) int {
	if n := utf16.RuneLen(r); n > 0 {
		return n
	}
	return 1
}

// truncate cuts s to at most maxRunes characters and replaces invalid
// UTF-8, so what leaves the adapter is always valid text.
func truncate(s string, maxRunes int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	n := 0
	for i := range s {
		if n == maxRunes {
			return s[:i]
		}
		n++
	}
	return s
}
