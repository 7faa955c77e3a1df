package knowledge

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
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
		c.section("change", l, text, MaxChangeLen, "a change note is one or two sentences", "a change note summarises the new answer")
	}
}
