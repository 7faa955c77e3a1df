package knowledge

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Change describes how one topic differs between two versions of the FAQ.
type Change struct {
	ID       string
	Old, New *Entry
	// Fields lists what changed: "answer.pl", "questions.uk", "title.en",
	// "sources", "keywords", "related", "category", "reviewed", "review_by".
	Fields []string
}

// MissingBump reports an answer or example questions that changed while
// the version did not increase: what migrants were told can then no longer
// be told apart by id@version.
func (c Change) MissingBump() bool {
	return c.meaningChanged() && c.New.Version <= c.Old.Version
}

func (c Change) meaningChanged() bool {
	for _, f := range c.Fields {
		if strings.HasPrefix(f, "answer.") || strings.HasPrefix(f, "questions.") || strings.HasPrefix(f, "facets.") {
			return true
		}
	}
	return false
}

// MissingNote reports an answer that changed with a version bump but
// without a new change note: the topic's subscribers would then get no
// alert, or last version's note again.
func (c Change) MissingNote() bool {
	if c.New.Version <= c.Old.Version {
		return false
	}
	for _, f := range c.Fields {
		if strings.HasPrefix(f, "answer.") {
			return c.New.ChangeID() == "" || c.New.ChangeID() == c.Old.ChangeID()
		}
	}
	return false
}

// StaleLangs returns the languages whose answer did not change while
// another language's answer did: those translations may be out of date.
func (c Change) StaleLangs() []Lang {
	var changed, same []Lang
	for _, l := range Langs() {
		if slices.Contains(c.Fields, "answer."+string(l)) {
			changed = append(changed, l)
		} else {
			same = append(same, l)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	return same
}

// DiffResult is the difference between two versions of the FAQ.
type DiffResult struct {
	Added, Removed []*Entry
	Changed        []Change
	Old, New       Version
}

// Diff compares two sets of entries by id.
func Diff(old, new []*Entry) DiffResult {
	res := DiffResult{Old: New(old).Version(), New: New(new).Version()}
	oldByID := index(old)
	newByID := index(new)
	for _, id := range sortedIDs(newByID) {
		n := newByID[id]
		o, ok := oldByID[id]
		if !ok {
			res.Added = append(res.Added, n)
			continue
		}
		if fields := changedFields(o, n); len(fields) > 0 {
			res.Changed = append(res.Changed, Change{ID: id, Old: o, New: n, Fields: fields})
		}
	}
	for _, id := range sortedIDs(oldByID) {
		if _, ok := newByID[id]; !ok {
			res.Removed = append(res.Removed, oldByID[id])
		}
	}
	return res
}

func changedFields(o, n *Entry) []string {
	var out []string
	add := func(changed bool, name string) {
		if changed {
			out = append(out, name)
		}
	}
	add(o.Category != n.Category, "category")
	for _, l := range Langs() {
		add(o.Title[l] != n.Title[l], "title."+string(l))
	}
	for _, l := range Langs() {
		add(!slices.Equal(o.Questions[l], n.Questions[l]), "questions."+string(l))
	}
	for _, l := range Langs() {
		add(o.Answer[l] != n.Answer[l], "answer."+string(l))
	}
	for _, f := range Facets() {
		for _, l := range Langs() {
			add(o.Facets[f][l] != n.Facets[f][l], "facets."+string(f)+"."+string(l))
		}
	}
	for _, l := range Langs() {
		add(o.Change[l] != n.Change[l], "change."+string(l))
	}
	add(!slices.Equal(o.Sources, n.Sources), "sources")
	add(!slices.Equal(o.Keywords, n.Keywords), "keywords")
	add(!slices.Equal(o.Related, n.Related), "related")
	add(o.Urgent != n.Urgent, "urgent")
	add(o.Reviewed != n.Reviewed, "reviewed")
	add(o.ReviewBy != n.ReviewBy, "review_by")
	return out
}

// Problems returns what an editor must fix (a missing version bump) and
// should check (possibly stale translations), one line each.
func (d DiffResult) Problems() Problems {
	var probs Problems
	for _, c := range d.Changed {
		if c.MissingBump() {
			probs = append(probs, Problem{Path: c.New.Path, Line: c.New.Line("version"),
				Msg: fmt.Sprintf("%s: answer or questions changed but version stayed %d; bump it to %d", c.ID, c.New.Version, c.Old.Version+1)})
		}
		if c.MissingNote() {
			probs = append(probs, Problem{Path: c.New.Path, Line: c.New.Line("version"),
				Msg: fmt.Sprintf("%s: the answer changed in version %d; add a new change note (change: pl/en/uk/ru) saying what changed, for the topic's subscribers", c.ID, c.New.Version)})
		}
		if stale := c.StaleLangs(); len(stale) > 0 {
			probs = append(probs, Problem{Path: c.New.Path, Line: c.New.Line("answer"), Warning: true,
				Msg: fmt.Sprintf("%s: the answer changed in some languages but not in %v; those translations may be stale", c.ID, stale)})
		}
	}
	return probs
}

func index(entries []*Entry) map[string]*Entry {
	m := make(map[string]*Entry, len(entries))
	for _, e := range entries {
		m[e.ID] = e
	}
	return m
}

func sortedIDs(m map[string]*Entry) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
