package flows

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/witaj/witaj/knowledge"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// t0 is the time of the first event of every test conversation.
var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func testEngine(t testing.TB) *Engine {
	t.Helper()
	return loadEngine(t, "testdata/faq", DefaultConfig())
}

func loadEngine(t testing.TB, dir string, cfg Config) *Engine {
	t.Helper()
	base, probs, err := knowledge.Load(os.DirFS(dir), knowledge.Options{})
	if err != nil {
		t.Fatalf("load %s: %v\n%v", dir, err, probs)
	}
	return New(base, knowledge.NewMatcher(base, knowledge.DefaultThresholds()), cfg)
}

// shippedEngine answers from the FAQ built into the binary.
func shippedEngine(t testing.TB, cfg Config) *Engine {
	t.Helper()
	base, probs, err := knowledge.Load(knowledge.DefaultFS(), knowledge.Options{})
	if err != nil {
		t.Fatalf("load the shipped FAQ: %v\n%v", err, probs)
	}
	return New(base, knowledge.NewMatcher(base, knowledge.DefaultThresholds()), cfg)
}

// TestConversations plays every script in testdata/conversations (on the
// small test FAQ) and testdata/shipped (on the shipped FAQ) and compares
// the engine's actions with the golden file beside it. Scripts are read by
// parseLine; a first line "config alone" plays it without consultants.
// Run `go test ./flows -update` to refresh the golden files after an
// intended change, and review the diff. In testdata/shipped the
// knowledge-base version is written as KB, so that FAQ edits elsewhere do
// not churn these files.
func TestConversations(t *testing.T) {
	alone := DefaultConfig()
	alone.Consultants = false
	engines := map[string][2]*Engine{
		"conversations": {testEngine(t), New(testEngine(t).kb, testEngine(t).matcher, alone)},
		"shipped":       {shippedEngine(t, DefaultConfig()), shippedEngine(t, alone)},
	}
	for dir, es := range engines {
		scripts, _ := filepath.Glob(filepath.Join("testdata", dir, "*.txt"))
		if len(scripts) == 0 {
			t.Fatalf("no conversation scripts in testdata/%s", dir)
		}
		for _, path := range scripts {
			t.Run(dir+"/"+strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
				src, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				e := es[0]
				if strings.HasPrefix(string(src), "config alone\n") {
					e = es[1]
				}
				got := play(t, e, path)
				if dir == "shipped" {
					got = strings.ReplaceAll(got, e.kb.Version().String(), "KB")
				}
				golden := strings.TrimSuffix(path, ".txt") + ".golden"
				if *update {
					if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./flows -update)", err)
				}
				if diff := cmp.Diff(string(want), got); diff != "" {
					t.Errorf("%s (-want +got):\n%s", golden, diff)
				}
			})
		}
	}
}

// play runs a script: one event per line, and returns the transcript of
// events, actions and the resulting session.
func play(t *testing.T, e *Engine, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out  strings.Builder
		s    Session
		hint string
		now  = t0
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if line == "config alone" {
			continue
		}
		if dir, ok := strings.CutPrefix(line, "faq "); ok {
			// The editors publish a new FAQ: the engine changes, the
			// session stays.
			e = loadEngine(t, filepath.Join("testdata", dir), e.cfg)
			fmt.Fprintf(&out, "> %s\n", line)
			continue
		}
		if id, ok := strings.CutPrefix(line, "alert "); ok {
			// The broadcaster's view: an alert goes to this chat only if
			// it follows the topic or its category.
			fmt.Fprintf(&out, "> %s\n", line)
			entry, _ := e.kb.Entry(id)
			if a, ok := e.AlertFor(id, s.Lang); ok && entry != nil && s.FollowsTopic(entry) {
				fmt.Fprintf(&out, "  %s\n", formatAction(a))
			} else {
				fmt.Fprintf(&out, "  (no alert)\n")
			}
			continue
		}
		if h, ok := strings.CutPrefix(line, "hint "); ok {
			hint = h
			continue
		}
		ev, err := parseLine(line)
		if err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		ev.LangHint, ev.FirstName = hint, "Olena"
		var actions []Action
		s, actions = e.Step(s, ev, now)
		now = now.Add(time.Minute)
		fmt.Fprintf(&out, "> %s\n", line)
		for _, a := range actions {
			fmt.Fprintf(&out, "  %s\n", formatAction(a))
		}
		fmt.Fprintf(&out, "  = %s\n", formatSession(s))
	}
	return out.String()
}

