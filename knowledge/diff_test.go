package knowledge

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustParse(t *testing.T, dir string) []*Entry {
	t.Helper()
	entries, probs := Parse(os.DirFS(dir))
	if len(probs) > 0 {
		t.Fatalf("Parse(%s): %s", dir, joinProblems(probs))
	}
	return entries
}

func TestDiff(t *testing.T) {
	d := Diff(mustParse(t, "testdata/diff/old"), mustParse(t, "testdata/diff/new"))
	ids := func(es []*Entry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	if diff := cmp.Diff([]string{"help.delta"}, ids(d.Added)); diff != "" {
		t.Errorf("Added (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"help.gamma"}, ids(d.Removed)); diff != "" {
		t.Errorf("Removed (-want +got):\n%s", diff)
	}
	type change struct {
		ID          string
		Fields      []string
		MissingBump bool
		Stale       []Lang
	}
	var got []change
	for _, c := range d.Changed {
		got = append(got, change{c.ID, c.Fields, c.MissingBump(), c.StaleLangs()})
	}
	want := []change{
		{ID: "legal.alpha", Fields: []string{"answer.pl"}, MissingBump: true, Stale: []Lang{EN, UK, RU}},
		{ID: "work.beta", Fields: []string{"answer.pl", "answer.en", "answer.uk", "answer.ru", "change.pl", "change.en", "change.uk", "change.ru"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Changed (-want +got):\n%s", diff)
	}
	wantProbs := "legalisation/legal.alpha.yaml:3: legal.alpha: answer or questions changed but version stayed 1; bump it to 2\n" +
		"legalisation/legal.alpha.yaml:39: warning: legal.alpha: the answer changed in some languages but not in [en uk ru]; those translations may be stale\n"
	if diff := cmp.Diff(wantProbs, joinProblems(d.Problems())); diff != "" {
		t.Errorf("Problems (-want +got):\n%s", diff)
	}
}

// TestVersionIgnoresLayout: the version depends on content, not on comments,
// quoting or file layout; any change of content changes it.
func TestVersionIgnoresLayout(t *testing.T) {
	old := New(mustParse(t, "testdata/diff/old"))
	cur := New(mustParse(t, "testdata/diff/new"))
	same := func(b *Base) string {
		e, _ := b.Entry("help.same")
		return e.Hash()
	}
	if same(old) != same(cur) {
		t.Error("help.same: reformatting the file changed its hash")
	}
	if old.Version() == cur.Version() {
		t.Error("changed content kept the knowledge-base version")
	}
	if got := old.Version(); got.Count != 4 || len(got.Hash) != 64 || len(got.String()) != len("4-")+12 {
		t.Errorf("Version() = %+v (%s), want 4 entries and a 64-hex hash", got, got)
	}
	again := New(mustParse(t, "testdata/diff/old"))
	if again.Version() != old.Version() {
		t.Error("loading the same files twice gave different versions")
	}
}

// TestDiffFacets: a changed facet is a changed meaning, so the version
// must go up, and it is named field by field.
func TestDiffFacets(t *testing.T) {
	old := &Entry{ID: "legal.alpha", Version: 2, Facets: map[Facet]map[Lang]string{FacetCost: {PL: "Bezpłatne.", EN: "Free."}}}
	changed := *old
	changed.Facets = map[Facet]map[Lang]string{FacetCost: {PL: "100 zł.", EN: "Free."}}
	d := Diff([]*Entry{old}, []*Entry{&changed})
	if len(d.Changed) != 1 || !cmp.Equal(d.Changed[0].Fields, []string{"facets.cost.pl"}) || !d.Changed[0].MissingBump() {
		t.Fatalf("changes %+v", d.Changed)
	}
	changed.Version = 3
	if d := Diff([]*Entry{old}, []*Entry{&changed}); d.Changed[0].MissingBump() {
		t.Error("bumped version still reported as missing")
	}
}

// TestDiffChangeNote: a version bump that changes the answer needs a new
// change note, or subscribers get no alert (or last version's note).
func TestDiffChangeNote(t *testing.T) {
	note := map[Lang]string{PL: "Nowa stawka.", EN: "A new rate."}
	other := map[Lang]string{PL: "Inna zmiana.", EN: "Another change."}
	old := &Entry{ID: "work.alpha", Version: 2, Answer: map[Lang]string{PL: "Stara.", EN: "Old."}, Change: note}
	tests := []struct {
		name    string
		version int
		answer  string
		change  map[Lang]string
		missing bool
	}{
		{"bump, answer changed, new note", 3, "Nowa.", other, false},
		{"bump, answer changed, no note", 3, "Nowa.", nil, true},
		{"bump, answer changed, last version's note", 3, "Nowa.", note, true},
		{"bump, only questions changed", 3, "Stara.", nil, false},
		{"no bump (reported as a missing bump instead)", 2, "Nowa.", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := *old
			n.Version, n.Change = tt.version, tt.change
			n.Answer = map[Lang]string{PL: tt.answer, EN: "Old."}
			n.Questions = map[Lang][]string{PL: {"nowe pytanie"}}
			d := Diff([]*Entry{old}, []*Entry{&n})
			if len(d.Changed) != 1 {
				t.Fatalf("changes %+v", d.Changed)
			}
			if got := d.Changed[0].MissingNote(); got != tt.missing {
				t.Errorf("MissingNote() = %v, want %v", got, tt.missing)
			}
		})
	}
}
