package knowledge

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"unicode/utf16"

	"github.com/witaj/witaj/knowledge/markup"
)

// Limits that validation enforces.
const (
	// MinQuestions is the fewest example questions per language: the
	// matcher learns a topic from them.
	MinQuestions = 5
	// MaxAnswerLen bounds an answer in UTF-16 code units, the unit of
	// Telegram's 4096 limit per message, leaving room for the title, the
	// sources and the "checked on" line the bot adds.
	MaxAnswerLen = 3000
	// MaxTitleLen keeps titles short enough for a button on a phone.
	MaxTitleLen = 40
)

var idPattern = regexp.MustCompile(`^[a-z]+\.[a-z0-9]+(-[a-z0-9]+)*$`)

// Validate checks every entry and the entries against each other. It
// reports all problems, never only the first.
func Validate(entries []*Entry, opts Options) Problems {
	var probs Problems
	byID := map[string]*Entry{}
	for _, e := range entries {
		if prev, dup := byID[e.ID]; dup && e.ID != "" {
			reporter{e.Path, &probs}.errorAt(e.pos.at("id"), "id %q is also used by %s", e.ID, prev.Path)
			continue
		}
		byID[e.ID] = e
	}
	for _, e := range entries {
		v := entryCheck{e: e, r: reporter{e.Path, &probs}, ids: byID, opts: opts}
		v.run()
	}
	probs = append(probs, crossChecks(entries)...)
	for _, id := range opts.Required {
		if _, ok := byID[id]; !ok {
			probs = append(probs, Problem{Path: ".", Msg: fmt.Sprintf("required topic %s is missing (see knowledge/topics.yaml)", id)})
		}
	}
	return probs
}

type entryCheck struct {
	e    *Entry
	r    reporter
	ids  map[string]*Entry
	opts Options
}

func (c entryCheck) run() {
	c.identity()
	c.dates()
	c.languages()
	c.questions()
	c.answers()
	c.titles()
	c.sources()
	c.keywords()
	c.related()
	c.facets()
	c.change()
	c.sameFacts()
	c.opts.Editorial.checkTerms(c)
	c.opts.Editorial.checkContacts(c)
}

func (c entryCheck) at(field string) Pos { return c.e.pos.at(field) }

func (c entryCheck) identity() {
	e := c.e
	switch {
	case e.ID == "":
		c.r.errorAt(c.at("id"), "id is missing")
	case !idPattern.MatchString(e.ID):
		c.r.errorAt(c.at("id"), "id %q must look like category.topic-name (lowercase letters, digits and dashes)", e.ID)
	}
	if want := strings.TrimSuffix(path.Base(e.Path), ".yaml"); e.ID != "" && e.ID != want {
		c.r.errorAt(c.at("id"), "id %q does not match the file name (expected %q, or rename the file to %s.yaml)", e.ID, want, e.ID)
	}
	switch {
	case e.Category == "":
		c.r.errorAt(c.at("category"), "category is missing")
	case !e.Category.Known():
		c.r.errorAt(c.at("category"), "unknown category %q (known: %s)", e.Category, joinCategories())
	default:
		if dir := path.Dir(e.Path); dir != string(e.Category) {
			c.r.errorAt(c.at("category"), "category %q does not match the folder %q", e.Category, dir)
		}
		if prefix, _, _ := strings.Cut(e.ID, "."); idPattern.MatchString(e.ID) && prefix != e.Category.idPrefix() {
			c.r.errorAt(c.at("id"), "ids in category %s start with %q, not %q", e.Category, e.Category.idPrefix()+".", prefix+".")
		}
	}
	if e.Version < 1 {
		c.r.errorAt(c.at("version"), "version must be 1 or more (got %d)", e.Version)
	}
}

func (c entryCheck) dates() {
	e := c.e
	checkDate := func(field, raw string, d Date) bool {
		switch {
		case raw == "":
			c.r.errorAt(c.at(field), "%s is missing (a date such as 2026-11-01)", field)
		case d.IsZero():
			c.r.errorAt(c.at(field), "%s %q is not a date in the form YYYY-MM-DD", field, raw)
		default:
			return true
		}
		return false
	}
	okReviewed := checkDate("reviewed", e.rawDates[0], e.Reviewed)
	okReviewBy := checkDate("review_by", e.rawDates[1], e.ReviewBy)
	if okReviewed && okReviewBy && !e.ReviewBy.After(e.Reviewed) {
		c.r.errorAt(c.at("review_by"), "review_by %s must be later than reviewed %s", e.ReviewBy, e.Reviewed)
	}
	if c.opts.Today.IsZero() {
		return
	}
	if okReviewed && e.Reviewed.After(c.opts.Today) {
		c.r.errorAt(c.at("reviewed"), "reviewed %s is in the future (today is %s)", e.Reviewed, c.opts.Today)
	}
	if okReviewBy && e.ReviewBy.Before(c.opts.Today) {
		c.r.warnAt(c.at("review_by"), "review_by %s has passed: check the facts at the sources, then update reviewed and review_by", e.ReviewBy)
	}
}

