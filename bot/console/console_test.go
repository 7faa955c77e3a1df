package console

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
	"github.com/witaj/witaj/locales"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// TestTranscripts runs each testdata/<name>.in through a console chat on
// the flows test FAQ and compares the screen with <name>.golden: these
// golden files pin the wording of the bot in every language.
func TestTranscripts(t *testing.T) {
	base, _, err := knowledge.Load(os.DirFS("../../flows/testdata/faq"), knowledge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	m := knowledge.NewMatcher(base, knowledge.DefaultThresholds())
	withPeople := flows.New(base, m, flows.DefaultConfig())
	alone := flows.DefaultConfig()
	alone.Consultants = false
	withoutPeople := flows.New(base, m, alone)
	inputs, _ := filepath.Glob("testdata/*.in")
	if len(inputs) == 0 {
		t.Fatal("no transcripts")
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".in")
		t.Run(name, func(t *testing.T) {
			script, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			// First line: the --lang flag or "-", then "alone" when no
			// consultants are configured.
			first, rest, _ := strings.Cut(string(script), "\n")
			lang, mode, _ := strings.Cut(first, " ")
			if lang == "-" {
				lang = ""
			}
			engine := withPeople
			if mode == "alone" {
				engine = withoutPeople
			}
			var out bytes.Buffer
			clock := func() time.Time { return time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) }
			c := New(engine, bot.NewRenderer(base, cat), &out, clock)
			c.Echo = true
			if err := c.Run(context.Background(), strings.NewReader(rest), knowledge.Lang(lang)); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./bot/console -update)", err)
			}
			if diff := cmp.Diff(string(want), out.String()); diff != "" {
				t.Errorf("%s (-want +got):\n%s", golden, diff)
			}
		})
	}
}
