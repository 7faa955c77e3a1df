package knowledge

import "slices"

// Lang is a language the bot speaks, as an ISO 639-1 code.
type Lang string

// The languages every entry is written in.
const (
	PL Lang = "pl"
	EN Lang = "en"
	UK Lang = "uk"
	RU Lang = "ru"
)

// Langs returns the languages every entry must be written in, in the order
// editors see them in the files.
func Langs() []Lang { return []Lang{PL, EN, UK, RU} }

// Known reports whether l is one of Langs.
func (l Lang) Known() bool { return slices.Contains(Langs(), l) }

// Category groups topics in the bot's main menu.
type Category string

// The categories of the main menu, in menu order.
const (
	Legalisation Category = "legalisation"
	Work         Category = "work"
	Health       Category = "health"
	Language     Category = "language"
	Help         Category = "help"
)

// Categories returns the known categories in menu order.
func Categories() []Category {
	return []Category{Legalisation, Work, Health, Language, Help}
}

// idPrefix is the first segment of the ids of a category's topics
// (legal.pesel is in legalisation), so an id tells its category at a glance.
func (c Category) idPrefix() string {
	switch c {
	case Legalisation:
		return "legal"
	case Language:
		return "lang"
	}
	return string(c)
}

// Known reports whether c is one of Categories.
func (c Category) Known() bool { return slices.Contains(Categories(), c) }

// Entry is one FAQ topic: example questions and an answer in every language,
// with the official sources the answer rests on.
type Entry struct {
	ID       string
	Category Category
	// Version is bumped by editors whenever the meaning of any answer
	// changes; together with the ID it names what a migrant was told.
	Version   int
	Reviewed  Date
	ReviewBy  Date
	Title     map[Lang]string
	Sources   []string
	Keywords  []string
	Questions map[Lang][]string
	Answer    map[Lang]string
	Related   []string
	// Urgent marks topics about danger (violence, trafficking): they win
	// over ordinary topics when a message speaks of danger, and a case
	// opened from them is urgent for consultants.
	Urgent bool
	// Facets are optional named sections of the answer (cost, documents
	// …), each in every language, shown first when a follow-up asks
	// about just that.
	Facets map[Facet]map[Lang]string
	// Change is what changed for migrants in this version, per language:
	// one or two sentences sent to the topic's subscribers as an alert.
	// Optional; faq diff asks for a new one when the answer changes.
	Change map[Lang]string

	// Path is the file the entry was read from, relative to the FAQ root,
	// with forward slashes.
	Path string
	pos  positions
	// rawDates keeps reviewed and review_by as written, so validation can
	// quote a date it cannot read.
	rawDates [2]string
}

// Ref is how an answer is recorded in audit logs: "legal.pesel@3".
func (e *Entry) Ref() string { return e.ID + "@" + itoa(e.Version) }

// Line returns the line in the entry's file where the field at path
// ("answer.uk", "questions.pl[2]", "sources[0]") starts, falling back to the
// nearest enclosing field and finally to line 1.
func (e *Entry) Line(path string) int { return e.pos.at(path).Line }