// languages reports missing and unknown languages in every per-language field.
func (c entryCheck) languages() {
	e := c.e
	perField := map[string][]Lang{
		"title":     keys(e.Title),
		"questions": keys(e.Questions),
		"answer":    keys(e.Answer),
	}
	for _, field := range []string{"title", "questions", "answer"} {
		have := perField[field]
		for _, l := range Langs() {
			if !slices.Contains(have, l) {
				c.r.errorAt(c.at(field), "%s.%s is missing", field, l)
			}
		}
		for _, l := range have {
			if !l.Known() {
				c.r.errorAt(c.at(field+"."+string(l)), "%s: unknown language %q (use %s)", field, l, joinLangs())
			}
		}
	}
}

func (c entryCheck) questions() {
	for _, l := range Langs() {
		qs, ok := c.e.Questions[l]
		if !ok {
			continue
		}
		field := "questions." + string(l)
		if len(qs) < MinQuestions {
			c.r.errorAt(c.at(field), "%s has %d example questions; at least %d are needed", field, len(qs), MinQuestions)
		}
		seen := map[string]int{}
		for i, q := range qs {
			at := c.at(fmt.Sprintf("%s[%d]", field, i))
			key := questionKey(q)
			if key == "" {
				c.r.errorAt(at, "%s[%d] is empty", field, i)
				continue
			}
			if j, dup := seen[key]; dup {
				c.r.warnAt(at, "%s[%d] repeats question %d", field, i, j+1)
			}
			seen[key] = i
		}
	}
}

func (c entryCheck) answers() {
	for _, l := range Langs() {
		text, ok := c.e.Answer[l]
		if !ok {
			continue
		}
		field := "answer." + string(l)
		if strings.TrimSpace(text) == "" {
			c.r.errorAt(c.at(field), "%s is empty", field)
			continue
		}
		if n := utf16Len(text); n > MaxAnswerLen {
			c.r.errorAt(c.at(field), "%s is %d characters long; the limit is %d so that it fits one Telegram message with its sources", field, n, MaxAnswerLen)
		}
		start := c.at(field + "#text")
		_, errs := markup.Parse(text)
		for _, me := range errs {
			c.r.errorAt(Pos{Line: start.Line + me.Line - 1, Col: start.Col + me.Col - 1}, "%s: %s", field, me.Msg)
		}
	}
}

func (c entryCheck) titles() {
	for l, t := range c.e.Title {
		field := "title." + string(l)
		switch {
		case strings.TrimSpace(t) == "":
			c.r.errorAt(c.at(field), "%s is empty", field)
		case len([]rune(t)) > MaxTitleLen:
			c.r.errorAt(c.at(field), "%s is %d characters long; titles are button labels, at most %d", field, len([]rune(t)), MaxTitleLen)
		case strings.ContainsAny(t, "*_[]`<>\n"):
			c.r.errorAt(c.at(field), "%s must be plain text without formatting", field)
		}
	}
}

func (c entryCheck) sources() {
	if len(c.e.Sources) == 0 {
		c.r.errorAt(c.at("sources"), "sources is missing: list the official pages the answer rests on")
	}
	seen := map[string]bool{}
	for i, s := range c.e.Sources {
		at := c.at(fmt.Sprintf("sources[%d]", i))
		u, err := url.Parse(s)
		if err != nil || u.Scheme != "https" || u.Host == "" || strings.ContainsAny(s, " \t") {
			c.r.errorAt(at, "source %q must be a full https:// link", s)
		}
		if seen[s] {
			c.r.warnAt(at, "source %q is listed twice", s)
		}
		seen[s] = true
		c.opts.Editorial.checkSource(c, at, s)
	}
	c.opts.Editorial.checkOrder(c)
}

func (c entryCheck) keywords() {
	seen := map[string]bool{}
	for i, k := range c.e.Keywords {
		at := c.at(fmt.Sprintf("keywords[%d]", i))
		key := questionKey(k)
		if key == "" {
			c.r.errorAt(at, "keywords[%d] is empty", i)
			continue
		}
		if seen[key] {
			c.r.warnAt(at, "keyword %q is listed twice", k)
		}
		seen[key] = true
	}
}

func (c entryCheck) related() {
	seen := map[string]bool{}
	for i, id := range c.e.Related {
		at := c.at(fmt.Sprintf("related[%d]", i))
		switch {
		case id == c.e.ID:
			c.r.errorAt(at, "related lists the topic itself")
		case c.ids[id] == nil:
			c.r.errorAt(at, "related topic %q does not exist", id)
		case seen[id]:
			c.r.warnAt(at, "related topic %q is listed twice", id)
		}
		seen[id] = true
	}
}

// questionKey is the form in which two questions count as the same.
func questionKey(q string) string {
	return strings.Join(strings.Fields(strings.ToLower(q)), " ")
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

func keys[V any](m map[Lang]V) []Lang {
	out := make([]Lang, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func joinLangs() string {
	var s []string
	for _, l := range Langs() {
		s = append(s, string(l))
	}
	return strings.Join(s, ", ")
}

func joinCategories() string {
	var s []string
	for _, c := range Categories() {
		s = append(s, string(c))
	}
	return strings.Join(s, ", ")
}
