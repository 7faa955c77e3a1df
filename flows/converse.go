package flows

import (
	"strings"

	"github.com/witaj/witaj/knowledge"
)

// How a typed question becomes a reply. A message is read twice: by the
// phrasebook (small talk, a request for a person, follow-up cues, several
// questions, other countries) and by the matcher (which topics it is
// about). The current topic, the one last answered or chosen, gives a
// follow-up its meaning: "and how much does it cost?" after the answer on
// temporary residence shows that answer's cost section.

// Tuning of the conversation, set on the development dialogues as a whole.
const (
	// shortFollowUp: a message of at most this many words (filler aside)
	// depends on the topic at hand even without an opener ("сколько
	// стоит?", "ile trwa taka kontrola?").
	shortFollowUp = 4
	// pointingTopical: a message that points back ("вони", "them") leans
	// on the topic at hand only when it names at most this many things;
	// "I also need a psychologist, where is one for free?" after the
	// answer on violence is a question of its own.
	pointingTopical = 3
	// followUpBonus is the head start of the topic at hand when the
	// message leans on it (an opener, a word pointing back, few words);
	// contextBonus when it does not.
	followUpBonus = 0.12
	contextBonus  = 0.05
	// newTopicConfidence: a follow-up that asks for a facet of the topic
	// at hand moves to another topic only when that one is matched at
	// least this well.
	newTopicConfidence = 0.25
	// minCoverage: a follow-up whose words the topic at hand knows less
	// of than this is not answered from it.
	minCoverage = 0.1
	// moveConfidence: a follow-up in which another topic beats the topic
	// at hand, head start and all, is answered with that topic when it is
	// matched at least this well.
	moveConfidence = 0.25
	// stayCoverage: a follow-up whose words the topic at hand knows at
	// least this well is answered from it when no other topic is sure.
	stayCoverage = 0.5
	// conditionalWords is the longest follow-up opening with a condition
	// that is read as one about the topic at hand; a longer one asks a
	// question of its own ("а якщо мене на роботі ображають …, куди
	// скаржитись?").
	conditionalWords = 9
)

// turn is one typed question as both readers see it.
type turn struct {
	text string
	rd   knowledge.Reading
	res  knowledge.Result
}

// ask answers a typed question: small talk, a request for a person, a
// question about elsewhere, a follow-up, several questions, or a new one.
func (st *step) ask(q string) {
	if !st.quiet {
		st.remember(FromUser, q)
	}
	t := turn{text: q, rd: st.e.kb.Phrases().Read(q)}
	t.res = st.e.matcher.Match(q, st.s.Lang)
	switch {
	case t.rd.Social != "":
		// Before danger: "ok bye" folds close to Polish "bije" (beats).
		st.social(t.rd.Social)
	case t.res.Danger:
		st.danger(t)
	case (t.rd.Human || t.rd.Reach && st.s.Topic == st.e.cfg.HumanTopic) && st.asksForPerson(t.res):
		st.s.Misses = 0
		st.requestHuman()
	case t.rd.Offtopic:
		st.s.Topic = ""
		if !st.quiet {
			st.say("scope.offtopic", nil, st.menuAndHuman())
		}
	case t.rd.Elsewhere && !t.rd.Travel:
		st.elsewhere(t)
	case len(t.rd.Parts) > 1 && st.several(t):
	case st.followUp(&t):
	default:
		st.single(t)
	}
}

// asksForPerson tells a request for a person ("can I talk to a
// consultant?") from a question that names one ("where can I talk to a
// lawyer for free?"): the second has a topic of its own.
func (st *step) asksForPerson(res knowledge.Result) bool {
	return res.Decision != knowledge.Direct || res.Candidates[0].Entry.ID == st.e.cfg.HumanTopic
}

// danger answers a message about danger at once: emergency numbers, the
// urgent topic and, where consultants work, an urgent case.
func (st *step) danger(t turn) {
	st.s.Misses = 0
	top := t.res.Candidates[0].Entry
	st.say("match.danger", nil)
	st.answer(top)
	switch {
	case st.s.Case.Active():
		// The message already went to the open case; mark it urgent.
		st.s.Case.Urgent = true
	case st.e.cfg.Consultants:
		st.escalate(true, t.text, guesses(t.res))
	}
}

// single answers one question without regard to the topic at hand.
func (st *step) single(t turn) {
	res := t.res
	if st.quiet && res.Decision != knowledge.Direct {
		st.s.Topic = ""
		return // the message waits for the consultant; nothing to add
	}
	switch res.Decision {
	case knowledge.Direct:
		st.s.Misses = 0
		st.answer(res.Candidates[0].Entry)
		st.alsoMeant(res)
	case knowledge.Suggest:
		st.gap(t.text, res)
		var rows [][]Button
		for _, c := range res.Suggested {
			rows = append(rows, []Button{topicButton(c.Entry, st.s.Lang)})
		}
		rows = append(rows, []Button{{LabelKey: "button.none", Data: dataNone}})
		if st.e.cfg.Consultants {
			rows = append(rows, humanRow())
		}
		st.say("match.did_you_mean", nil, rows...)
	default:
		st.gap(t.text, res)
		st.miss()
	}
}