// parseLine reads one script line:
//
//	/cmd arg            a command
//	press DATA          a button press
//	sticker             an unsupported message
//	case-opened ID N    the case opened with N cases ahead
//	case-claimed, case-resolved
//	consultant TEXT     a consultant's message
//	anything else       typed text
func parseLine(line string) (Event, error) {
	word, rest, _ := strings.Cut(line, " ")
	switch {
	case strings.HasPrefix(line, "/"):
		return Event{Kind: CommandMessage, Command: word[1:], Arg: rest}, nil
	case word == "press":
		return Event{Kind: ButtonPress, Data: rest}, nil
	case word == "sticker":
		return Event{Kind: UnsupportedMessage}, nil
	case word == "case-opened":
		var id string
		var ahead int
		if _, err := fmt.Sscanf(rest, "%s %d", &id, &ahead); err != nil {
			return Event{}, fmt.Errorf("case-opened ID AHEAD: %w", err)
		}
		return Event{Kind: CaseOpened, CaseID: id, Ahead: ahead}, nil
	case word == "case-claimed":
		return Event{Kind: CaseClaimed}, nil
	case word == "case-resolved":
		return Event{Kind: CaseResolved}, nil
	case word == "consultant":
		return Event{Kind: ConsultantMessage, Text: rest}, nil
	}
	return Event{Kind: TextMessage, Text: line}, nil
}

func formatAction(a Action) string {
	switch a := a.(type) {
	case Reply:
		s := "reply " + a.Key
		if len(a.Data) > 0 {
			s += fmt.Sprint(" ", map[string]any(a.Data))
		}
		if a.Lang != "" {
			s += " lang=" + string(a.Lang)
		}
		return s + formatButtons(a.Buttons)
	case Answer:
		ref := a.Ref
		if a.Facet != "" {
			ref += "#" + string(a.Facet)
		}
		return fmt.Sprintf("answer %s kb=%s lang=%s stale=%v%s", ref, a.KB, a.Lang, a.Stale, formatButtons(a.Buttons))
	case Escalate:
		return fmt.Sprintf("escalate urgent=%v lang=%s category=%s guesses=%v question=%q turns=%d name=%s",
			a.Urgent, a.Lang, a.Category, a.Guesses, a.Question, len(a.Transcript), a.FirstName)
	case Relay:
		return fmt.Sprintf("relay %s %q", a.CaseID, a.Text)
	case Deliver:
		return fmt.Sprintf("deliver %q", a.Text)
	case CloseCase:
		return "close-case " + a.CaseID
	case Forget:
		return "forget"
	case Gap:
		return fmt.Sprintf("gap %s %s %v %q", a.Lang, a.Decision, a.Guesses, a.Text)
	case Rate:
		return fmt.Sprintf("rate %s %d", a.CaseID, a.Score)
	case Alert:
		return fmt.Sprintf("alert %s kb=%s lang=%s%s", a.Ref, a.KB, a.Lang, formatButtons(a.Buttons))
	}
	return fmt.Sprintf("%#v", a)
}

func formatButtons(rows [][]Button) string {
	if len(rows) == 0 {
		return ""
	}
	var rs []string
	for _, row := range rows {
		var bs []string
		for _, b := range row {
			label := b.Label
			if b.LabelKey != "" {
				label = b.LabelKey
			}
			bs = append(bs, label+"="+b.Data)
		}
		rs = append(rs, strings.Join(bs, ", "))
	}
	return " [" + strings.Join(rs, " | ") + "]"
}

func formatSession(s Session) string {
	out := fmt.Sprintf("lang=%s confirmed=%v awaiting=%q misses=%d turns=%d", s.Lang, s.LangConfirmed, s.Awaiting, s.Misses, len(s.Transcript))
	if s.Pending != "" {
		out += fmt.Sprintf(" pending=%q", s.Pending)
	}
	if s.Topic != "" {
		out += " topic=" + s.Topic
	}
	if s.Case != nil {
		out += fmt.Sprintf(" case=%s/%s urgent=%v", s.Case.ID, s.Case.Status, s.Case.Urgent)
	}
	if len(s.Subs) > 0 {
		out += fmt.Sprintf(" subs=%v", s.Subs)
	}
	return out
}

