package knowledge

import (
	"fmt"
	"io/fs"
	"net/url"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"
)

// Editorial rules that editors keep beside the topics, at the root of the
// FAQ folder, each checked by `faq lint`:
//
//   - sources.yaml: the hosts whose pages count as official sources, and
//     hosts of archives; a source elsewhere gets a warning. Regional hosts
//     are other regions' offices, cited for national procedures: an entry
//     lists them after its national and Pomorskie sources, which a
//     migrant in Gdańsk should open first.
//   - glossary.yaml: per language, the term to use for a Polish
//     institution or document and the forms to avoid; an answer with an
//     avoided form gets a warning.
//   - contacts.yaml: the phone numbers of institutions answers name; an
//     answer that gives another number next to the institution's name
//     gets a warning, so that two topics never give two numbers for one
//     crisis centre.
const (
	SourcesFile  = "sources.yaml"
	GlossaryFile = "glossary.yaml"
	ContactsFile = "contacts.yaml"
)

// Editorial holds the editorial rules of a FAQ folder.
type Editorial struct {
	official  []string // host suffixes ("gov.pl" matches www.gov.pl and udsc.gov.pl)
	archives  []string
	elsewhere []string
	regional  []string
	terms     []term
	contacts  []contact
}

type term struct {
	lang  Lang
	use   string
	avoid []*regexp.Regexp
	raw   []string
	lower []string // raw, lower-cased without the *, a cheap test before the pattern
	line  int
}

type contact struct {
	name    string
	aliases []*regexp.Regexp
	numbers []string // digits only
	line    int
}

type sourcesFields struct {
	Official  []string `yaml:"official"`
	Archives  []string `yaml:"archives"`
	Elsewhere []string `yaml:"elsewhere"`
	Regional  []string `yaml:"regional"`
}

type glossaryFields struct {
	Terms []map[string]glossaryTerm `yaml:"terms"`
}

type glossaryTerm struct {
	Use   string   `yaml:"use"`
	Avoid []string `yaml:"avoid"`
}

type contactFields struct {
	Contacts []struct {
		Name    string   `yaml:"name"`
		Aliases []string `yaml:"aliases"`
		Phones  []string `yaml:"phones"`
	} `yaml:"contacts"`
}

// readEditorial reads the editorial files present in fsys; a folder
// without them has no editorial rules.
func readEditorial(fsys fs.FS) (*Editorial, Problems) {
	ed := &Editorial{}
	var probs Problems
	read := func(name string, dst any) (positions, bool) {
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, false
		}
		r := reporter{path: name, out: &probs}
		file, err := parser.ParseBytes(src, 0)
		if err != nil {
			r.errorAt(errPos(err), "%s", yamlMessage(err))
			return nil, false
		}
		if countDocs(file) != 1 {
			r.errorAt(Pos{Line: 1}, "%s must be one YAML document", name)
			return nil, false
		}
		if err := yaml.NodeToValue(file.Docs[0].Body, dst, yaml.Strict()); err != nil {
			r.errorAt(errPosOr(err, Pos{Line: 1}), "%s", yamlMessage(err))
			return nil, false
		}
		pos := positions{}
		recordPositions(pos, "", file.Docs[0].Body, src)
		return pos, true
	}
	var sf sourcesFields
	if _, ok := read(SourcesFile, &sf); ok {
		ed.official = hostList(sf.Official)
		ed.archives = hostList(sf.Archives)
		ed.elsewhere = hostList(sf.Elsewhere)
		ed.regional = hostList(sf.Regional)
	}
	var gf glossaryFields
	if pos, ok := read(GlossaryFile, &gf); ok {
		r := reporter{path: GlossaryFile, out: &probs}
		for i, entry := range gf.Terms {
			for _, l := range sortedKeys(entry) {
				at := pos.at(fmt.Sprintf(".terms[%d].%s", i, l))
				if !Lang(l).Known() {
					r.errorAt(at, "terms[%d]: unknown language %q (use %s)", i, l, joinLangs())
					continue
				}
				t := term{lang: Lang(l), use: entry[l].Use, line: at.Line}
				for _, a := range entry[l].Avoid {
					if strings.TrimSpace(a) == "" {
						r.errorAt(at, "terms[%d].%s: an empty form to avoid", i, l)
						continue
					}
					t.avoid = append(t.avoid, wordPattern(a))
					t.raw = append(t.raw, a)
					t.lower = append(t.lower, strings.ToLower(strings.TrimSuffix(strings.TrimSpace(a), "*")))
				}
				ed.terms = append(ed.terms, t)
			}
		}
	}
	var cf contactFields
	if pos, ok := read(ContactsFile, &cf); ok {
		r := reporter{path: ContactsFile, out: &probs}
		for i, c := range cf.Contacts {
			at := pos.at(fmt.Sprintf(".contacts[%d]", i))
			if c.Name == "" || len(c.Phones) == 0 || len(c.Aliases) == 0 {
				r.errorAt(at, "contacts[%d] needs a name, aliases and phones", i)
				continue
			}
			ct := contact{name: c.Name, line: at.Line}
			for _, a := range c.Aliases {
				ct.aliases = append(ct.aliases, wordPattern(a))
			}
			for _, p := range c.Phones {
				ct.numbers = append(ct.numbers, digits(p))
			}
			ed.contacts = append(ed.contacts, ct)
		}
	}
	return ed, probs
}