// alsoMeant offers the runner-up of a direct answer that won by a small
// margin, so that a near miss costs one tap.
func (st *step) alsoMeant(res knowledge.Result) {
	if len(res.Suggested) == 0 {
		return
	}
	var row []Button
	for _, c := range res.Suggested {
		row = append(row, topicButton(c.Entry, st.s.Lang))
	}
	st.say("match.or_did_you_mean", nil, row)
}

// several answers a message that asks more than one question: every
// question the matcher is sure of is answered, the others are offered as
// buttons. It returns false when no part is clear enough, and the message
// is then treated as one question.
func (st *step) several(t turn) bool {
	var answer, offer []*knowledge.Entry
	seen := map[string]bool{}
	for _, part := range t.rd.Parts {
		rd := st.e.kb.Phrases().Read(part)
		if rd.Topical == 0 {
			// "… and what can they help me with?" names nothing: it asks
			// about the other part's topic, not a question of its own.
			continue
		}
		res := st.e.matcher.Match(part, st.s.Lang)
		if len(res.Candidates) == 0 {
			continue
		}
		top := res.Candidates[0].Entry
		if seen[top.ID] {
			continue
		}
		switch res.Decision {
		case knowledge.Direct:
			seen[top.ID] = true
			answer = append(answer, top)
		case knowledge.Suggest:
			if rd.Words <= shortFollowUp && len(rd.Facets) > 0 {
				// "… and what do I bring?" asks about the other question's
				// topic, whose whole answer covers it.
				continue
			}
			seen[top.ID] = true
			offer = append(offer, top)
		}
	}
	if len(answer) == 0 || len(answer)+len(offer) < 2 {
		return false
	}
	st.s.Misses = 0
	for _, e := range answer {
		st.answer(e)
	}
	if len(offer) > 0 {
		var rows [][]Button
		for _, e := range offer {
			rows = append(rows, []Button{topicButton(e, st.s.Lang)})
		}
		st.say("match.also_asked", nil, rows...)
	}
	return true
}

// elsewhere answers a question about another country's rules: witaj
// knows Poland's. The topic it would be about becomes the topic at hand,
// so that "and in Poland?" is understood next.
func (st *step) elsewhere(t turn) {
	if len(t.res.Candidates) > 0 && t.res.Decision != knowledge.NoMatch {
		st.setTopic(t.res.Candidates[0].Entry.ID)
	}
	if !st.quiet {
		st.say("scope.elsewhere", nil, st.menuAndHuman())
	}
}

// followUp answers a message in the light of the topic at hand. It
// returns false when there is none, or the message is a new question;
// the message is then answered on its own.
func (st *step) followUp(t *turn) bool {
	ctx := st.topic()
	if ctx == nil {
		return false
	}
	rd := t.rd
	dependent := rd.Opening || (rd.Pointing && rd.Topical <= pointingTopical) || rd.Words <= shortFollowUp
	bonus := contextBonus
	if dependent {
		bonus = followUpBonus
	}
	res := st.e.matcher.MatchContext(t.text, st.s.Lang, ctx.ID, bonus)
	if len(res.Candidates) == 0 {
		return false
	}
	if top := res.Candidates[0].Entry; top.ID != ctx.ID {
		weak := res.Confidence < newTopicConfidence
		switch {
		case rd.Conditional && rd.Words <= conditionalWords && st.e.matcher.Coverage(rd.Rest, ctx.ID) >= minCoverage:
			// "а если у меня нет страховки?" after the family doctor: the
			// insurance it names is the case asked about, the doctor the
			// subject, and the topic at hand speaks of such cases. "what
			// if I get sick at night?" after PESEL, whose text knows none
			// of it, moves on.
			return st.stay(ctx, t)
		case dependent && rd.Topical == 0:
			// Nothing in the message names another topic ("а це
			// безкоштовно?"): whatever the matcher makes of its few
			// words, it asks about the topic at hand.
			return st.stay(ctx, t)
		case dependent && weak && !res.Candidates[0].Named() && st.facetOf(ctx, rd):
			// "а если опоздаю?" asks about the deadline of the topic at
			// hand, though another topic knows the word a little better.
			// Not when a keyword names that topic: in "also, are there
			// free polish classes?" after PESEL, "free" is no question
			// about PESEL's cost.
			return true
		case dependent && !res.Candidates[0].Named() && st.knowsBetter(rd.Rest, ctx.ID, top.ID):
			// "a gdzie się składa wniosek?" after permanent residence:
			// every residence topic has an application, and the one at
			// hand knows the words as well as any. A keyword of the other
			// topic ("а прописку где сделать?" after PESEL) moves on.
			return st.stay(ctx, t)
		case res.Decision == knowledge.Direct || !dependent:
			// Another topic, even with the head start: a new question.
			t.res = res
			return false
		case res.Confidence >= moveConfidence:
			// Ahead of the topic at hand despite its head start: the
			// follow-up moves on ("а прописку где сделать?" after PESEL).
			st.s.Misses = 0
			st.answer(top)
			return true
		case (weak && len(rd.Facets) > 0) || st.e.matcher.Coverage(rd.Rest, ctx.ID) >= stayCoverage:
			// Asks about something the topic's answer speaks of, though
			// it has no section for it: the whole answer again.
			st.s.Misses = 0
			if st.speaks(t) {
				st.answer(ctx)
			}
			return true
		}
		if !st.quiet {
			st.notCovered(ctx, *t)
		}
		return true
	}
	if !dependent && res.Decision != knowledge.Direct {
		return false
	}
	if st.facetOf(ctx, rd) {
		return true
	}
	if st.e.matcher.Coverage(rd.Rest, ctx.ID) < minCoverage {
		// The head start won, but the topic's text knows almost none of
		// the message's words ("a możesz mi przetłumaczyć pismo?").
		if !st.quiet {
			st.notCovered(ctx, *t)
		}
		return true
	}
	st.s.Misses = 0
	if st.speaks(t) {
		st.answer(ctx)
	}
	return true
}

