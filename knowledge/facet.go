package knowledge

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/witaj/witaj/knowledge/markup"
)

// Facet names one section of an answer that migrants often ask about on
// its own, in a follow-up: "and how much does it cost?" after the answer
// on temporary residence shows the cost section first.
type Facet string

// The facets an answer may have. The list is closed so that the bot's
// follow-up cues (conversation.yaml) and the files agree on the names.
const (
	FacetWho          Facet = "who"           // who it is for, who may or must do it
	FacetDocuments    Facet = "documents"     // what to bring or attach
	FacetCost         Facet = "cost"          // fees, and what is free
	FacetWhere        Facet = "where"         // which office or website, addresses
	FacetTime         Facet = "time"          // how long it takes, how long it is valid
	FacetDeadline     Facet = "deadline"      // by when, time limits, being late
	FacetAfterRefusal Facet = "after-refusal" // a refusal, an appeal, what next
	FacetContact      Facet = "contact"       // phone numbers, e-mail, opening hours
	FacetLanguage     Facet = "language"      // help in languages other than Polish
)

// Facets returns the known facets in the order the bot lists them.
func Facets() []Facet {
	return []Facet{FacetWho, FacetDocuments, FacetCost, FacetWhere, FacetTime, FacetDeadline, FacetAfterRefusal, FacetContact, FacetLanguage}
}

// Known reports whether f is one of Facets.
func (f Facet) Known() bool { return slices.Contains(Facets(), f) }

// MaxFacetLen bounds a facet's text in UTF-16 units: a facet is a short
// section, shown before a button to the full answer.
const MaxFacetLen = 1000

// Facet returns the text of facet f in lang, or false when the entry has
// no such facet.
func (e *Entry) Facet(f Facet, lang Lang) (string, bool) {
	t, ok := e.Facets[f][lang]
	return t, ok
}

// FacetNames returns the entry's facets in the order of Facets.
func (e *Entry) FacetNames() []Facet {
	var out []Facet
	for _, f := range Facets() {
		if _, ok := e.Facets[f]; ok {
			out = append(out, f)
		}
	}
	return out
}

// facets checks every facet: a known name, every language, the Markdown
// subset, a bounded length, and no figure that the same language's full
// answer does not give (a facet restates the answer; it never adds facts
// that a later edit of the answer could leave behind).
func (c entryCheck) facets() {
	for name, texts := range c.e.Facets {
		field := "facets." + string(name)
		if !name.Known() {
			c.r.errorAt(c.at(field), "unknown facet %q (known: %s)", name, joinFacets())
			continue
		}
		for _, l := range Langs() {
			if _, ok := texts[l]; !ok {
				c.r.errorAt(c.at(field), "%s.%s is missing", field, l)
			}
		}
		for l, text := range texts {
			c.section(field, l, text, MaxFacetLen, "a facet is a short section", "a facet may only restate the answer")
		}
	}
}

// section checks one language's text of a part that restates the answer
// (a facet, a change note): a known language, not empty, at most max
// UTF-16 units, the Markdown subset, and no figure that the same
// language's answer does not give. long and figure end the messages
// about length and figures.
func (c entryCheck) section(field string, l Lang, text string, max int, long, figure string) {
	lf := field + "." + string(l)
	if !l.Known() {
		c.r.errorAt(c.at(lf), "%s: unknown language %q (use %s)", field, l, joinLangs())
		return
	}
	if strings.TrimSpace(text) == "" {
		c.r.errorAt(c.at(lf), "%s is empty", lf)
		return
	}
	if n := utf16Len(text); n > max {
		c.r.errorAt(c.at(lf), "%s is %d characters long; %s, at most %d", lf, n, long, max)
	}
	start := c.at(lf + "#text")
	_, errs := markup.Parse(text)
	for _, me := range errs {
		c.r.errorAt(Pos{Line: start.Line + me.Line - 1, Col: start.Col + me.Col - 1}, "%s: %s", lf, me.Msg)
	}
	answer := figures(c.e.Answer[l])
	for _, n := range figures(text) {
		if !slices.Contains(answer, n) {
			c.r.errorAt(c.at(lf), "%s gives %q, which answer.%s does not: %s", lf, n, l, figure)
		}
	}
}

// figureRe finds amounts, phone numbers, dates and other figures: digits,
// possibly grouped by spaces, dots, dashes or slashes ("58 30 77 466",
// "1 010", "24/7", "2026").
var figureRe = regexp.MustCompile(`\d+(?:[ .,/\-]\d+)*`)

// figures returns the figures in text with their separators removed, so
// that "58 30 77 466" and "583077466" are the same figure. Single digits
// are left out: "1 person", "3 months" are words as much as figures.
func figures(text string) []string {
	var out []string
	for _, m := range figureRe.FindAllString(text, -1) {
		n := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, m)
		if len(n) > 1 {
			out = append(out, n)
		}
	}
	return out
}

func joinFacets() string {
	var s []string
	for _, f := range Facets() {
		s = append(s, string(f))
	}
	return strings.Join(s, ", ")
}

// facetsOf converts decoded facets to their typed form.
func facetsOf(raw map[string]map[string]string) map[Facet]map[Lang]string {
	if len(raw) == 0 {
		return nil
	}
	out := make(map[Facet]map[Lang]string, len(raw))
	for k, v := range raw {
		out[Facet(k)] = langMap(v)
	}
	return out
}

func (f Facet) String() string { return string(f) }

var _ fmt.Stringer = Facet("")
