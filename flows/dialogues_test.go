package flows

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/witaj/witaj/knowledge"
)

func readDialogues(tb testing.TB, path string) []DialogueTurn {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	turns, err := ParseDialogues(path, f)
	if err != nil {
		tb.Fatal(err)
	}
	return turns
}

// evalStart is a weekday morning, so that neither review dates nor
// consultants' hours depend on the day the tests run.
var evalStart = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// TestDialogues holds the conversation to floors on the development
// dialogues (a copy of shared/eval/dialogues.tsv) and on the other
// dialogue files in testdata, kind by kind. The floors on the development
// set are the targets of issue 8; those on the others sit a little under
// today's figures, so that a real regression fails and noise does not.
func TestDialogues(t *testing.T) {
	e := shippedEngine(t, DefaultConfig())
	tests := []struct {
		file   string
		floors map[ExpectKind]float64
		turns  float64
	}{
		{"testdata/dialogues-dev.tsv", map[ExpectKind]float64{
			ExpectFollowUp: 0.80, ExpectSocial: 0.95, ExpectMulti: 0.75, ExpectOOS: 0.90, ExpectHuman: 0.95,
		}, 0.90},
	}
	others, _ := filepath.Glob("testdata/dialogues-*.tsv")
	for _, f := range others {
		if strings.HasSuffix(f, "-dev.tsv") {
			continue
		}
		tests = append(tests, struct {
			file   string
			floors map[ExpectKind]float64
			turns  float64
		}{f, map[ExpectKind]float64{
			// Today the lowest of them: followup 0.816, oos 0.940, human
			// 0.957, social 1.000, turns 0.892 (dialogues-extra).
			ExpectFollowUp: 0.78, ExpectSocial: 0.95, ExpectOOS: 0.90, ExpectHuman: 0.92,
		}, 0.86})
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			results := e.PlayDialogues(readDialogues(t, tt.file), evalStart)
			sc := Score(results)
			t.Log(sc.Summary())
			if sc.TurnShare() < tt.turns {
				t.Errorf("turn_ok %.3f < %.2f", sc.TurnShare(), tt.turns)
			}
			for k, floor := range tt.floors {
				if sc.Share(k) < floor {
					t.Errorf("%s_ok %.3f < %.2f", k, sc.Share(k), floor)
				}
			}
			if t.Failed() {
				for _, r := range results {
					if !r.OK {
						t.Logf("%s:%d [%s] want %s, got %s: %s", tt.file, r.Turn.Line, r.Turn.Lang, r.Turn.Expect, r.Outcome.Describe(), r.Turn.Text)
					}
				}
			}
		})
	}
}

// TestJudge pins how a turn's outcome is judged, kind by kind.
func TestJudge(t *testing.T) {
	answer := func(id string) Action { return Answer{EntryID: id} }
	offer := func(id string) Action {
		return Reply{Key: "match.also_asked", Buttons: [][]Button{{{Label: id, Data: prefixTopic + id}}}}
	}
	tests := []struct {
		expect  string
		actions []Action
		want    bool
	}{
		{"legal.pesel", []Action{answer("legal.pesel")}, true},
		{"legal.pesel", []Action{answer("legal.card"), answer("legal.pesel")}, false},
		{"legal.pesel", []Action{Reply{Key: "match.did_you_mean", Buttons: [][]Button{{{Data: "topic:legal.pesel"}}}}}, false},
		{"^legal.pesel", []Action{Answer{EntryID: "legal.pesel", Facet: "cost"}}, true},
		{"a+b", []Action{answer("a"), offer("b")}, true},
		{"a+b", []Action{answer("b"), answer("a")}, true},
		{"a+b", []Action{answer("a")}, false},
		{"a+b", []Action{Reply{Key: "match.did_you_mean", Buttons: [][]Button{{{Data: "topic:a"}, {Data: "topic:b"}}}}}, false},
		{"social", []Action{Reply{Key: "social.thanks"}}, true},
		{"social", []Action{Reply{Key: "match.none"}}, false},
		{"social", []Action{Reply{Key: "match.did_you_mean"}}, false},
		{"social", []Action{answer("legal.pesel")}, false},
		{"social", nil, false},
		{"-", []Action{Reply{Key: "scope.elsewhere"}}, true},
		{"-", []Action{Reply{Key: "match.did_you_mean"}}, true},
		{"-", []Action{answer("work.wage")}, false},
		{"human", []Action{Reply{Key: "escalate.explain"}}, true},
		{"human", []Action{Escalate{}}, true},
		{"human", []Action{Reply{Key: "match.none"}}, false},
	}
	for _, tt := range tests {
		got := DialogueTurn{Expect: tt.expect}.Judge(OutcomeOf(tt.actions))
		if got != tt.want {
			t.Errorf("expect %s, actions %v: judged %v, want %v", tt.expect, tt.actions, got, tt.want)
		}
	}
}

