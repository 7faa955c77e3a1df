package knowledge

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// fixtureToday is the day the fixtures' dates are judged against.
var fixtureToday = mustDate("2026-11-23")

func mustDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestLoadValid(t *testing.T) {
	base, probs, err := Load(os.DirFS("testdata/valid"), Options{Today: fixtureToday})
	if err != nil || len(probs) > 0 {
		t.Fatalf("Load(testdata/valid) = %v, problems:\n%s", err, joinProblems(probs))
	}
	if got, want := len(base.Entries()), 3; got != want {
		t.Fatalf("len(Entries()) = %d, want %d", got, want)
	}
	e, ok := base.Entry("work.beta")
	if !ok {
		t.Fatal(`Entry("work.beta") not found`)
	}
	if got, want := e.Ref(), "work.beta@3"; got != want {
		t.Errorf("Ref() = %q, want %q", got, want)
	}
	if got, want := e.Path, "work/work.beta.yaml"; got != want {
		t.Errorf("Path = %q, want %q", got, want)
	}
	if got, want := e.Line("answer.uk"), 50; got != want {
		t.Errorf(`Line("answer.uk") = %d, want %d`, got, want)
	}
	if got, want := e.Questions[UK][2], "питання про beta у Гданську"; got != want {
		t.Errorf("Questions[uk][2] = %q, want %q", got, want)
	}
	if got := base.InCategory(Help); len(got) != 1 || got[0].ID != "help.gamma" {
		t.Errorf("InCategory(help) = %v, want [help.gamma]", got)
	}
	if _, ok := base.Entry("legal.none"); ok {
		t.Error(`Entry("legal.none") found, want missing`)
	}
}

// TestBroken loads every tree under testdata/broken and compares the
// problems with testdata/broken/<case>.want. Each case breaks one rule;
// the golden file pins the file, line, column and message.
func TestBroken(t *testing.T) {
	dirs, err := os.ReadDir("testdata/broken")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		t.Run(d.Name(), func(t *testing.T) {
			dir := filepath.Join("testdata/broken", d.Name())
			_, probs, err := Load(os.DirFS(dir), Options{Today: fixtureToday})
			got := joinProblems(probs)
			golden := dir + ".want"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, rerr := os.ReadFile(golden)
			if rerr != nil {
				t.Fatalf("%v (run go test ./knowledge -update to create it)", rerr)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("problems of %s (-want +got):\n%s", dir, diff)
			}
			if hasErrors := len(probs.Errors()) > 0; hasErrors != (err != nil) {
				t.Errorf("Load error = %v, but %d errors reported", err, len(probs.Errors()))
			}
			if len(probs) == 0 {
				t.Error("no problems found; every broken case must report at least one")
			}
		})
	}
}

func TestRequired(t *testing.T) {
	_, probs, err := Load(os.DirFS("testdata/valid"), Options{Required: []string{"legal.alpha", "legal.missing"}})
	if err == nil {
		t.Fatal("Load with a missing required topic succeeded")
	}
	want := ".: required topic legal.missing is missing (see knowledge/topics.yaml)\n"
	if got := joinProblems(probs); got != want {
		t.Errorf("problems = %q, want %q", got, want)
	}
}

func TestRequiredTopicsMatchCategories(t *testing.T) {
	topics := RequiredTopics()
	if len(topics) != 45 {
		t.Errorf("RequiredTopics() has %d topics, want 45", len(topics))
	}
	for _, tp := range topics {
		if !tp.Category.Known() || !strings.HasPrefix(tp.ID, tp.Category.idPrefix()+".") || tp.Covers == "" {
			t.Errorf("required topic %+v: unknown category, wrong id prefix or no covers", tp)
		}
	}
}

func joinProblems(ps Problems) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	return b.String()
}
