package bot

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
	"github.com/witaj/witaj/knowledge/markup"
	"github.com/witaj/witaj/locales"
)

// Message is one outgoing message to a user, rendered in their language
// but not yet formatted for a platform: adapters turn Doc into Telegram
// HTML, Slack mrkdwn or plain text, escaping every text span.
type Message struct {
	Doc     markup.Doc
	Buttons [][]Button
	// Ref and KB record which FAQ text an answer showed ("legal.pesel@3",
	// "45-3fa9c0d1e2b4"); empty for other messages.
	Ref, KB string
	// Same names the Doc when it is the same for every user who gets it
	// (an FAQ answer: knowledge base, entry, language, facet, stale
	// flag), so that adapters may format it once and reuse the result;
	// empty when the Doc is made for one user.
	Same string
}

// Button is a rendered button: its label in the user's language and the
// payload the engine expects back.
type Button struct {
	Label string
	Data  string
}

// Renderer renders flows actions. It is immutable and safe for concurrent
// use.
type Renderer struct {
	kb  *knowledge.Base
	cat *locales.Catalog
	// answers holds each answer's Doc once rendered: the same for every
	// user, and a Renderer lives as long as its knowledge base.
	answers sync.Map // answerKey → markup.Doc
	// labels holds button labels once looked up: the same for every user,
	// and every answer has half a dozen.
	labelsMu sync.RWMutex
	labels   map[labelKey]string
	// Missing, when set, hears of a message the catalogue lacks in a
	// language (the user then reads the English one): for the log.
	Missing func(lang knowledge.Lang, key string, err error)
}

// NewRenderer returns a renderer for answers from kb and texts from cat.
func NewRenderer(kb *knowledge.Base, cat *locales.Catalog) *Renderer {
	return &Renderer{kb: kb, cat: cat}
}

// Catalog returns the message catalogue the renderer reads.
func (r *Renderer) Catalog() *locales.Catalog { return r.cat }

// Text renders a message key in lang. A missing translation falls back to
// English (the locales tests keep that from happening).
func (r *Renderer) Text(lang knowledge.Lang, key string, data flows.Data) string {
	d := locales.Data{}
	for k, v := range data {
		// By convention a value under "...Key" is itself a message key:
		// {"CategoryKey": "category.work"} fills {{.Category}}.
		if name, ok := strings.CutSuffix(k, "Key"); ok {
			if s, isKey := v.(string); isKey {
				d[name], _ = r.cat.Text(string(lang), s, nil)
				continue
			}
		}
		switch v := v.(type) {
		case flows.Hours:
			d[k] = r.hours(lang, v)
		case flows.Names:
			d[k] = r.names(lang, v)
		case time.Time:
			d[k] = r.when(lang, v)
		default:
			d[k] = v
		}
	}
	s, err := r.cat.Text(string(lang), key, d)
	if err != nil && r.Missing != nil {
		r.Missing(lang, key, err)
	}
	return s
}

// names joins the names of things a user follows: message keys or labels.
func (r *Renderer) names(lang knowledge.Lang, ns flows.Names) string {
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		label := n.Label
		if n.LabelKey != "" {
			label = r.Text(lang, n.LabelKey, nil)
		}
		out = append(out, label)
	}
	return strings.Join(out, ", ")
}

// weekdayKeys name the weekdays in the message files, by time.Weekday.
var weekdayKeys = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// hours shows working hours in the user's language: "pn–pt 09:00–17:00".
func (r *Renderer) hours(lang knowledge.Lang, h flows.Hours) string {
	var parts []string
	for _, hr := range h {
		days := r.Text(lang, "weekday_short."+weekdayKeys[hr.From], nil)
		if hr.To != hr.From {
			days = r.Text(lang, "hours.days", flows.Data{"From": days, "To": r.Text(lang, "weekday_short."+weekdayKeys[hr.To], nil)})
		}
		parts = append(parts, r.Text(lang, "hours.range", flows.Data{"Days": days, "Open": clock(hr.Open), "Close": clock(hr.Close)}))
	}
	return strings.Join(parts, ", ")
}

// when shows a moment in the user's language: "w poniedziałek 7 grudnia, 09:00".
func (r *Renderer) when(lang knowledge.Lang, t time.Time) string {
	date := r.Text(lang, "date.format", flows.Data{"Day": t.Day(), "Month": r.Text(lang, fmt.Sprintf("month.m%02d", int(t.Month())), nil)})
	return r.Text(lang, "hours.when", flows.Data{"Day": r.Text(lang, "weekday."+weekdayKeys[t.Weekday()], nil), "Date": date, "Time": t.Format("15:04")})
}

func clock(minutes int) string { return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60) }

// Reply renders a Reply action.
func (r *Renderer) Reply(lang knowledge.Lang, a flows.Reply) Message {
	if a.Lang != "" {
		lang = a.Lang
	}
	return Message{Doc: markup.PlainDoc(r.Text(lang, a.Key, a.Data)), Buttons: r.buttons(lang, a.Buttons)}
}

// Answer renders an Answer action: the entry's title and answer, its
// official sources, when it was checked (with a warning when it is past
// its review date), and the feedback question.
func (r *Renderer) Answer(a flows.Answer) (Message, error) {
	key := answerKey{a.EntryID, a.Lang, a.Facet, a.Stale}
	doc, ok := r.answers.Load(key)
	if !ok {
		d, err := r.answerDoc(a)
		if err != nil {
			return Message{}, err
		}
		doc, _ = r.answers.LoadOrStore(key, d)
	}
	same := fmt.Sprintf("%s/%s/%s/%s/%t", r.kb.Version(), a.EntryID, a.Lang, a.Facet, a.Stale)
	return Message{Doc: doc.(markup.Doc), Buttons: r.buttons(a.Lang, a.Buttons), Ref: a.Ref, KB: a.KB, Same: same}, nil
}

