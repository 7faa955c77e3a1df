package knowledge

import (
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"
)

// PhrasebookFile is the phrasebook's file name at the root of a FAQ
// folder. A folder without one uses the built-in phrasebook.
const PhrasebookFile = "conversation.yaml"

// phrasebookFields is the layout of conversation.yaml.
type phrasebookFields struct {
	Social   map[string]map[string][]string `yaml:"social"`
	Filler   map[string][]string            `yaml:"filler"`
	Human    humanFields                    `yaml:"human"`
	Followup followupFields                 `yaml:"followup"`
	Split    splitFields                    `yaml:"split"`
	Else     elsewhereFields                `yaml:"elsewhere"`
}

type humanFields struct {
	Person  map[string][]string `yaml:"person"`
	Contact map[string][]string `yaml:"contact"`
	Phrases map[string][]string `yaml:"phrases"`
}

type followupFields struct {
	Opening     map[string][]string            `yaml:"opening"`
	Conditional map[string][]string            `yaml:"conditional"`
	Pointing    map[string][]string            `yaml:"pointing"`
	Facets      map[string]map[string][]string `yaml:"facets"`
}

type splitFields struct {
	Joins  map[string][]string `yaml:"joins"`
	Starts map[string][]string `yaml:"starts"`
}

type elsewhereFields struct {
	Places   [][]string          `yaml:"places"`
	Origin   map[string][]string `yaml:"origin"`
	Travel   map[string][]string `yaml:"travel"`
	Offtopic map[string][]string `yaml:"offtopic"`
}

// DefaultPhrasebook returns the built-in phrasebook, the one shipped in
// knowledge/faq.
func DefaultPhrasebook() *Phrasebook {
	src, err := fs.ReadFile(DefaultFS(), PhrasebookFile)
	if err != nil {
		panic(err) // embedded; shipped_test checks it
	}
	pb, probs := decodePhrasebook(PhrasebookFile, src)
	if err := probs.Err(); err != nil {
		panic(err)
	}
	return pb
}

// decodePhrasebook reads conversation.yaml strictly and checks it: known
// sections, languages, small-talk kinds and facets, every language for
// every kind of small talk, no phrase that folds to nothing, no phrase
// listed twice or under two kinds. It returns nil when there are errors.
func decodePhrasebook(path string, src []byte) (*Phrasebook, Problems) {
	var probs Problems
	r := reporter{path: path, out: &probs}
	file, err := parser.ParseBytes(src, 0)
	if err != nil {
		r.errorAt(errPos(err), "%s", yamlMessage(err))
		return nil, probs
	}
	if countDocs(file) != 1 {
		r.errorAt(Pos{Line: 1}, "the phrasebook must be one YAML document")
		return nil, probs
	}
	body := file.Docs[0].Body
	var f phrasebookFields
	if err := yaml.NodeToValue(body, &f, yaml.Strict()); err != nil {
		r.errorAt(errPosOr(err, nodePos(body)), "%s", yamlMessage(err))
		return nil, probs
	}
	pos := positions{}
	recordPositions(pos, "", body, src)
	c := phraseCheck{r: r, pos: pos, seen: map[string]string{}}
	pb := &Phrasebook{stop: map[string]bool{}}
	for _, w := range stopwords() {
		pb.stop[Fold(w)] = true
	}
	kinds := SocialKinds()
	for _, name := range sortedKeys(f.Social) {
		tag := slices.Index(kinds, SocialKind(name))
		if tag < 0 {
			r.errorAt(pos.at(".social."+name), "unknown kind of small talk %q (known: %v)", name, kinds)
			continue
		}
		c.langs("social."+name, f.Social[name], true, func(p string) bool { return pb.social.add(p, tag) })
	}
	for _, k := range kinds {
		if _, ok := f.Social[string(k)]; !ok {
			r.errorAt(pos.at(".social"), "social.%s is missing", k)
		}
	}
	all := func(field string, m map[string][]string, set *phraseSet) {
		c.langs(field, m, false, func(p string) bool { return set.add(p, 0) })
	}
	all("filler", f.Filler, &pb.filler)
	all("human.person", f.Human.Person, &pb.person)
	all("human.contact", f.Human.Contact, &pb.contact)
	all("human.phrases", f.Human.Phrases, &pb.humanFull)
	all("followup.opening", f.Followup.Opening, &pb.opening)
	all("followup.conditional", f.Followup.Conditional, &pb.conditional)
	all("followup.pointing", f.Followup.Pointing, &pb.pointing)
	for _, name := range sortedKeys(f.Followup.Facets) {
		tag := slices.Index(Facets(), Facet(name))
		if tag < 0 {
			r.errorAt(pos.at(".followup.facets."+name), "unknown facet %q (known: %s)", name, joinFacets())
			continue
		}
		c.langs("followup.facets."+name, f.Followup.Facets[name], false, func(p string) bool { return pb.facets.add(p, tag) })
	}
	// Joins and question words carry their language as a bit, so that
	// Polish "i" and English "do" never make a split together.
	byLang := func(field string, m map[string][]string, set *phraseSet) {
		for _, l := range sortedKeys(m) {
			bit := 1 << slices.Index(Langs(), Lang(l))
			c.langs(field, map[string][]string{l: m[l]}, false, func(p string) bool { return set.add(p, bit) })
		}
	}
	byLang("split.joins", f.Split.Joins, &pb.joins)
	byLang("split.starts", f.Split.Starts, &pb.starts)
	for i, place := range f.Else.Places {
		field := fmt.Sprintf("elsewhere.places[%d]", i)
		c.list(field, place, func(p string) bool {
			if f := Fold(p); f != "" && !strings.ContainsAny(p, " *") && utf8.RuneCountInString(f) < 3 {
				if pb.placesRaw == nil {
					pb.placesRaw = map[string]bool{}
				}
				pb.placesRaw[strings.ToLower(p)] = true
				return true
			}
			return pb.places.add(p, i)
		})
	}
	all("elsewhere.origin", f.Else.Origin, &pb.origin)
	all("elsewhere.travel", f.Else.Travel, &pb.travel)
	all("elsewhere.offtopic", f.Else.Offtopic, &pb.offtopic)
	if probs.Err() != nil {
		return nil, probs
	}
	return pb, probs
}

