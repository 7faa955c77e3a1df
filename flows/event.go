package flows

import "time"

// EventKind tells the kinds of incoming events apart.
type EventKind int

// Event kinds.
const (
	// TextMessage is a message the user typed.
	TextMessage EventKind = iota
	// CommandMessage is a /command, possibly with an argument (/start uk).
	CommandMessage
	// ButtonPress is a press of one of the bot's buttons; Data is its payload.
	ButtonPress
	// UnsupportedMessage is a sticker, photo, voice message or file.
	UnsupportedMessage
	// CaseOpened: the shell opened the consultant case the engine asked
	// for; Ahead is the number of cases before it in the queue.
	CaseOpened
	// CaseClaimed: a consultant took the case.
	CaseClaimed
	// ConsultantMessage: a consultant wrote to the user; Text is the text.
	ConsultantMessage
	// CaseResolved: a consultant closed the case.
	CaseResolved
	// CaseUnavailable: no consultants can be reached (none configured);
	// the case the engine asked for was not opened.
	CaseUnavailable
	// ConsultantAnswer: a consultant chose to send FAQ entry EntryID; it
	// goes out in the user's language.
	ConsultantAnswer
)

// Event is one thing that happened in a chat.
type Event struct {
	Kind EventKind
	// Text is the user's or consultant's text.
	Text string
	// Command and Arg: "/start uk" is Command "start", Arg "uk".
	Command, Arg string
	// Data is a button's payload.
	Data string
	// LangHint is the language the user's app is set to, if known
	// (Telegram's language_code); used to guess the language at first.
	LangHint string
	// FirstName is the user's first name, if the platform gives one.
	FirstName string
	// CaseID and Ahead describe the case for CaseOpened.
	CaseID string
	Ahead  int
	// AfterHours, Hours and Back tell, for CaseOpened, that consultants
	// are off duty now, their working hours and when they are back.
	AfterHours bool
	Hours      Hours
	Back       time.Time
	// EntryID is the FAQ entry of a ConsultantAnswer.
	EntryID string
	// Attachment: the text came as the caption of a photo or file, which
	// the bot cannot read.
	Attachment bool
}

// Hours are consultants' working hours, for showing to users in their
// language: each range is a run of weekdays with opening and closing
// times in minutes after midnight.
type Hours []HoursRange

// HoursRange is one run of days with the same hours ("Mon-Fri 09:00-17:00").
type HoursRange struct {
	From, To    time.Weekday
	Open, Close int
}
