package flows

import (
	"regexp"
	"strings"
	"time"

	"github.com/witaj/witaj/knowledge"
)

// text handles a typed message.
func (st *step) text(ev Event) {
	st.ensureLang(ev.LangHint)
	if ev.Attachment && st.s.LangConfirmed {
		// The caption of a photo or file: say that only the words count.
		st.say("message.caption_only", nil)
	}
	if st.s.Case.Active() {
		// While a case is open, everything the user writes is for the
		// consultant, even before a language was chosen (an urgent case).
		// Until one takes the case, the bot still answers what it is sure
		// of, so that waiting is not wasted.
		st.remember(FromUser, ev.Text)
		st.emit(Relay{CaseID: st.s.Case.ID, Text: ev.Text})
		if st.s.Case.Status != StatusClaimed && st.s.LangConfirmed {
			st.quiet = true
			st.ask(ev.Text)
		}
		return
	}
	if !st.s.LangConfirmed {
		st.firstText(ev)
		return
	}
	awaiting := st.s.Awaiting
	st.s.Awaiting = AwaitNothing
	if awaiting == AwaitConsent && st.consentReply(ev.Text) {
		return
	}
	prev := st.s.Lang
	if l, sure := knowledge.DetectLangSure(ev.Text); sure && l != prev && switchable(prev, l) {
		// Clearly another language: answer in it, and offer the way back.
		st.s.Lang = l
		st.ask(ev.Text)
		st.say("lang.switched", nil, []Button{languageButton(prev)})
		return
	}
	st.ask(ev.Text)
}

// switchable reports whether text in language to may switch a chat set
// to from. Ukrainian and Russian speakers often write the other language,
// or mix them, and read both: their choice stands.
func switchable(from, to knowledge.Lang) bool {
	mixed := func(l knowledge.Lang) bool { return l == knowledge.UK || l == knowledge.RU }
	return !(mixed(from) && mixed(to))
}

// consentReply takes a typed "yes"/"ok" or "no" as the answer to "Shall I
// connect you?". It returns false for anything else, which is then read
// as a new message.
func (st *step) consentReply(text string) bool {
	switch st.e.kb.Phrases().Read(text).Social {
	case knowledge.SocialYes, knowledge.SocialAck:
		st.remember(FromUser, text)
		st.escalate(false, "", nil)
	case knowledge.SocialNo:
		st.remember(FromUser, text)
		st.say("escalate.cancelled", nil, menuRow())
	default:
		return false
	}
	return true
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
	if st.e.kb.Phrases().Read(ev.Text).Social == "" {
		// Small talk ("hello") needs no answer after the choice: the
		// welcome greets.
		st.s.Pending = truncateRunes(ev.Text, maxStoredRunes)
	}
	st.chooseLanguage()
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
	st.say("match.none", nil, st.menuAndHuman())
}

// gap records a question without a direct answer. An unrelated question
// ends the topic at hand; one the matcher still relates to it ("how
// quickly after moving in?" after address registration) keeps it, so
// that "can I do it online?" next is understood.
func (st *step) gap(q string, res knowledge.Result) {
	if res.Decision != knowledge.Direct && !ranked(res, st.s.Topic) {
		st.s.Topic = ""
	}
	st.emit(Gap{Lang: st.s.Lang, Text: truncateRunes(scrub(q, st.s.FirstName), maxStoredRunes), Decision: res.Decision, Guesses: guesses(res)})
}

var (
	emailRe  = regexp.MustCompile(`\S+@\S+`)
	linkRe   = regexp.MustCompile(`(?i)\b(https?://|www\.)\S+`)
	digitsRe = regexp.MustCompile(`\+?\d[\d\s\-./()]*\d|\d`)
)

// scrub removes what could identify a person from a question kept for
// editors (an unanswered question outlives /forget): e-mail addresses,
// links, every number (phone, PESEL, passport, case number), and the
// user's first name.
func scrub(q, firstName string) string {
	q = emailRe.ReplaceAllString(q, "[e-mail]")
	q = linkRe.ReplaceAllString(q, "[link]")
	q = digitsRe.ReplaceAllString(q, "#")
	for _, name := range strings.Fields(firstName) {
		if len([]rune(name)) < 2 {
			continue
		}
		re := regexp.MustCompile(`(?i)(^|[^\p{L}])` + regexp.QuoteMeta(name) + `($|[^\p{L}])`)
		q = re.ReplaceAllString(q, "${1}[name]${2}")
	}
	return q
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
	rows := [][]Button{{{LabelKey: "button.helpful", Data: prefixUp + e.ID}, {LabelKey: "button.not_helpful", Data: prefixDown + e.ID}, st.followButton(e)}}
	for _, id := range e.Related {
		if r, ok := st.e.kb.Entry(id); ok {
			rows = append(rows, []Button{topicButton(r, st.s.Lang)})
		}
	}
	rows = append(rows, st.menuAndHuman())
	st.emit(Answer{
		EntryID: e.ID,
		Ref:     e.Ref(),
		KB:      st.e.kb.Version().String(),
		Lang:    st.s.Lang,
		Stale:   stale(e, st.now),
		Buttons: rows,
	})
	st.remember(FromBot, "[answer "+e.Ref()+"]")
	st.setTopic(e.ID)
}

// answerFacet sends one section of an entry's answer, with a button to
// the whole answer.
func (st *step) answerFacet(e *knowledge.Entry, f knowledge.Facet) {
	rows := [][]Button{
		{{LabelKey: "button.full_answer", Data: prefixTopic + e.ID}},
		{{LabelKey: "button.helpful", Data: prefixUp + e.ID}, {LabelKey: "button.not_helpful", Data: prefixDown + e.ID}, st.followButton(e)},
		st.menuAndHuman(),
	}
	st.emit(Answer{
		EntryID: e.ID,
		Facet:   f,
		Ref:     e.Ref(),
		KB:      st.e.kb.Version().String(),
		Lang:    st.s.Lang,
		Stale:   stale(e, st.now),
		Buttons: rows,
	})
	st.remember(FromBot, "[answer "+e.Ref()+"#"+string(f)+"]")
	st.setTopic(e.ID)
}

// stale reports an entry whose review_by date has passed.
func stale(e *knowledge.Entry, now time.Time) bool {
	return !e.ReviewBy.IsZero() && e.ReviewBy.Before(knowledge.DateOf(now))
}
