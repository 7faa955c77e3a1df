package flows

import "strconv"

// requestHuman explains what a consultant will see and asks for consent.
func (st *step) requestHuman() {
	if !st.e.cfg.Consultants {
		// Never promise a person this deployment does not have.
		st.say("escalate.none", nil, menuRow())
		return
	}
	if st.s.Case.Active() {
		st.say("escalate.already_open", nil)
		return
	}
	st.offerHuman("escalate.explain")
}

func (st *step) offerHuman(key string) {
	if !st.e.cfg.Consultants {
		st.say("match.none_alone", nil, menuRow())
		return
	}
	st.s.Awaiting = AwaitConsent
	if key != "escalate.explain" {
		// The offer after misses or 👎 also says what a consultant sees.
		st.say(key, nil)
		key = "escalate.explain"
	}
	st.say(key, nil, []Button{{LabelKey: "button.connect", Data: dataConsentYes}, {LabelKey: "button.cancel", Data: dataConsentNo}})
}

// escalate asks the shell to open a case. Urgent cases (danger) go out
// at once; the user has just been shown emergency numbers.
func (st *step) escalate(urgent bool, question string, guessIDs []string) {
	if st.s.Case.Active() {
		if urgent && !st.s.Case.Urgent {
			st.s.Case.Urgent = true
		}
		st.emit(Relay{CaseID: st.s.Case.ID, Text: question})
		return
	}
	if question == "" {
		question = st.lastUserText()
	}
	esc := Escalate{
		Urgent:     urgent,
		Lang:       st.s.Lang,
		Question:   question,
		Guesses:    guessIDs,
		Transcript: append([]Turn(nil), st.s.Transcript...),
		FirstName:  st.s.FirstName,
	}
	if len(guessIDs) == 0 && question != "" {
		esc.Guesses = guesses(st.e.matcher.Match(question, st.s.Lang))
	}
	if len(esc.Guesses) > 0 {
		if e, ok := st.e.kb.Entry(esc.Guesses[0]); ok {
			esc.Category = e.Category
		}
	}
	st.s.Case = &Case{Status: StatusRequested, Urgent: urgent, Opened: st.now}
	st.emit(esc)
	if urgent {
		st.say("escalate.urgent", nil)
	}
}

func (st *step) lastUserText() string {
	for i := len(st.s.Transcript) - 1; i >= 0; i-- {
		if st.s.Transcript[i].From == FromUser {
			return st.s.Transcript[i].Text
		}
	}
	return ""
}

// caseEvent handles what the consultants' side reports.
func (st *step) caseEvent(ev Event) {
	c := st.s.Case
	switch ev.Kind {
	case CaseOpened:
		if c == nil {
			c = &Case{Opened: st.now}
			st.s.Case = c
		}
		c.ID, c.Status = ev.CaseID, StatusOpen
		if c.Urgent {
			return // the urgent notice already told the user
		}
		st.say("escalate.queued", nil)
		if ev.Ahead > 0 {
			st.say("escalate.ahead", Data{"Count": ev.Ahead})
		} else {
			st.say("escalate.first", nil)
		}
		if ev.AfterHours {
			st.say("escalate.after_hours", Data{"Hours": ev.Hours, "When": ev.Back})
		}
	case CaseClaimed:
		if c.Active() {
			c.Status = StatusClaimed
			st.say("case.claimed", nil)
		}
	case ConsultantMessage:
		st.remember(FromConsultant, ev.Text)
		st.emit(Deliver{Text: ev.Text})
	case CaseResolved:
		if c.Active() {
			c.Status = StatusResolved
			st.say("case.resolved", nil, menuRow())
			st.askRating()
		}
	case ConsultantAnswer:
		if e, ok := st.e.kb.Entry(ev.EntryID); ok {
			st.answer(e)
		}
	case CaseUnavailable:
		st.s.Case = nil
		st.say("escalate.unavailable", nil, menuRow())
	}
}

// endCase closes the user's case at their request (/end).
func (st *step) endCase() {
	c := st.s.Case
	if !c.Active() {
		st.say("case.none", nil, menuRow())
		return
	}
	c.Status = StatusResolved
	st.emit(CloseCase{CaseID: c.ID})
	st.say("case.resolved", nil, menuRow())
	st.askRating()
}

// askRating asks for a quick rating of the consultant's help.
func (st *step) askRating() {
	var row []Button
	for n := 1; n <= 5; n++ {
		row = append(row, Button{Label: "⭐" + strconv.Itoa(n), Data: prefixRate + strconv.Itoa(n)})
	}
	st.say("case.rate", nil, row)
}

// forget wipes the session; the shell deletes everything else.
func (st *step) forget() {
	lang := st.s.Lang
	st.emit(Forget{})
	st.s = Session{Schema: SchemaVersion}
	// The session is gone; the confirmation still speaks the user's language.
	st.emit(Reply{Key: "forget.done", Lang: lang})
}
