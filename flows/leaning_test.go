package flows

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/witaj/witaj/knowledge"
)

// TestWordsThatNameNothing: a message, or one part of a message, that
// names nothing ("what can they help me with?") leans on the topic next
// to it. It is neither a question of its own, answered from whatever
// topic its few words touch, nor a cry for help.
func TestWordsThatNameNothing(t *testing.T) {
	playLastAnswers(t, []lastAnswerCase{
		{"second part leans on the first", knowledge.EN,
			[]string{"what is the foreigners integration centre in gdansk and what can they help me with?"},
			[]string{"help.integration-centre"}},
		{"follow-up after the leaning part", knowledge.EN,
			[]string{"what is the foreigners integration centre in gdansk and what can they help me with?",
				"how do I reach them, is there a phone number?"},
			[]string{"help.integration-centre"}},
		{"a message of its own", knowledge.EN,
			[]string{"what is the foreigners integration centre in gdansk?", "what can they help me with?"},
			[]string{"help.integration-centre"}},
		{"pointing back while naming much is a new question", knowledge.EN,
			[]string{"how can I bring my wife and kids to Poland? and can my grandfather's Polish roots help me get permanent residence?",
				"will my kids be able to go to a Polish school without knowing polish?"},
			[]string{"lang.children-school"}},
		{"pointing back with few words is a follow-up", knowledge.EN,
			[]string{"how do I get a PESEL number?", "how long does it take?"},
			[]string{"legal.pesel"}},
		{"two real questions still both answered", knowledge.EN,
			[]string{"how do I get a PESEL number and where can I find free Polish courses?"},
			[]string{"legal.pesel", "lang.free-courses"}},
	})
}

// TestFollowUpSharingWords: a follow-up whose words another topic shares
// ("a gdzie się składa wniosek?" — every residence topic has an
// application) stays with the topic at hand when that topic knows the
// words at least as well, and the message does not name the other topic
// by one of its keywords.
func TestFollowUpSharingWords(t *testing.T) {
	playLastAnswers(t, []lastAnswerCase{
		{"shared words stay", knowledge.PL,
			[]string{"jak dostać zezwolenie na pobyt stały?", "a gdzie się składa wniosek?"},
			[]string{"legal.permanent-residence"}},
		{"shared words stay, in English", knowledge.EN,
			[]string{"how do I get EU long-term residence?", "what level of polish do I need?"},
			[]string{"legal.eu-long-term"}},
		{"a keyword of another topic moves on", knowledge.RU,
			[]string{"как получить песель, если я живу в Гдыне без прописки?", "а прописку где сделать?"},
			[]string{"legal.address-registration"}},
		{"a keyword of another topic is not a facet of this one", knowledge.EN,
			[]string{"how do i get a pesel number?", "also are there any free polish classes for complete beginners?"},
			[]string{"lang.free-courses"}},
		{"the topic that knows the words better wins", knowledge.UK,
			[]string{"яка різниця між umowa o pracę та umowa zlecenie? і яка мінімальна ставка за годину?",
				"чи має бути договір українською?"},
			[]string{"work.contracts"}},
	})
}

// TestConditionalFollowUp: a follow-up that opens with a condition asks
// about the topic at hand in that case, though it names another topic,
// when the topic at hand speaks of such cases and the message is short.
// The chats are written in the evaluation's format (expect: ^topic, a
// follow-up; topic, a new question) and played as the evaluation does,
// consultant cases opened.
func TestConditionalFollowUp(t *testing.T) {
	const chats = `
c1	en	health.family-doctor	how do I register with a family doctor?
c1	en	^health.family-doctor	what if I don't have NFZ insurance yet?
c2	pl	legal.citizenship	jak dostać obywatelstwo polskie?
c2	pl	^legal.citizenship	a jeśli mój mąż jest Polakiem?
c3	en	legal.pesel	how do i get a pesel number?
c3	en	health.after-hours	what if I get sick at night?
c4	uk	help.trafficking	знайома каже, що її тримають на фермі й забрали паспорт. куди звертатися?
c4	uk	help.discrimination	а якщо мене на роботі ображають через те, що я українка, куди скаржитись?
`
	turns, err := ParseDialogues("chats", strings.NewReader(strings.TrimPrefix(chats, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range shippedEngine(t, DefaultConfig()).PlayDialogues(turns, evalStart) {
		if !r.OK {
			t.Errorf("%s %q: want %s, got %+v", r.Turn.Dialogue, r.Turn.Text, r.Turn.Expect, r.Outcome)
		}
	}
}

// lastAnswerCase is a short chat and the topics its last message is
// answered with.
type lastAnswerCase struct {
	name string
	lang knowledge.Lang
	msgs []string // all but the last set the topic at hand
	want []string // topics the last message is answered with
}

// playLastAnswers plays each case on the shipped FAQ.
func playLastAnswers(t *testing.T, tests []lastAnswerCase) {
	t.Helper()
	e := shippedEngine(t, DefaultConfig())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lastAnswers(t, e, tt.lang, tt.msgs); !slices.Equal(got, tt.want) {
				t.Errorf("answered %v, want %v", got, tt.want)
			}
		})
	}
}

// lastAnswers plays msgs in one chat and returns the topics the last one
// is answered with; no message may open a case.
func lastAnswers(t *testing.T, e *Engine, lang knowledge.Lang, msgs []string) []string {
	t.Helper()
	s := Session{Schema: SchemaVersion, Lang: lang, LangConfirmed: true}
	now := evalStart
	var actions []Action
	for _, m := range msgs {
		s, actions = e.Step(s, Event{Kind: TextMessage, Text: m}, now)
		now = now.Add(time.Minute)
		for _, a := range actions {
			if esc, ok := a.(Escalate); ok {
				t.Fatalf("%q opened a case (urgent %v)", m, esc.Urgent)
			}
		}
	}
	return OutcomeOf(actions).Answers
}
