package flows

import (
	"time"

	"github.com/witaj/witaj/knowledge"
)

// text handles a typed message.
func (st *step) text(ev Event) {
	st.ensureLang(ev.LangHint)
	if st.s.Case.Active() {
		// While a consultant has the case, everything the user writes is
		// for them, even before a language was chosen (an urgent case).
		st.remember(FromUser, ev.Text)
		st.emit(Relay{CaseID: st.s.Case.ID, Text: ev.Text})
		return
	}
	if !st.s.LangConfirmed {
		st.firstText(ev)
		return
	}
	st.s.Awaiting = AwaitNothing
	st.ask(ev.Text)
}

// firstText handles a question that arrives before the user chose a
// language: keep it, ask for the language, answer after. A message about
// danger is answered at once, in the best guess of language.
func (st *step) firstText(ev Event) {
	if ev.LangHint == "" && len(st.s.Transcript) == 0 {
		// No hint from the app: the text's own language is the best guess.
		if detected := knowledge.DetectLang(ev.Text); detected != "" {
			st.s.Lang = detected
		}
	}
	res := st.e.matcher.Match(ev.Text, st.s.Lang)
	if res.Danger {
		st.ask(ev.Text)
		return
	}
	st.s.Pending = truncateRunes(ev.Text, maxStoredRunes)
	st.chooseLanguage()
}

// ask matches a question and answers, suggests or admits not knowing.
func (st *step) ask(q string) {
	st.remember(FromUser, q)
	res := st.e.matcher.Match(q, st.s.Lang)
	switch {
	case res.Danger:
		st.s.Misses = 0
		top := res.Candidates[0].Entry
		st.say("match.danger", nil)
		st.answer(top)
		st.escalate(true, q, guesses(res))
	case res.Decision == knowledge.Direct && res.Candidates[0].Entry.ID == st.e.cfg.HumanTopic:
		st.s.Misses = 0
		st.requestHuman()
	case res.Decision == knowledge.Direct:
		st.s.Misses = 0
		st.answer(res.Candidates[0].Entry)
	case res.Decision == knowledge.Suggest:
		st.gap(q, res)
		var rows [][]Button
		for _, c := range res.Suggested {
			rows = append(rows, []Button{topicButton(c.Entry, st.s.Lang)})
		}
		rows = append(rows, []Button{{LabelKey: "button.none", Data: dataNone}}, humanRow())
		st.say("match.did_you_mean", nil, rows...)
	default:
		st.gap(q, res)
		st.miss()
	}
}

// miss counts a message the bot could not answer; after enough in a row
// it offers a consultant instead of asking to rephrase again.
func (st *step) miss() {
	st.s.Misses++
	if st.s.Misses >= st.e.cfg.MissesBeforeOffer {
		st.s.Misses = 0
		st.offerHuman("escalate.offer")
		return
	}
	st.say("match.none", nil, []Button{{LabelKey: "button.menu", Data: dataMenu}, {LabelKey: "button.human", Data: dataHuman}})
}

func (st *step) gap(q string, res knowledge.Result) {
	st.emit(Gap{Lang: st.s.Lang, Text: truncateRunes(q, maxStoredRunes), Decision: res.Decision, Guesses: guesses(res)})
}

func guesses(res knowledge.Result) []string {
	var ids []string
	for _, c := range res.Candidates {
		ids = append(ids, c.Entry.ID)
	}
	return ids
}

func (st *step) answerID(id string) {
	e, ok := st.e.kb.Entry(id)
	if !ok {
		st.menu() // a button from an older FAQ whose topic is gone
		return
	}
	st.s.Misses = 0
	st.answer(e)
}

// answer sends an entry's answer with related topics and feedback buttons.
func (st *step) answer(e *knowledge.Entry) {
	// The feedback buttons come first, right under "Was this helpful?".
	rows := [][]Button{{{LabelKey: "button.helpful", Data: prefixUp + e.ID}, {LabelKey: "button.not_helpful", Data: prefixDown + e.ID}}}
	for _, id := range e.Related {
		if r, ok := st.e.kb.Entry(id); ok {
			rows = append(rows, []Button{topicButton(r, st.s.Lang)})
		}
	}
	rows = append(rows, []Button{{LabelKey: "button.menu", Data: dataMenu}, {LabelKey: "button.human", Data: dataHuman}})
	st.emit(Answer{
		EntryID: e.ID,
		Ref:     e.Ref(),
		KB:      st.e.kb.Version().String(),
		Lang:    st.s.Lang,
		Stale:   stale(e, st.now),
		Buttons: rows,
	})
	st.remember(FromBot, "[answer "+e.Ref()+"]")
}

// stale reports an entry whose review_by date has passed.
func stale(e *knowledge.Entry, now time.Time) bool {
	return !e.ReviewBy.IsZero() && e.ReviewBy.Before(knowledge.DateOf(now))
}
