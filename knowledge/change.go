package knowledge

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/witaj/witaj/knowledge/markup"
)

// MaxChangeLen bounds a change note in UTF-16 units: one or two
// sentences that tell a subscriber what changed, before a button to the
// whole answer.
const MaxChangeLen = 500

// ChangeNote returns the entry's change note in lang: what changed for
// migrants in this version ("From 1 January 2027 the minimum wage is …").
// Subscribers of the topic get it as an alert when the version goes up.
func (e *Entry) ChangeNote(lang Lang) (string, bool) {
	t, ok := e.Change[lang]
	return t, ok && strings.TrimSpace(t) != ""
}

// ChangeID names the change note's content: the same note read again
// (a reload, a restart, another replica) has the same id, so an alert
// goes out once per note, not once per load. Empty without a note.
func (e *Entry) ChangeID() string {
	if len(e.Change) == 0 {
		return ""
	}
	h := sha256.New()
	for _, l := range Langs() {
		h.Write([]byte(l))
		h.Write([]byte{0})
		h.Write([]byte(e.Change[l]))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// change checks the change note like an answer: every language, the
// Markdown subset, a bounded length, and no figure that the same
// language's answer does not give (a note summarises the new answer).
func (c entryCheck) change() {
	if len(c.e.Change) == 0 {
		return
	}
	for _, l := range Langs() {
		if _, ok := c.e.Change[l]; !ok {
			c.r.errorAt(c.at("change"), "change.%s is missing: a change note is sent to subscribers in their language", l)
		}
	}
	for l, text := range c.e.Change {
		field := "change." + string(l)
		if !l.Known() {
			c.r.errorAt(c.at(field), "change: unknown language %q (use %s)", l, joinLangs())
			continue
		}
		if strings.TrimSpace(text) == "" {
			c.r.errorAt(c.at(field), "%s is empty", field)
			continue
		}
		if n := utf16Len(text); n > MaxChangeLen {
			c.r.errorAt(c.at(field), "%s is %d characters long; a change note is one or two sentences, at most %d", field, n, MaxChangeLen)
		}
		start := c.at(field + "#text")
		_, errs := markup.Parse(text)
		for _, me := range errs {
			c.r.errorAt(Pos{Line: start.Line + me.Line - 1, Col: start.Col + me.Col - 1}, "%s: %s", field, me.Msg)
		}
		answer := figures(c.e.Answer[l])
		for _, n := range figures(text) {
			if !slices.Contains(answer, n) {
				c.r.errorAt(c.at(field), "%s gives %q, which answer.%s does not: a change note summarises the new answer", field, n, l)
			}
		}
	}
}