// wordPattern matches a phrase case-insensitively as whole words; a
// trailing * matches any ending.
func wordPattern(phrase string) *regexp.Regexp {
	p := strings.TrimSpace(phrase)
	star := strings.HasSuffix(p, "*")
	p = regexp.QuoteMeta(strings.TrimSuffix(p, "*"))
	end := `($|[^\p{L}\p{N}])`
	if star {
		end = ``
	}
	return regexp.MustCompile(`(?i)(^|[^\p{L}\p{N}])` + p + end)
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// checkSource warns about a source that is not https, lies outside the
// official hosts, or is an archived copy.
func (ed *Editorial) checkSource(c entryCheck, at Pos, src string) {
	if ed == nil || len(ed.official) == 0 {
		return
	}
	u, err := url.Parse(src)
	if err != nil || u.Host == "" {
		return // reported as an error elsewhere
	}
	host := strings.ToLower(u.Hostname())
	switch {
	case onHosts(host, ed.archives):
		c.r.warnAt(at, "source %q is an archived copy; link the live official page", src)
	case onHosts(host, ed.elsewhere):
		c.r.warnAt(at, "source %q is another region's local page; give the national or the Pomorskie one", src)
	case !onHosts(host, ed.official):
		c.r.warnAt(at, "source %q is not on an official host (%s lists them)", src, SourcesFile)
	}
}

// checkOrder warns about a national or Pomorskie source listed after
// another region's page: answers show sources in the order given.
func (ed *Editorial) checkOrder(c entryCheck) {
	if ed == nil || len(ed.regional) == 0 {
		return
	}
	regional := ""
	for i, src := range c.e.Sources {
		u, err := url.Parse(src)
		if err != nil || u.Host == "" {
			continue
		}
		switch {
		case onHosts(strings.ToLower(u.Hostname()), ed.regional):
			if regional == "" {
				regional = src
			}
		case regional != "":
			c.r.warnAt(c.at(fmt.Sprintf("sources[%d]", i)), "source %q comes after another region's page %q; list national and Pomorskie pages first", src, regional)
		}
	}
}

// hostList lower-cases and trims the hosts of sources.yaml.
func hostList(hosts []string) []string {
	out := make([]string, 0, len(hosts))
	for _, h := range hosts {
		out = append(out, strings.ToLower(strings.TrimSpace(h)))
	}
	return out
}

// onHosts reports whether host is one of hosts or under one of them.
func onHosts(host string, hosts []string) bool {
	for _, h := range hosts {
		if host == h || strings.HasSuffix(host, "."+h) {
			return true
		}
	}
	return false
}

// checkTerms warns about avoided forms in every text of the entry in
// their language.
func (ed *Editorial) checkTerms(c entryCheck) {
	if ed == nil {
		return
	}
	texts := c.texts()
	lower := make([]string, len(texts))
	for i, tx := range texts {
		lower[i] = strings.ToLower(tx.text)
	}
	// The patterns run only where the phrase occurs at all: matching
	// every pattern against every text made loading the FAQ slow.
	for _, t := range ed.terms {
		for j, tx := range texts {
			if tx.lang != t.lang {
				continue
			}
			for i, re := range t.avoid {
				if strings.Contains(lower[j], t.lower[i]) && re.MatchString(tx.text) {
					c.r.warnAt(c.at(tx.field), "%s uses %q; the glossary prefers %q (%s:%d)", tx.field, t.raw[i], t.use, GlossaryFile, t.line)
				}
			}
		}
	}
}

// phoneRe finds phone numbers: 9 or more digits in groups (58 511 01 21,
// +48 22 628 01 20, 800 190 590), or 3-digit emergency numbers are left
// alone.
var phoneRe = regexp.MustCompile(`\+?\d{2,3}(?:[ \-]\d{2,3}){2,4}`)

// checkContacts warns when a sentence names an institution of the
// registry and gives a phone number the registry does not list for it.
func (ed *Editorial) checkContacts(c entryCheck) {
	if ed == nil {
		return
	}
	for _, tx := range c.texts() {
		if !strings.ContainsAny(tx.text, "0123456789") {
			continue
		}
		for _, sentence := range splitSentences(tx.text) {
			// Most sentences give no number; they need no name lookup.
			phones := phoneRe.FindAllString(sentence, -1)
			if len(phones) == 0 {
				continue
			}
			for _, ct := range ed.contacts {
				named := false
				for _, a := range ct.aliases {
					if a.MatchString(sentence) {
						named = true
						break
					}
				}
				if !named {
					continue
				}
				for _, p := range phones {
					d := strings.TrimPrefix(digits(p), "48")
					if len(d) < 9 || containsNumber(ct.numbers, d) {
						continue
					}
					if other := ed.owner(d); other != "" && other != ct.name {
						continue // the sentence names two institutions; the number is the other's
					}
					c.r.warnAt(c.at(tx.field), "%s gives %s for %s, whose numbers are %v (%s:%d)", tx.field, p, ct.name, ct.numbers, ContactsFile, ct.line)
				}
			}
		}
	}
}

func (ed *Editorial) owner(number string) string {
	for _, ct := range ed.contacts {
		if containsNumber(ct.numbers, number) {
			return ct.name
		}
	}
	return ""
}

func containsNumber(list []string, n string) bool {
	for _, x := range list {
		if strings.TrimPrefix(x, "48") == n {
			return true
		}
	}
	return false
}

var sentenceEnd = regexp.MustCompile(`[.!?;\n]\s`)

func splitSentences(text string) []string {
	return sentenceEnd.Split(text, -1)
}

// text is one text of an entry in one language, with its field path.
type text struct {
	field string
	lang  Lang
	text  string
}

// texts returns the answers and facets of the entry.
func (c entryCheck) texts() []text {
	var out []text
	for _, l := range Langs() {
		if a, ok := c.e.Answer[l]; ok {
			out = append(out, text{"answer." + string(l), l, a})
		}
	}
	for _, f := range c.e.FacetNames() {
		for _, l := range Langs() {
			if a, ok := c.e.Facets[f][l]; ok {
				out = append(out, text{"facets." + string(f) + "." + string(l), l, a})
			}
		}
	}
	return out
}
