package flows

import (
	"slices"
	"testing"
	"time"

	"github.com/witaj/witaj/knowledge"
)

// TestWordsThatNameNothing: a message, or one part of a message, that
// names nothing ("what can they help me with?") leans on the topic next
// to it. It is neither a question of its own, answered from whatever
// topic its few words touch, nor a cry for help.
func TestWordsThatNameNothing(t *testing.T) {
	e := shippedEngine(t, DefaultConfig())
	tests := []struct {
		name string
		lang knowledge.Lang
		msgs []string // all but the last set the topic at hand
		want []string // topics the last message is answered with
	}{
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Session{Schema: SchemaVersion, Lang: tt.lang, LangConfirmed: true}
			now := evalStart
			var actions []Action
			for _, m := range tt.msgs {
				s, actions = e.Step(s, Event{Kind: TextMessage, Text: m}, now)
				now = now.Add(time.Minute)
				for _, a := range actions {
					if esc, ok := a.(Escalate); ok {
						t.Fatalf("%q opened a case (urgent %v)", m, esc.Urgent)
					}
				}
			}
			o := OutcomeOf(actions)
			if got := o.Answers; !slices.Equal(got, tt.want) {
				t.Errorf("answered %v, want %v (outcome %+v)", got, tt.want, o)
			}
		})
	}
}
