package knowledge

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Pos is a position in a file; Line and Col are 1-based.
type Pos struct{ Line, Col int }

// positions maps a field path ("answer.uk", "questions.pl[2]") to where
// its value starts. "path#text" is where the text of a block scalar starts.
type positions map[string]Pos

func (ps positions) at(path string) Pos {
	for path != "" {
		if p, ok := ps[path]; ok {
			return p
		}
		i := strings.LastIndexAny(path, ".[#")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return Pos{Line: 1}
}

// fileFields are the fields of a topic file, in the order editors write them.
type fileFields struct {
	ID        string                       `yaml:"id"`
	Category  string                       `yaml:"category"`
	Version   int                          `yaml:"version"`
	Reviewed  string                       `yaml:"reviewed"`
	ReviewBy  string                       `yaml:"review_by"`
	Title     map[string]string            `yaml:"title"`
	Sources   []string                     `yaml:"sources"`
	Keywords  []string                     `yaml:"keywords"`
	Questions map[string][]string          `yaml:"questions"`
	Answer    map[string]string            `yaml:"answer"`
	Related   []string                     `yaml:"related"`
	Urgent    bool                         `yaml:"urgent"`
	Facets    map[string]map[string]string `yaml:"facets"`
	Change    map[string]string            `yaml:"change"`
}

// field describes one top-level key: where to decode it and what an editor
// should be told when its value has the wrong shape.
type field struct {
	dst  any
	want string
}

func (f *fileFields) fields() map[string]field {
	return map[string]field{
		"id":        {&f.ID, "a text such as legal.pesel"},
		"category":  {&f.Category, "one word such as work"},
		"version":   {&f.Version, "a whole number such as 3"},
		"reviewed":  {&f.Reviewed, "a date such as 2026-11-01"},
		"review_by": {&f.ReviewBy, "a date such as 2027-05-01"},
		"title":     {&f.Title, "one short text per language (pl: …, en: …)"},
		"sources":   {&f.Sources, "a list of https links"},
		"keywords":  {&f.Keywords, "a list of words, e.g. [pesel, песель]"},
		"questions": {&f.Questions, "a list of questions per language (pl: [...], en: [...])"},
		"answer":    {&f.Answer, "one text per language (pl: |, en: |)"},
		"related":   {&f.Related, "a list of topic ids, e.g. [legal.pesel]"},
		"urgent":    {&f.Urgent, "true or false"},
		"facets":    {&f.Facets, "named sections, each one text per language (cost: {pl: |, en: | …})"},
		"change":    {&f.Change, "one short text per language saying what changed (pl: |, en: |)"},
	}
}

// decodeFile reads one topic file strictly: YAML syntax, duplicate keys,
// unknown fields and values of the wrong type are reported with line and
// column. It returns nil when the file cannot be understood at all.
func decodeFile(path string, src []byte) (*Entry, Problems) {
	var probs Problems
	r := reporter{path: path, out: &probs}
	file, err := parser.ParseBytes(src, 0)
	if err != nil {
		r.errorAt(errPos(err), "%s", yamlMessage(err))
		return nil, probs
	}
	if countDocs(file) == 0 {
		r.errorAt(Pos{Line: 1}, "the file is empty")
		return nil, probs
	}
	if len(file.Docs) != 1 || file.Docs[0].Body == nil {
		r.errorAt(Pos{Line: 1}, "the file must hold exactly one topic (found %d YAML documents)", countDocs(file))
		return nil, probs
	}
	pairs, ok := mappingPairs(file.Docs[0].Body)
	if !ok {
		r.errorAt(nodePos(file.Docs[0].Body), "the file must be a list of fields (id: …, category: …), not %s", file.Docs[0].Body.Type())
		return nil, probs
	}
	var ff fileFields
	fields := ff.fields()
	pos := positions{}
	for _, kv := range pairs {
		key := kv.Key.String()
		f, known := fields[key]
		if !known {
			r.errorAt(nodePos(kv.Key), "unknown field %q (known fields: %s)", key, knownFields(fields))
			continue
		}
		recordPositions(pos, key, kv.Value, src)
		pos[key] = nodePos(kv.Key) // "answer.uk is missing" points at answer:
		if _, null := kv.Value.(*ast.NullNode); null {
			continue // an empty field is reported by validation as missing
		}
		if err := yaml.NodeToValue(kv.Value, f.dst, yaml.Strict()); err != nil {
			r.errorAt(errPosOr(err, nodePos(kv.Value)), "%s must be %s", key, f.want)
		}
	}
	if len(probs) > 0 {
		return nil, probs
	}
	return ff.entry(path, pos), nil
}

func (ff *fileFields) entry(path string, pos positions) *Entry {
	e := &Entry{
		ID:       ff.ID,
		Category: Category(ff.Category),
		Version:  ff.Version,
		Sources:  ff.Sources,
		Keywords: ff.Keywords,
		Related:  ff.Related,
		Urgent:   ff.Urgent,
		Path:     path,
		pos:      pos,
	}
	// Dates are checked in validation, where a bad one can be reported
	// together with the other problems of the file.
	e.Reviewed, _ = ParseDate(ff.Reviewed)
	e.ReviewBy, _ = ParseDate(ff.ReviewBy)
	e.rawDates = [2]string{ff.Reviewed, ff.ReviewBy}
	e.Title = langMap(ff.Title)
	e.Answer = langMap(ff.Answer)
	e.Facets = facetsOf(ff.Facets)
	if len(ff.Change) > 0 {
		e.Change = langMap(ff.Change)
	}
	e.Questions = make(map[Lang][]string, len(ff.Questions))
	for k, v := range ff.Questions {
		e.Questions[Lang(k)] = v
	}
	return e
}

func langMap(m map[string]string) map[Lang]string {
	out := make(map[Lang]string, len(m))
	for k, v := range m {
		out[Lang(k)] = v
	}
	return out
}

// recordPositions stores where every nested value under path starts, so
// that validation can name the line of answer.uk or questions.pl[3].
func recordPositions(pos positions, path string, n ast.Node, src []byte) {
	pos[path] = nodePos(n)
	switch v := n.(type) {
	case *ast.LiteralNode:
		// The text of a block scalar starts on the line after "|".
		line := nodePos(n).Line + 1
		pos[path+"#text"] = Pos{Line: line, Col: indentOf(src, line) + 1}
	case *ast.StringNode:
		p := nodePos(n)
		if v.Token != nil && (v.Token.Type == token.DoubleQuoteType || v.Token.Type == token.SingleQuoteType) {
			p.Col++
		}
		pos[path+"#text"] = p
	case *ast.SequenceNode:
		for i, item := range v.Values {
			recordPositions(pos, fmt.Sprintf("%s[%d]", path, i), item, src)
		}
	default:
		if pairs, ok := mappingPairs(n); ok {
			for _, kv := range pairs {
				child := path + "." + kv.Key.String()
				recordPositions(pos, child, kv.Value, src)
				pos[child] = nodePos(kv.Key)
			}
		}
	}
}

// mappingPairs returns the key-value pairs of a mapping node; a mapping
// with a single pair may come as a bare MappingValueNode.
func mappingPairs(n ast.Node) ([]*ast.MappingValueNode, bool) {
	switch v := n.(type) {
	case *ast.MappingNode:
		return v.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{v}, true
	}
	return nil, false
}

func nodePos(n ast.Node) Pos {
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return Pos{Line: 1}
	}
	if kv, ok := n.(*ast.MappingValueNode); ok {
		return nodePos(kv.Key)
	}
	if m, ok := n.(*ast.MappingNode); ok && len(m.Values) > 0 && !m.IsFlowStyle {
		return nodePos(m.Values[0].Key)
	}
	return Pos{Line: tk.Position.Line, Col: tk.Position.Column}
}

func errPos(err error) Pos { return errPosOr(err, Pos{Line: 1}) }

func errPosOr(err error, fallback Pos) Pos {
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil && ye.GetToken().Position != nil {
		p := ye.GetToken().Position
		return Pos{Line: p.Line, Col: p.Column}
	}
	return fallback
}

// yamlMessage strips the position and source excerpt that the YAML library
// adds, since Problem carries the position itself.
func yamlMessage(err error) string {
	var ye yaml.Error
	if errors.As(err, &ye) {
		return "YAML: " + ye.GetMessage()
	}
	return "YAML: " + err.Error()
}

func indentOf(src []byte, line int) int {
	lines := strings.Split(string(src), "\n")
	if line < 1 || line > len(lines) {
		return 0
	}
	s := lines[line-1]
	return len(s) - len(strings.TrimLeft(s, " "))
}

func countDocs(f *ast.File) int {
	n := 0
	for _, d := range f.Docs {
		if d.Body != nil {
			n++
		}
	}
	return n
}

func knownFields(fields map[string]field) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
