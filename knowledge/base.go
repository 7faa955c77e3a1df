package knowledge

import (
	"embed"
	"io/fs"
	"sort"

	"github.com/goccy/go-yaml"
)

// Base is a loaded, validated FAQ. It is immutable and safe for
// concurrent use.
type Base struct {
	entries []*Entry
	byID    map[string]*Entry
	version Version
	phrases *Phrasebook
}

// New indexes entries that have passed validation.
func New(entries []*Entry) *Base {
	sorted := append([]*Entry(nil), entries...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	b := &Base{entries: sorted, byID: make(map[string]*Entry, len(sorted))}
	for _, e := range sorted {
		b.byID[e.ID] = e
	}
	b.version = versionOf(sorted)
	b.phrases = DefaultPhrasebook()
	return b
}

// Phrases returns the phrasebook: the folder's conversation.yaml, or the
// built-in one when the folder has none.
func (b *Base) Phrases() *Phrasebook { return b.phrases }

// Entries returns all entries sorted by id. The slice must not be modified.
func (b *Base) Entries() []*Entry { return b.entries }

// Entry returns the entry with the given id, or false when there is none.
func (b *Base) Entry(id string) (*Entry, bool) {
	e, ok := b.byID[id]
	return e, ok
}

// Version identifies the exact content of the base.
func (b *Base) Version() Version { return b.version }

// InCategory returns the entries of category c, sorted by id.
func (b *Base) InCategory(c Category) []*Entry {
	var out []*Entry
	for _, e := range b.entries {
		if e.Category == c {
			out = append(out, e)
		}
	}
	return out
}

//go:embed faq
var embedded embed.FS

// DefaultFS returns the FAQ files built into the binary: the shipped
// knowledge/faq folder.
func DefaultFS() fs.FS {
	sub, err := fs.Sub(embedded, "faq")
	if err != nil {
		panic(err) // "faq" is a valid path; fs.Sub cannot fail here
	}
	return sub
}

//go:embed topics.yaml
var topicsYAML []byte

// Topic is a required topic: its id, category and what it must cover.
type Topic struct {
	ID       string   `yaml:"id"`
	Category Category `yaml:"category"`
	Covers   string   `yaml:"covers"`
}

// RequiredTopics returns the topics every deployment's FAQ must answer.
// Tests, evaluation sets and the conversation flows refer to these ids.
func RequiredTopics() []Topic {
	var doc struct {
		Topics []Topic `yaml:"topics"`
	}
	if err := yaml.Unmarshal(topicsYAML, &doc); err != nil {
		panic("knowledge/topics.yaml: " + err.Error()) // embedded and tested
	}
	return doc.Topics
}

// RequiredIDs returns the ids of RequiredTopics.
func RequiredIDs() []string {
	var ids []string
	for _, t := range RequiredTopics() {
		ids = append(ids, t.ID)
	}
	return ids
}
