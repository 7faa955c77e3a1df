package flows

import (
	"strconv"
	"strings"

	"github.com/witaj/witaj/knowledge"
)

// Button payloads. They are short and ASCII: Telegram allows 64 bytes of
// callback_data, and the longest here ("fb:down:" + a topic id) stays far
// below that for ids of the usual length (a test checks every topic).
const (
	dataMenu       = "menu"
	dataHuman      = "human"
	dataNone       = "none"
	dataConsentYes = "consent:yes"
	dataConsentNo  = "consent:no"
	dataForgetYes  = "forget:yes"
	dataForgetNo   = "forget:no"
	prefixLang     = "lang:"
	prefixCategory = "cat:"
	prefixTopic    = "topic:"
	prefixUp       = "fb:up:"
	prefixDown     = "fb:down:"
	prefixRate     = "rate:"
)

func languageRow() []Button {
	var row []Button
	for _, l := range knowledge.Langs() {
		row = append(row, languageButton(l))
	}
	return row
}

// languageButton chooses l. Its label is the language's name in that
// language: the user may not read the current one.
func languageButton(l knowledge.Lang) Button {
	names := map[knowledge.Lang]string{knowledge.PL: "Polski", knowledge.EN: "English", knowledge.UK: "Українська", knowledge.RU: "Русский"}
	return Button{Label: names[l], Data: prefixLang + string(l)}
}

// menuRows is the main menu: one button per category, then a person
// where consultants work.
func menuRows(consultants bool) [][]Button {
	var rows [][]Button
	for _, c := range knowledge.Categories() {
		rows = append(rows, []Button{{LabelKey: "category." + string(c), Data: prefixCategory + string(c)}})
	}
	if !consultants {
		return rows
	}
	return append(rows, []Button{{LabelKey: "button.human", Data: dataHuman}})
}

func menuRow() []Button { return []Button{{LabelKey: "button.menu", Data: dataMenu}} }

func humanRow() []Button { return []Button{{LabelKey: "button.human", Data: dataHuman}} }

func topicButton(e *knowledge.Entry, l knowledge.Lang) Button {
	return Button{Label: e.Title[l], Data: prefixTopic + e.ID}
}

// button handles a button press.
func (st *step) button(ev Event) {
	st.ensureLang(ev.LangHint)
	d := ev.Data
	awaiting := st.s.Awaiting
	st.s.Awaiting = AwaitNothing
	switch {
	case strings.HasPrefix(d, prefixLang):
		st.setLanguage(knowledge.Lang(strings.TrimPrefix(d, prefixLang)))
	case d == dataMenu:
		st.menu()
	case strings.HasPrefix(d, prefixCategory):
		c := knowledge.Category(strings.TrimPrefix(d, prefixCategory))
		if !c.Known() {
			st.menu()
			return
		}
		st.category(c)
	case strings.HasPrefix(d, prefixTopic):
		st.answerID(strings.TrimPrefix(d, prefixTopic))
	case strings.HasPrefix(d, prefixUp):
		st.say("feedback.thanks", nil, menuRow())
	case strings.HasPrefix(d, prefixDown):
		if !st.e.cfg.Consultants {
			st.say("feedback.sorry_alone", nil, menuRow())
			return
		}
		st.say("feedback.sorry", nil, []Button{{LabelKey: "button.human", Data: dataHuman}, {LabelKey: "button.menu", Data: dataMenu}})
	case strings.HasPrefix(d, prefixSub):
		st.subscribe(strings.TrimPrefix(d, prefixSub))
	case strings.HasPrefix(d, prefixUnsub):
		st.unsubscribe(strings.TrimPrefix(d, prefixUnsub))
	case strings.HasPrefix(d, prefixRate):
		st.rate(strings.TrimPrefix(d, prefixRate))
	case d == dataHuman:
		st.requestHuman()
	case d == dataNone:
		st.miss()
	case d == dataConsentYes && awaiting == AwaitConsent:
		st.escalate(false, "", nil)
	case d == dataConsentNo:
		st.say("escalate.cancelled", nil, menuRow())
	case d == dataForgetYes && awaiting == AwaitForget:
		st.forget()
	case d == dataForgetNo:
		st.say("forget.cancelled", nil)
	default:
		// An old button from a previous conversation, or a forged payload:
		// show the menu rather than guess.
		st.menu()
	}
}

// rate records a rating of the last case, once.
func (st *step) rate(v string) {
	n, err := strconv.Atoi(v)
	c := st.s.Case
	if err != nil || n < 1 || n > 5 || c == nil || c.Status != StatusResolved || c.Rated {
		st.menu()
		return
	}
	c.Rated = true
	st.emit(Rate{CaseID: c.ID, Score: n})
	st.say("feedback.thanks", nil, menuRow())
}

// setLanguage confirms the user's language, greets, and answers a
// question asked before the choice.
func (st *step) setLanguage(l knowledge.Lang) {
	if !l.Known() {
		st.chooseLanguage()
		return
	}
	first := !st.s.LangConfirmed
	st.s.Lang, st.s.LangConfirmed = l, true
	if !first {
		st.say("lang.set", nil, menuRow())
		return
	}
	if pending := st.s.Pending; pending != "" {
		st.s.Pending = ""
		st.say("lang.set", nil)
		st.ask(pending)
		return
	}
	st.welcome()
}

// RatingOf returns the score of a rating button's payload; ok is false
// for any other button.
func RatingOf(data string) (score int, ok bool) {
	v, found := strings.CutPrefix(data, prefixRate)
	if !found {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 5 {
		return 0, false
	}
	return n, true
}

// FeedbackOf returns the topic and the vote of a 👍/👎 button's payload;
// ok is false for any other button.
func FeedbackOf(data string) (id string, up bool, ok bool) {
	if id, found := strings.CutPrefix(data, prefixUp); found {
		return id, true, true
	}
	if id, found := strings.CutPrefix(data, prefixDown); found {
		return id, false, true
	}
	return "", false, false
}