// BenchmarkTurn times one full turn through the engine on the shipped
// FAQ, as a user takes it: the language is chosen, the session carries the
// conversation, and each message is read by the phrasebook, matched (with
// the topic at hand for follow-ups) and split when it asks two questions.
// The messages are the development dialogues, replayed in order.
func BenchmarkTurn(b *testing.B) {
	e := shippedEngine(b, DefaultConfig())
	turns := readDialogues(b, "testdata/dialogues-dev.tsv")
	b.ReportAllocs()
	b.ResetTimer()
	var s Session
	prev := ""
	for i := 0; b.Loop(); i++ {
		t := turns[i%len(turns)]
		if t.Dialogue != prev {
			prev = t.Dialogue
			s = Session{Schema: SchemaVersion, Lang: t.Lang, LangConfirmed: true}
		}
		s, _ = e.Step(s, Event{Kind: TextMessage, Text: t.Text}, evalStart)
	}
}

// TestTopicExpires: the topic at hand gives a short follow-up its meaning
// for a while only.
func TestTopicExpires(t *testing.T) {
	e := shippedEngine(t, DefaultConfig())
	s := Session{Schema: SchemaVersion, Lang: "en", LangConfirmed: true}
	s, _ = e.Step(s, Event{Kind: TextMessage, Text: "How do I apply for a temporary residence permit?"}, evalStart)
	_, soon := e.Step(s, Event{Kind: TextMessage, Text: "how much does it cost?"}, evalStart.Add(5*time.Minute))
	if o := OutcomeOf(soon); len(o.Answers) != 1 || o.Answers[0] != "legal.temporary-residence" {
		t.Errorf("5 minutes later: %s", o.Describe())
	}
	_, late := e.Step(s, Event{Kind: TextMessage, Text: "how much does it cost?"}, evalStart.Add(2*time.Hour))
	if o := OutcomeOf(late); len(o.Answers) > 0 {
		t.Errorf("2 hours later the old topic still answers: %s", o.Describe())
	}
}

// TestLanguageFromApp: the app's language_code picks the first reply's
// language; anything else gets English with the language picker, and a
// choice made once stays.
func TestLanguageFromApp(t *testing.T) {
	e := testEngine(t)
	tests := []struct {
		hint string
		want knowledge.Lang
	}{
		{"uk-UA", knowledge.UK}, {"ru", knowledge.RU}, {"pl", knowledge.PL}, {"en-GB", knowledge.EN},
		{"", knowledge.EN}, {"de", knowledge.EN}, {"be", knowledge.RU},
	}
	for _, tt := range tests {
		s, acts := e.Step(Session{}, Event{Kind: CommandMessage, Command: "start", LangHint: tt.hint}, evalStart)
		if s.Lang != tt.want || s.LangConfirmed || s.Awaiting != AwaitLanguage {
			t.Errorf("hint %q: lang %s confirmed %v awaiting %q, want %s and the picker", tt.hint, s.Lang, s.LangConfirmed, s.Awaiting, tt.want)
		}
		if r, ok := acts[0].(Reply); !ok || r.Key != "lang.choose" {
			t.Errorf("hint %q: first action %v, want the language picker", tt.hint, acts[0])
		}
		s, _ = e.Step(s, Event{Kind: ButtonPress, Data: "lang:pl", LangHint: tt.hint}, evalStart)
		s, _ = e.Step(s, Event{Kind: TextMessage, Text: "hello", LangHint: tt.hint}, evalStart)
		if s.Lang != knowledge.PL || !s.LangConfirmed {
			t.Errorf("hint %q: after choosing Polish the language is %s", tt.hint, s.Lang)
		}
	}
}
