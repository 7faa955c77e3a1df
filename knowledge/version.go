package knowledge

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Version identifies the content of a knowledge base: the number of entries
// and a SHA-256 over every entry's content. Two bases with the same Version
// show migrants the same text.
type Version struct {
	Count int
	Hash  string // hex SHA-256
}

// String is the short form recorded with every answer: "45-3fa9c0d1e2b4".
func (v Version) String() string {
	h := v.Hash
	if len(h) > 12 {
		h = h[:12]
	}
	return fmt.Sprintf("%d-%s", v.Count, h)
}

// content is the canonical form of an entry that is hashed. JSON sorts map
// keys, so the encoding does not depend on map order or on the layout,
// comments or field order of the YAML file.
type content struct {
	ID        string                    `json:"id"`
	Category  Category                  `json:"category"`
	Version   int                       `json:"version"`
	Reviewed  string                    `json:"reviewed"`
	ReviewBy  string                    `json:"review_by"`
	Title     map[Lang]string           `json:"title"`
	Sources   []string                  `json:"sources"`
	Keywords  []string                  `json:"keywords"`
	Questions map[Lang][]string         `json:"questions"`
	Answer    map[Lang]string           `json:"answer"`
	Related   []string                  `json:"related"`
	Urgent    bool                      `json:"urgent,omitempty"`
	Facets    map[Facet]map[Lang]string `json:"facets,omitempty"`
	Change    map[Lang]string           `json:"change,omitempty"`
}

// Hash returns a hex SHA-256 of the entry's content.
func (e *Entry) Hash() string {
	b, err := json.Marshal(content{
		ID: e.ID, Category: e.Category, Version: e.Version,
		Reviewed: e.Reviewed.String(), ReviewBy: e.ReviewBy.String(),
		Title: e.Title, Sources: e.Sources, Keywords: e.Keywords,
		Questions: e.Questions, Answer: e.Answer, Related: e.Related, Urgent: e.Urgent, Facets: e.Facets,
		Change: e.Change,
	})
	if err != nil {
		panic(err) // strings, ints and maps of them always marshal
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// versionOf hashes entries sorted by id.
func versionOf(sorted []*Entry) Version {
	h := sha256.New()
	for _, e := range sorted {
		fmt.Fprintf(h, "%s\x00%s\n", e.ID, e.Hash())
	}
	return Version{Count: len(sorted), Hash: hex.EncodeToString(h.Sum(nil))}
}
