package flows

import "github.com/witaj/witaj/knowledge"

// Action is something the shell must do after a step. The concrete types
// are Reply, Answer, Escalate, Relay, Forget and Gap.
type Action interface{ isAction() }

// Data is template data for a message; "Count" selects a plural form.
type Data map[string]any

// Button is a button under a message. Its label is a message key
// (LabelKey) or, for topic buttons, a FAQ title in the user's language
// (Label). Data is the payload the engine gets back as a Button event; it
// fits Telegram's 64-byte callback_data.
type Button struct {
	LabelKey string
	Label    string
	Data     string
}

// Reply sends the message Key in the session language.
type Reply struct {
	Key string
	// Lang, when set, overrides the session language (after Forget, the
	// session no longer has one).
	Lang    knowledge.Lang
	Data    Data
	Buttons [][]Button
}

// Answer sends the answer of a FAQ entry in Lang. Ref ("legal.pesel@3")
// and KB (the knowledge-base version) record exactly which text was
// shown. Stale is set when the entry is past its review_by date: the
// answer then says when it was last checked and where to confirm.
type Answer struct {
	EntryID string
	// Facet, when set, is the section of the answer to show first (a
	// follow-up asked about just that); the buttons lead to the rest.
	Facet   knowledge.Facet
	Ref     string
	KB      string
	Lang    knowledge.Lang
	Stale   bool
	Buttons [][]Button
}

// Escalate asks the shell to open a consultant case for the chat; the
// shell answers with a CaseOpened event.
type Escalate struct {
	Urgent bool
	Lang   knowledge.Lang
	// Question is the message that led to the case, if any.
	Question string
	// Guesses are the bot's best topic ids for the question.
	Guesses []string
	// Category is the category of the best guess, for routing.
	Category knowledge.Category
	// Transcript is the conversation so far.
	Transcript []Turn
	FirstName  string
}

// Relay passes a user's message to the consultant of the open case.
type Relay struct {
	CaseID string
	Text   string
}

// Deliver passes a consultant's message to the user.
type Deliver struct {
	Text string
}

// CloseCase asks the shell to close the case on the consultants' side
// (the user ended it).
type CloseCase struct {
	CaseID string
}

// Rate records the user's rating of a closed case (1–5).
type Rate struct {
	CaseID string
	Score  int
}

// Forget asks the shell to delete everything kept about the chat. It
// comes before the reply that confirms it.
type Forget struct{}

// Gap records a question the bot could not answer directly, for editors.
// It carries no user identifier.
type Gap struct {
	Lang     knowledge.Lang
	Text     string
	Decision knowledge.Decision
	Guesses  []string
}

func (Reply) isAction()     {}
func (Answer) isAction()    {}
func (Escalate) isAction()  {}
func (Relay) isAction()     {}
func (Deliver) isAction()   {}
func (CloseCase) isAction() {}
func (Forget) isAction()    {}
func (Gap) isAction()       {}
func (Rate) isAction()      {}