// answerKey is what an answer's Doc depends on.
type answerKey struct {
	id    string
	lang  knowledge.Lang
	facet knowledge.Facet
	stale bool
}

func (r *Renderer) answerDoc(a flows.Answer) (markup.Doc, error) {
	e, ok := r.kb.Entry(a.EntryID)
	if !ok {
		return markup.Doc{}, fmt.Errorf("render answer: no entry %s", a.EntryID)
	}
	text, heading := e.Answer[a.Lang], e.Title[a.Lang]
	if a.Facet != "" {
		// A follow-up about one facet: that section first, under the
		// topic's title and the facet's name; a button leads to the rest.
		if t, ok := e.Facet(a.Facet, a.Lang); ok {
			text = t
			heading += " — " + r.Text(a.Lang, "facet."+string(a.Facet), nil)
		}
	}
	body, _ := markup.Parse(text) // validated when the FAQ was loaded
	title := markup.Doc{Blocks: []markup.Block{{Kind: markup.Paragraph, Lines: []markup.Line{{{Kind: markup.Bold, Text: heading}}}}}}
	sources := markup.Block{Kind: markup.List}
	for _, s := range e.Sources {
		sources.Lines = append(sources.Lines, markup.Line{{Kind: markup.Link, Text: s, URL: s}})
	}
	checkedKey := "answer.checked"
	if a.Stale {
		checkedKey = "answer.stale"
	}
	return title.Append(body,
		markup.PlainDoc(r.Text(a.Lang, "answer.sources", nil)),
		markup.Doc{Blocks: []markup.Block{sources}},
		markup.PlainDoc(r.Text(a.Lang, checkedKey, flows.Data{"Date": e.Reviewed.String()})),
		markup.PlainDoc(r.Text(a.Lang, "answer.feedback", nil)),
	), nil
}

// Alert renders an Alert action: a heading naming the topic, the entry's
// change note and when it was checked. The Doc is the same for every
// subscriber of a language.
func (r *Renderer) Alert(a flows.Alert) (Message, error) {
	e, ok := r.kb.Entry(a.EntryID)
	if !ok {
		return Message{}, fmt.Errorf("render alert: no entry %s", a.EntryID)
	}
	note, ok := e.ChangeNote(a.Lang)
	if !ok {
		return Message{}, fmt.Errorf("render alert: %s has no change note in %s", a.EntryID, a.Lang)
	}
	body, _ := markup.Parse(note) // validated when the FAQ was loaded
	head := markup.Doc{Blocks: []markup.Block{{Kind: markup.Paragraph, Lines: []markup.Line{{{Kind: markup.Bold, Text: r.Text(a.Lang, "alert.changed", flows.Data{"Topic": e.Title[a.Lang]})}}}}}}
	doc := head.Append(body, markup.PlainDoc(r.Text(a.Lang, "answer.checked", flows.Data{"Date": e.Reviewed.String()})))
	return Message{Doc: doc, Buttons: r.buttons(a.Lang, a.Buttons), Ref: a.Ref, KB: a.KB}, nil
}

// Announcement renders an announcement in lang: its text, a button per
// topic it names, and one to stop alerts.
func (r *Renderer) Announcement(a *knowledge.Announcement, lang knowledge.Lang) Message {
	doc, _ := markup.Parse(a.Text[lang]) // validated when the file was read
	var rows [][]flows.Button
	for _, id := range a.Buttons {
		if e, ok := r.kb.Entry(id); ok {
			rows = append(rows, []flows.Button{flows.TopicButtonFor(id, e.Title[lang])})
		}
	}
	rows = append(rows, []flows.Button{flows.StopAlertsButton()})
	return Message{Doc: doc, Buttons: r.buttons(lang, rows)}
}

func (r *Renderer) buttons(lang knowledge.Lang, rows [][]flows.Button) [][]Button {
	out := make([][]Button, 0, len(rows))
	for _, row := range rows {
		rr := make([]Button, 0, len(row))
		for _, b := range row {
			label := b.Label
			if b.LabelKey != "" {
				label = r.label(lang, b.LabelKey)
			}
			rr = append(rr, Button{Label: label, Data: b.Data})
		}
		out = append(out, rr)
	}
	return out
}

type labelKey struct {
	lang knowledge.Lang
	key  string
}

// label is Text without data, looked up once per language and key; a
// missing translation is not kept, so that Missing hears of it each time.
func (r *Renderer) label(lang knowledge.Lang, key string) string {
	k := labelKey{lang, key}
	r.labelsMu.RLock()
	s, ok := r.labels[k]
	r.labelsMu.RUnlock()
	if ok {
		return s
	}
	s, err := r.cat.Text(string(lang), key, nil)
	if err != nil {
		if r.Missing != nil {
			r.Missing(lang, key, err)
		}
		return s
	}
	r.labelsMu.Lock()
	if r.labels == nil {
		r.labels = map[labelKey]string{}
	}
	r.labels[k] = s
	r.labelsMu.Unlock()
	return s
}

// Consultant renders a consultant's message to the user: a localised
// heading, then the consultant's words exactly as written (never parsed
// as markup).
func (r *Renderer) Consultant(lang knowledge.Lang, text string) Message {
	head := markup.Doc{Blocks: []markup.Block{{Kind: markup.Paragraph, Lines: []markup.Line{{{Kind: markup.Bold, Text: r.Text(lang, "consultant.says", nil)}}}}}}
	return Message{Doc: head.Append(markup.PlainDoc(text))}
}
