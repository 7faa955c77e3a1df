package knowledge

import (
	"regexp"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"

	"github.com/witaj/witaj/knowledge/markup"
)

// Announcement is news editors send to the chats that opted in: an
// event, a new course, a rule change that is not one topic's. It is
// written as a YAML file and queued with `witaj announce`.
type Announcement struct {
	// ID names it; queuing the same id again sends nothing more.
	ID string
	// Text is the message per language, in the FAQ's Markdown subset. A
	// language without text is not sent to.
	Text map[Lang]string
	// Everyone: every chat that opted in to news from witaj.
	Everyone bool
	// Categories: chats that follow a category, or one of its topics.
	Categories []Category
	// Langs limits the audience to these languages (all when empty).
	Langs []Lang
	// Buttons are FAQ topics to show under the message.
	Buttons []string
	// NotBefore is when sending may start (zero: at once).
	NotBefore time.Time
}

type announcementFields struct {
	ID       string            `yaml:"id"`
	Text     map[string]string `yaml:"text"`
	Audience struct {
		Everyone   bool     `yaml:"everyone"`
		Categories []string `yaml:"categories"`
		Langs      []string `yaml:"languages"`
	} `yaml:"audience"`
	Buttons   []string `yaml:"buttons"`
	NotBefore string   `yaml:"not_before"`
}

var announcementID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,47}$`)

// ParseAnnouncement reads an announcement file strictly and checks it
// against the FAQ kb: a short id, text in the Markdown subset, a known
// audience, buttons naming existing topics, a valid time. It returns nil
// with the problems when there are errors.
func ParseAnnouncement(path string, src []byte, kb *Base) (*Announcement, Problems) {
	var probs Problems
	r := reporter{path: path, out: &probs}
	file, err := parser.ParseBytes(src, 0)
	if err != nil {
		r.errorAt(errPos(err), "%s", yamlMessage(err))
		return nil, probs
	}
	if countDocs(file) != 1 || file.Docs[0].Body == nil {
		r.errorAt(Pos{Line: 1}, "an announcement file must be one YAML document")
		return nil, probs
	}
	body := file.Docs[0].Body
	var f announcementFields
	if err := yaml.NodeToValue(body, &f, yaml.Strict()); err != nil {
		r.errorAt(errPosOr(err, nodePos(body)), "%s", yamlMessage(err))
		return nil, probs
	}
	pos := positions{}
	recordPositions(pos, "", body, src)
	at := func(field string) Pos { return pos.at("." + field) }
	a := &Announcement{ID: f.ID, Text: map[Lang]string{}, Everyone: f.Audience.Everyone, Buttons: f.Buttons}
	if !announcementID.MatchString(f.ID) {
		r.errorAt(at("id"), "id %q: use up to 48 lower-case letters, digits and dashes, such as courses-2027-01", f.ID)
	}
	if len(f.Text) == 0 {
		r.errorAt(Pos{Line: 1}, "text is missing: one text per language (pl: |, en: | …)")
	}
	for l, text := range f.Text {
		field := "text." + l
		if !Lang(l).Known() {
			r.errorAt(at(field), "text: unknown language %q (use %s)", l, joinLangs())
			continue
		}
		if strings.TrimSpace(text) == "" {
			r.errorAt(at(field), "%s is empty", field)
			continue
		}
		if n := utf16Len(text); n > MaxAnswerLen {
			r.errorAt(at(field), "%s is %d characters long; the limit is %d", field, n, MaxAnswerLen)
		}
		start := at(field + "#text")
		if start.Line == 0 {
			start = at(field)
		}
		_, errs := markup.Parse(text)
		for _, me := range errs {
			r.errorAt(Pos{Line: start.Line + me.Line - 1, Col: start.Col + me.Col - 1}, "%s: %s", field, me.Msg)
		}
		a.Text[Lang(l)] = text
	}
	for i, c := range f.Audience.Categories {
		if !Category(c).Known() {
			r.errorAt(at("audience.categories["+itoa(i)+"]"), "unknown category %q (known: %v)", c, Categories())
			continue
		}
		a.Categories = append(a.Categories, Category(c))
	}
	if !a.Everyone && len(a.Categories) == 0 {
		r.errorAt(at("audience"), "audience: say who gets it: everyone: true (all who opted in to news) and/or categories: [work, …]")
	}
	for i, l := range f.Audience.Langs {
		if !Lang(l).Known() {
			r.errorAt(at("audience.languages["+itoa(i)+"]"), "unknown language %q (use %s)", l, joinLangs())
			continue
		}
		if _, ok := f.Text[l]; !ok {
			r.errorAt(at("audience.languages["+itoa(i)+"]"), "language %s has no text", l)
		}
		a.Langs = append(a.Langs, Lang(l))
	}
	if len(a.Langs) == 0 {
		for _, l := range Langs() {
			if _, ok := a.Text[l]; ok {
				a.Langs = append(a.Langs, l)
			}
		}
	}
	for i, id := range f.Buttons {
		if _, ok := kb.Entry(id); !ok {
			r.errorAt(at("buttons["+itoa(i)+"]"), "buttons: no FAQ topic %q", id)
		}
	}
	if f.NotBefore != "" {
		t, err := time.Parse(time.RFC3339, f.NotBefore)
		if err != nil {
			r.errorAt(at("not_before"), "not_before %q: want a time such as 2027-01-05T09:00:00+01:00", f.NotBefore)
		}
		a.NotBefore = t
	}
	if len(probs.Errors()) > 0 {
		return nil, probs
	}
	return a, probs
}
