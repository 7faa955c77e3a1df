package flows

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/witaj/witaj/knowledge"
)

// Dialogue evaluation: short conversations, one user message a line,
// replayed through the engine with its session, each turn judged by what
// the bot did. The file format is
//
//	dialogue<TAB>lang<TAB>expect<TAB>message
//
// where consecutive lines with the same dialogue id form one conversation
// that starts fresh with the language chosen, and expect is a topic id
// (answered directly), ^id (a follow-up answered with that topic or one
// of its facets), a+b (both addressed: one answered, the other answered
// or offered), social (no answer, no "did you mean", no "not sure"), -
// (no answer) or human (the way to a consultant starts).

// ExpectKind is the kind of a turn's expectation.
type ExpectKind string

// Expectation kinds, in report order.
const (
	ExpectTopic    ExpectKind = "topic"
	ExpectFollowUp ExpectKind = "followup"
	ExpectMulti    ExpectKind = "multi"
	ExpectSocial   ExpectKind = "social"
	ExpectOOS      ExpectKind = "oos"
	ExpectHuman    ExpectKind = "human"
)

// ExpectKinds returns the kinds in report order.
func ExpectKinds() []ExpectKind {
	return []ExpectKind{ExpectTopic, ExpectFollowUp, ExpectMulti, ExpectSocial, ExpectOOS, ExpectHuman}
}

// DialogueTurn is one line of a dialogue file.
type DialogueTurn struct {
	Dialogue string
	Lang     knowledge.Lang
	Expect   string
	Text     string
	Line     int
}

// Kind returns the kind of the turn's expectation.
func (t DialogueTurn) Kind() ExpectKind {
	switch {
	case t.Expect == "social":
		return ExpectSocial
	case t.Expect == "-":
		return ExpectOOS
	case t.Expect == "human":
		return ExpectHuman
	case strings.HasPrefix(t.Expect, "^"):
		return ExpectFollowUp
	case strings.Contains(t.Expect, "+"):
		return ExpectMulti
	}
	return ExpectTopic
}