// stay answers a follow-up from the topic at hand: the section it asks
// for, else the whole answer again (unless speaks says a repeat would
// only echo what a user waiting for a consultant has just read).
func (st *step) stay(ctx *knowledge.Entry, t *turn) bool {
	st.s.Misses = 0
	if !st.facetOf(ctx, t.rd) && st.speaks(t) {
		st.answer(ctx)
	}
	return true
}

// knowsBetter reports whether the topic at hand (ctx) knows the words of
// text well, and at least as well as the other topic does.
func (st *step) knowsBetter(text, ctx, other string) bool {
	c := st.e.matcher.Coverage(text, ctx)
	return c >= stayCoverage && c >= st.e.matcher.Coverage(text, other)
}

// speaks reports whether the bot should give the whole answer at hand
// again: always, except while a case waits for a consultant, when a
// message that asks nothing ("пожалуйста, помогите") would only bring a
// repeat of what the user has just read.
func (st *step) speaks(t *turn) bool {
	return !st.quiet || strings.ContainsAny(t.text, "?？")
}

// facetOf answers the first facet the message asks about that the entry
// has; it reports false when there is none.
func (st *step) facetOf(e *knowledge.Entry, rd knowledge.Reading) bool {
	for _, f := range rd.Facets {
		if _, ok := e.Facet(f, st.s.Lang); ok {
			st.s.Misses = 0
			st.answerFacet(e, f)
			return true
		}
	}
	return false
}

// ranked reports whether id is among the matcher's best candidates.
func ranked(res knowledge.Result, id string) bool {
	for _, c := range res.Candidates {
		if c.Entry.ID == id {
			return true
		}
	}
	return false
}

// notCovered says that the answer at hand does not cover a follow-up and
// offers the closest topics, the whole answer and a person, rather than
// answering from a topic the message does not name.
func (st *step) notCovered(ctx *knowledge.Entry, t turn) {
	st.gap(t.text, t.res)
	rows := [][]Button{{{LabelKey: "button.full_answer", Data: prefixTopic + ctx.ID}}}
	for _, c := range t.res.Candidates {
		if c.Entry.ID != ctx.ID && c.Score >= 0 && len(rows) < 3 && t.res.Decision != knowledge.NoMatch {
			rows = append(rows, []Button{topicButton(c.Entry, st.s.Lang)})
		}
	}
	if st.e.cfg.Consultants {
		rows = append(rows, humanRow())
	}
	st.say("followup.not_covered", Data{"Topic": ctx.Title[st.s.Lang]}, rows...)
}

// social answers small talk briefly, in kind. It is never a miss and
// keeps the topic at hand.
func (st *step) social(kind knowledge.SocialKind) {
	switch kind {
	case knowledge.SocialGreeting, knowledge.SocialPresence:
		st.say("social."+string(kind), nil, menuRows(st.e.cfg.Consultants)...)
	case knowledge.SocialBot:
		key := "social.bot"
		if !st.e.cfg.Consultants {
			key = "social.bot_alone"
		}
		st.say(key, nil, menuRow())
	case knowledge.SocialYes, knowledge.SocialNo:
		st.say("social.ack", nil, menuRow())
	default:
		st.say("social."+string(kind), nil)
	}
}

// topic returns the topic at hand, or nil when there is none or it has
// expired.
func (st *step) topic() *knowledge.Entry {
	if st.s.Topic == "" || st.now.Sub(st.s.TopicAt) > st.e.cfg.TopicTTL {
		return nil
	}
	e, _ := st.e.kb.Entry(st.s.Topic)
	return e
}

func (st *step) setTopic(id string) {
	st.s.Topic, st.s.TopicAt = id, st.now
}

// menuAndHuman is a row with the menu and, where consultants work, a
// person.
func (st *step) menuAndHuman() []Button {
	row := []Button{{LabelKey: "button.menu", Data: dataMenu}}
	if st.e.cfg.Consultants {
		row = append(row, Button{LabelKey: "button.human", Data: dataHuman})
	}
	return row
}
