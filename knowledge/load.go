package knowledge

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Options tune validation.
type Options struct {
	// Today is the date against which reviewed and review_by are judged.
	// When zero, the date checks are skipped.
	Today Date
	// Required lists topic ids that must exist (see RequiredTopics).
	Required []string
	// Editorial are the folder's editorial rules (sources, glossary,
	// contacts); Load reads them from the folder.
	Editorial *Editorial
}

// Load reads, validates and indexes the FAQ in fsys. It returns the base,
// every problem found (warnings included), and a non-nil error — an
// *InvalidError — when any problem is an error; the base is then nil, so a
// running service keeps the FAQ it already has.
func Load(fsys fs.FS, opts Options) (*Base, Problems, error) {
	entries, pb, probs := ParseAll(fsys)
	ed, eprobs := readEditorial(fsys)
	probs = append(probs, eprobs...)
	opts.Editorial = ed
	probs = append(probs, Validate(entries, opts)...)
	sortProblems(probs)
	if err := probs.Err(); err != nil {
		return nil, probs, err
	}
	b := New(entries)
	if pb != nil {
		b.phrases = pb
	}
	return b, probs, nil
}

// Parse reads every topic file under fsys: <category>/<id>.yaml. Files that
// cannot be decoded are reported and left out of the result.
func Parse(fsys fs.FS) ([]*Entry, Problems) {
	entries, _, probs := ParseAll(fsys)
	return entries, probs
}

// ParseAll reads the topic files and the phrasebook (PhrasebookFile at the
// root; nil when the folder has none or it cannot be read).
func ParseAll(fsys fs.FS) ([]*Entry, *Phrasebook, Problems) {
	var (
		entries []*Entry
		pb      *Phrasebook
		probs   Problems
	)
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			probs = append(probs, Problem{Path: p, Msg: fmt.Sprintf("cannot read: %v", err)})
			return nil
		}
		if skipped(d.Name()) && p != "." {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if p == SourcesFile || p == GlossaryFile || p == ContactsFile {
			return nil // read by readEditorial
		}
		if p == PhrasebookFile {
			src, err := fs.ReadFile(fsys, p)
			if err != nil {
				probs = append(probs, Problem{Path: p, Msg: fmt.Sprintf("cannot read: %v", err)})
				return nil
			}
			var ps Problems
			pb, ps = decodePhrasebook(p, src)
			probs = append(probs, ps...)
			return nil
		}
		if prob, ok := placement(p); !ok {
			probs = append(probs, prob)
			return nil
		}
		if path.Ext(p) != ".yaml" {
			return nil
		}
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			probs = append(probs, Problem{Path: p, Msg: fmt.Sprintf("cannot read: %v", err)})
			return nil
		}
		e, ps := decodeFile(p, src)
		probs = append(probs, ps...)
		if e != nil {
			entries = append(entries, e)
		}
		return nil
	})
	if err != nil {
		probs = append(probs, Problem{Path: ".", Msg: fmt.Sprintf("cannot read the FAQ folder: %v", err)})
	}
	if len(entries) == 0 && len(probs) == 0 {
		probs = append(probs, Problem{Path: ".", Msg: "no topic files found (expected <category>/<id>.yaml)"})
	}
	return entries, pb, probs
}

// skipped reports files editors' tools leave behind (.git, .DS_Store,
// backup files) that are not part of the FAQ.
func skipped(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~")
}

// placement checks that a file sits where topic files belong. Documentation
// (.md, .txt) may sit anywhere; YAML only in a category folder.
func placement(p string) (Problem, bool) {
	ext := path.Ext(p)
	switch {
	case ext == ".md" || ext == ".txt":
		return Problem{}, true
	case ext == ".yml":
		return Problem{Path: p, Msg: "topic files must end in .yaml, not .yml"}, false
	case ext != ".yaml":
		return Problem{Path: p, Warning: true, Msg: "not a topic file (.yaml); ignored"}, false
	}
	dir := path.Dir(p)
	if dir == "." || strings.Contains(dir, "/") {
		return Problem{Path: p, Msg: "topic files belong directly in a category folder: <category>/<id>.yaml (the only YAML file at the root is " + PhrasebookFile + ")"}, false
	}
	return Problem{}, true
}

func sortProblems(ps Problems) {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Path != ps[j].Path {
			return ps[i].Path < ps[j].Path
		}
		return ps[i].Line < ps[j].Line
	})
}