// minStem is the shortest folded stem a word ending in * may have.
const minStem = 4

// phraseCheck reports problems in the phrasebook's lists.
type phraseCheck struct {
	r   reporter
	pos positions
	// seen maps a small-talk phrase's folded form to the list that has it.
	seen map[string]string
}

// langs checks a list per language; every language must have one when
// required is set.
func (c phraseCheck) langs(field string, m map[string][]string, required bool, add func(string) bool) {
	for _, l := range Langs() {
		if _, ok := m[string(l)]; !ok && required {
			c.r.errorAt(c.pos.at("."+field), "%s.%s is missing", field, l)
		}
	}
	for _, l := range sortedKeys(m) {
		if !Lang(l).Known() {
			c.r.errorAt(c.pos.at("."+field+"."+l), "%s: unknown language %q (use %s)", field, l, joinLangs())
			continue
		}
		c.list(field+"."+l, m[l], add)
	}
}

func (c phraseCheck) list(field string, phrases []string, add func(string) bool) {
	local := map[string]bool{}
	for i, p := range phrases {
		at := c.pos.at(fmt.Sprintf(".%s[%d]", field, i))
		if !add(p) {
			c.r.errorAt(at, "%s[%d] %q has no letters or digits", field, i, p)
			continue
		}
		key := Fold(strings.TrimSuffix(p, "*"))
		if strings.HasSuffix(p, "*") {
			key += "*"
			if last := key[strings.LastIndexByte(key, ' ')+1:]; utf8.RuneCountInString(last) < minStem+1 {
				c.r.errorAt(at, "%s[%d] %q: a stem must keep at least %d letters after folding (%q matches too many words)", field, i, p, minStem, last)
			}
		}
		if local[key] {
			c.r.warnAt(at, "%s[%d] %q is listed twice", field, i, p)
		}
		local[key] = true
		if kind, ok := socialList(field); ok {
			if prev, dup := c.seen[key]; dup && prev != kind {
				c.r.warnAt(at, "%q is small talk of two kinds, %s and %s; the first one wins", p, prev, kind)
			}
			c.seen[key] = kind
		}
	}
}

// socialList returns the kind of a small-talk list field ("social.thanks.pl").
func socialList(field string) (string, bool) {
	var kind, lang string
	if n, _ := fmt.Sscanf(field, "social.%s", &kind); n != 1 {
		return "", false
	}
	for i := len(kind) - 1; i >= 0; i-- {
		if kind[i] == '.' {
			kind, lang = kind[:i], kind[i+1:]
			break
		}
	}
	_ = lang
	return kind, true
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