// TestButtonDataFits checks every payload the engine can put on a button
// against Telegram's 64-byte callback_data limit, for the shipped FAQ.
func TestButtonDataFits(t *testing.T) {
	base, _, err := knowledge.Load(knowledge.DefaultFS(), knowledge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, e := range base.Entries() {
		all = append(all, prefixTopic+e.ID, prefixUp+e.ID, prefixDown+e.ID, prefixSub+e.ID, prefixUnsub+e.ID)
	}
	for _, c := range knowledge.Categories() {
		all = append(all, prefixSub+SubCategory(c), prefixUnsub+SubCategory(c))
	}
	for _, c := range knowledge.Categories() {
		all = append(all, prefixCategory+string(c))
	}
	for _, b := range languageRow() {
		all = append(all, b.Data)
	}
	all = append(all, dataMenu, dataHuman, dataNone, dataConsentYes, dataConsentNo, dataForgetYes, dataForgetNo)
	for _, d := range all {
		if len(d) > 64 {
			t.Errorf("button data %q is %d bytes; Telegram allows 64", d, len(d))
		}
	}
}

// TestStepIsPure: the same session, event and time give the same result,
// and the input session is not modified.
func TestStepIsPure(t *testing.T) {
	e := testEngine(t)
	s := Session{Schema: SchemaVersion, Lang: knowledge.EN, LangConfirmed: true, Transcript: []Turn{{From: FromUser, Text: "hi", At: t0}}}
	before := fmt.Sprintf("%+v", s)
	ev := Event{Kind: TextMessage, Text: "how do I get a pesel"}
	s1, a1 := e.Step(s, ev, t0)
	s2, a2 := e.Step(s, ev, t0)
	if diff := cmp.Diff(s1, s2); diff != "" {
		t.Errorf("sessions differ:\n%s", diff)
	}
	if fmt.Sprint(a1) != fmt.Sprint(a2) {
		t.Errorf("actions differ: %v vs %v", a1, a2)
	}
	if after := fmt.Sprintf("%+v", s); after != before {
		t.Errorf("Step modified its input session:\n%s\n%s", before, after)
	}
}

func TestStep(t *testing.T) {
	e := testEngine(t)
	ready := func(l knowledge.Lang) Session {
		return Session{Schema: SchemaVersion, Lang: l, LangConfirmed: true}
	}
	tests := []struct {
		name     string
		session  Session
		event    Event
		wantKeys []string // Reply keys and, for other actions, their type
		check    func(t *testing.T, s Session)
	}{
		{"old schema starts afresh", Session{Schema: 99, Lang: knowledge.PL, LangConfirmed: true, Misses: 5},
			Event{Kind: CommandMessage, Command: "start", LangHint: "uk"}, []string{"lang.choose"},
			func(t *testing.T, s Session) {
				if s.Lang != knowledge.UK || s.Misses != 0 {
					t.Errorf("session = %+v, want a fresh one guessing uk", s)
				}
			}},
		{"deep link sets language", Session{}, Event{Kind: CommandMessage, Command: "start", Arg: "ru"}, []string{"welcome"},
			func(t *testing.T, s Session) {
				if s.Lang != knowledge.RU || !s.LangConfirmed {
					t.Errorf("lang = %s confirmed=%v, want ru confirmed", s.Lang, s.LangConfirmed)
				}
			}},
		{"belarusian app reads russian", Session{}, Event{Kind: CommandMessage, Command: "start", LangHint: "be-BY"}, []string{"lang.choose"},
			func(t *testing.T, s Session) {
				if s.Lang != knowledge.RU {
					t.Errorf("lang = %s, want ru", s.Lang)
				}
			}},
		{"forged button shows menu", ready(knowledge.EN), Event{Kind: ButtonPress, Data: "topic:../../etc"}, []string{"menu.prompt"}, nil},
		{"unknown category shows menu", ready(knowledge.EN), Event{Kind: ButtonPress, Data: "cat:nope"}, []string{"menu.prompt"}, nil},
		{"forget without confirmation does nothing", ready(knowledge.EN), Event{Kind: ButtonPress, Data: dataForgetYes}, []string{"menu.prompt"}, nil},
		{"consent without offer does nothing", ready(knowledge.EN), Event{Kind: ButtonPress, Data: dataConsentYes}, []string{"menu.prompt"}, nil},
		{"end without case", ready(knowledge.EN), Event{Kind: CommandMessage, Command: "end"}, []string{"case.none"}, nil},
		{"stale entry is flagged", ready(knowledge.EN), Event{Kind: ButtonPress, Data: "topic:legal.card"}, []string{"Answer"},
			nil},
		{"privacy quotes retention", ready(knowledge.PL), Event{Kind: CommandMessage, Command: "privacy"}, []string{"privacy"}, nil},
		{"huge text is bounded in the transcript", ready(knowledge.EN), Event{Kind: TextMessage, Text: strings.Repeat("pesel ", 2000)}, nil,
			func(t *testing.T, s Session) {
				for _, turn := range s.Transcript {
					if n := len([]rune(turn.Text)); n > maxStoredRunes+1 {
						t.Errorf("transcript turn of %d runes", n)
					}
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, actions := e.Step(tt.session, tt.event, t0)
			var keys []string
			for _, a := range actions {
				switch a := a.(type) {
				case Reply:
					keys = append(keys, a.Key)
				case Answer:
					keys = append(keys, "Answer")
					if a.EntryID == "legal.card" && !a.Stale {
						t.Error("legal.card is past review_by but not marked stale")
					}
				default:
					keys = append(keys, strings.TrimPrefix(fmt.Sprintf("%T", a), "flows."))
				}
			}
			if tt.wantKeys != nil && !slices.Equal(keys, tt.wantKeys) {
				t.Errorf("actions = %v, want %v", keys, tt.wantKeys)
			}
			if tt.check != nil {
				tt.check(t, s)
			}
		})
	}
}

func TestTranscriptIsBounded(t *testing.T) {
	e := testEngine(t)
	s := Session{Schema: SchemaVersion, Lang: knowledge.EN, LangConfirmed: true}
	for i := range 50 {
		s, _ = e.Step(s, Event{Kind: TextMessage, Text: fmt.Sprintf("question %d about pesel", i)}, t0)
	}
	if got, max := len(s.Transcript), DefaultConfig().TranscriptTurns; got > max {
		t.Errorf("transcript has %d turns, want at most %d", got, max)
	}
}