// ParseDialogues reads a dialogue file; name is used in errors.
func ParseDialogues(name string, r io.Reader) ([]DialogueTurn, error) {
	var out []DialogueTurn
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.SplitN(line, "\t", 4)
		if len(f) != 4 || f[0] == "" || strings.TrimSpace(f[3]) == "" {
			return nil, fmt.Errorf("%s:%d: want dialogue<TAB>lang<TAB>expect<TAB>message", name, n)
		}
		l := knowledge.Lang(f[1])
		if !l.Known() {
			return nil, fmt.Errorf("%s:%d: unknown language %q", name, n, f[1])
		}
		out = append(out, DialogueTurn{Dialogue: f[0], Lang: l, Expect: f[2], Text: f[3], Line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return out, nil
}

// Outcome is what the bot did with one message, as the judge sees it.
type Outcome struct {
	// Answers are the topics answered directly, in order (a facet counts
	// as its topic).
	Answers []string
	// Offered are topics offered as buttons outside answers ("did you
	// mean", "you also asked about").
	Offered []string
	// DidYouMean, NotSure and Human: the bot asked which topic was meant,
	// said it could not help, or started the way to a consultant.
	DidYouMean, NotSure, Human bool
	// Replied: the bot said something, or passed the message on.
	Replied bool
}

// OutcomeOf judges a step's actions.
func OutcomeOf(actions []Action) Outcome {
	var o Outcome
	for _, a := range actions {
		switch a := a.(type) {
		case Answer:
			o.Answers = append(o.Answers, a.EntryID)
			o.Replied = true
		case Reply:
			o.Replied = true
			switch a.Key {
			case "match.did_you_mean":
				o.DidYouMean = true
			case "match.none", "match.none_alone", "escalate.offer", "followup.not_covered":
				o.NotSure = true
			case "escalate.explain", "escalate.already_open":
				o.Human = true
			}
			for _, row := range a.Buttons {
				for _, b := range row {
					if id, ok := strings.CutPrefix(b.Data, prefixTopic); ok {
						o.Offered = append(o.Offered, id)
					}
				}
			}
		case Escalate:
			o.Human = true
		case Relay:
			o.Replied = true
		}
	}
	return o
}

// Judge reports whether an outcome meets the turn's expectation.
func (t DialogueTurn) Judge(o Outcome) bool {
	first := ""
	if len(o.Answers) > 0 {
		first = o.Answers[0]
	}
	switch t.Kind() {
	case ExpectSocial:
		return o.Replied && len(o.Answers) == 0 && !o.DidYouMean && !o.NotSure
	case ExpectOOS:
		return len(o.Answers) == 0
	case ExpectHuman:
		return o.Human
	case ExpectFollowUp:
		return first == strings.TrimPrefix(t.Expect, "^")
	case ExpectMulti:
		a, b, _ := strings.Cut(t.Expect, "+")
		addressed := func(id string) bool { return slices.Contains(o.Answers, id) || slices.Contains(o.Offered, id) }
		return (slices.Contains(o.Answers, a) || slices.Contains(o.Answers, b)) && addressed(a) && addressed(b)
	}
	return first == t.Expect
}

// Describe summarises an outcome for a miss report.
func (o Outcome) Describe() string {
	var parts []string
	if len(o.Answers) > 0 {
		parts = append(parts, "answered "+strings.Join(o.Answers, ","))
	}
	if o.DidYouMean {
		parts = append(parts, "did you mean "+strings.Join(o.Offered, ","))
	} else if len(o.Offered) > 0 {
		parts = append(parts, "offered "+strings.Join(o.Offered, ","))
	}
	if o.NotSure {
		parts = append(parts, "not sure")
	}
	if o.Human {
		parts = append(parts, "human")
	}
	if len(parts) == 0 {
		if o.Replied {
			return "replied"
		}
		return "nothing"
	}
	return strings.Join(parts, "; ")
}

// DialogueResult is one judged turn.
type DialogueResult struct {
	Turn    DialogueTurn
	Outcome Outcome
	OK      bool
}

// PlayDialogues replays every dialogue through the engine. Each starts
// fresh with its language chosen; messages are a minute apart from start.
// A consultant case the engine asks for is opened at once, as the service
// would.
func (e *Engine) PlayDialogues(turns []DialogueTurn, start time.Time) []DialogueResult {
	var (
		out  []DialogueResult
		s    Session
		now  time.Time
		prev string
		n    int
	)
	for _, t := range turns {
		if t.Dialogue != prev {
			prev, now = t.Dialogue, start
			s = Session{Schema: SchemaVersion, Lang: t.Lang, LangConfirmed: true}
		}
		var actions []Action
		s, actions = e.Step(s, Event{Kind: TextMessage, Text: t.Text}, now)
		for _, a := range actions {
			if _, ok := a.(Escalate); ok {
				n++
				var more []Action
				s, more = e.Step(s, Event{Kind: CaseOpened, CaseID: fmt.Sprintf("eval-%d", n)}, now)
				actions = append(actions, more...)
			}
		}
		o := OutcomeOf(actions)
		out = append(out, DialogueResult{Turn: t, Outcome: o, OK: t.Judge(o)})
		now = now.Add(time.Minute)
	}
	return out
}

// DialogueScore counts judged turns per kind.
type DialogueScore struct {
	Dialogues, Turns, OK int
	N, Hits              map[ExpectKind]int
}

// Score tallies results.
func Score(results []DialogueResult) DialogueScore {
	sc := DialogueScore{N: map[ExpectKind]int{}, Hits: map[ExpectKind]int{}}
	prev := ""
	for _, r := range results {
		if r.Turn.Dialogue != prev {
			prev = r.Turn.Dialogue
			sc.Dialogues++
		}
		sc.Turns++
		k := r.Turn.Kind()
		sc.N[k]++
		if r.OK {
			sc.OK++
			sc.Hits[k]++
		}
	}
	return sc
}

// Share returns the share of kind k's turns that were handled well (1
// when there are none).
func (sc DialogueScore) Share(k ExpectKind) float64 {
	if sc.N[k] == 0 {
		return 1
	}
	return float64(sc.Hits[k]) / float64(sc.N[k])
}

// TurnShare returns the share of all turns handled well.
func (sc DialogueScore) TurnShare() float64 {
	if sc.Turns == 0 {
		return 1
	}
	return float64(sc.OK) / float64(sc.Turns)
}

// Summary is the one-line summary that tools and CI read.
func (sc DialogueScore) Summary() string {
	return fmt.Sprintf("dialogues n=%d turns=%d turn_ok=%.3f topic_ok=%.3f followup_ok=%.3f multi_ok=%.3f social_ok=%.3f oos_ok=%.3f human_ok=%.3f",
		sc.Dialogues, sc.Turns, sc.TurnShare(), sc.Share(ExpectTopic), sc.Share(ExpectFollowUp), sc.Share(ExpectMulti),
		sc.Share(ExpectSocial), sc.Share(ExpectOOS), sc.Share(ExpectHuman))
}
