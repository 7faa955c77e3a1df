// Package flows is witaj's conversation engine. It is pure: a step takes
// the stored session of a chat, one incoming event and the current time,
// and returns the new session and the actions to perform (replies,
// answers, escalation). It knows nothing of Telegram, Slack or Redis; the
// adapters in bot/ translate to and from these types, store the session
// and perform the actions.
//
// Actions carry message keys (rendered by the adapters from locales/) and
// FAQ entry ids, never finished text, so the engine's tests pin behaviour
// and golden transcripts pin wording.
package flows

import (
	"encoding/json"
	"time"

	"github.com/witaj/witaj/knowledge"
)

// SchemaVersion is the version of the Session encoding. Stored sessions
// with another version are discarded (the chat starts afresh) rather than
// misread.
const SchemaVersion = 1

// Session is the conversation state of one chat. It is serialised as JSON
// by the store and must stay small.
type Session struct {
	Schema int `json:"schema"`
	// Lang is the language the user reads; LangConfirmed is set once the
	// user chose it (or it came from a /start link).
	Lang          knowledge.Lang `json:"lang,omitempty"`
	LangConfirmed bool           `json:"lang_ok,omitempty"`
	// Awaiting is the question the bot asked and waits an answer for.
	Awaiting Awaiting `json:"awaiting,omitempty"`
	// Pending is a question asked before the language was chosen; it is
	// answered right after.
	Pending string `json:"pending,omitempty"`
	// Topic is the FAQ topic at hand: the one last answered or chosen,
	// since TopicAt. A follow-up ("and how much?") is read in its light.
	Topic   string    `json:"topic,omitempty"`
	TopicAt time.Time `json:"topic_at,omitzero"`
	// Misses counts messages in a row the bot could not answer.
	Misses int `json:"misses,omitempty"`
	// FirstName is the user's first name as the platform gives it; only a
	// consultant ever sees it.
	FirstName string `json:"first_name,omitempty"`
	// Subs is what the chat follows, sorted: topic ids, categories
	// ("cat:work") and SubNews. Opt-in only.
	Subs []string `json:"subs,omitempty"`
	// NewsOffered is set once the welcome offered news from witaj.
	NewsOffered bool `json:"news_offered,omitempty"`
	// Case is the consultant case of the chat, open or last closed.
	Case *Case `json:"case,omitempty"`
	// Transcript is the recent conversation, shown to a consultant when
	// the case opens; bounded by Config.TranscriptTurns.
	Transcript []Turn    `json:"transcript,omitempty"`
	Updated    time.Time `json:"updated"`
}

// Awaiting names a question the bot is waiting for an answer to.
type Awaiting string

// The questions the bot can wait on.
const (
	AwaitNothing  Awaiting = ""
	AwaitLanguage Awaiting = "language"
	AwaitForget   Awaiting = "forget"
	AwaitConsent  Awaiting = "consent" // consent to hand the chat to a consultant
)

// Turn is one message of the transcript.
type Turn struct {
	From Speaker   `json:"from"`
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// Speaker says who wrote a turn.
type Speaker string

// Speakers of a transcript.
const (
	FromUser       Speaker = "user"
	FromBot        Speaker = "bot"
	FromConsultant Speaker = "consultant"
)

// CaseStatus is where a consultant case stands.
type CaseStatus string

// Case statuses.
const (
	// StatusRequested: the engine asked the shell to open a case; the
	// shell answers with a CaseOpened event.
	StatusRequested CaseStatus = "requested"
	StatusOpen      CaseStatus = "open"
	StatusClaimed   CaseStatus = "claimed"
	StatusResolved  CaseStatus = "resolved"
)

// Case is the consultant case of a chat as the engine sees it. The shell
// keeps the rest (Slack thread, consultant ids).
type Case struct {
	ID     string     `json:"id,omitempty"`
	Status CaseStatus `json:"status"`
	Urgent bool       `json:"urgent,omitempty"`
	Opened time.Time  `json:"opened"`
	Rated  bool       `json:"rated,omitempty"`
}

// Active reports whether the case still routes the user's messages to a
// consultant.
func (c *Case) Active() bool {
	return c != nil && c.Status != StatusResolved
}

// turnJSON is a Turn as stored: short names and the time in whole
// seconds, because the transcript is most of a session and a session is
// read and written on every update.
type turnJSON struct {
	From Speaker `json:"f"`
	Text string  `json:"t"`
	At   int64   `json:"s"`
}

// sessionFields is Session without its methods, for the encoding below.
type sessionFields Session

// sessionWire is a Session as stored, its transcript as plain structs:
// one pass of encoding/json reads or writes the whole session, where a
// Turn's own methods cost a nested encoding per turn, most of the work of
// a session of 20 turns (BenchmarkSessionJSON). Its Transcript shadows
// the embedded one.
type sessionWire struct {
	*sessionFields
	Transcript []turnWire `json:"transcript,omitempty"`
}

// turnWire reads a turn in either form and writes the short one.
type turnWire struct {
	turnJSON
	OldFrom Speaker    `json:"from,omitempty"`
	OldText string     `json:"text,omitempty"`
	OldAt   *time.Time `json:"at,omitempty"`
}

// Encode returns the session as the stores keep it. json.Marshal gives
// the same bytes, at the cost of checking them once more.
func (s Session) Encode() ([]byte, error) {
	w := sessionWire{sessionFields: (*sessionFields)(&s)}
	if len(s.Transcript) > 0 {
		w.Transcript = make([]turnWire, len(s.Transcript))
		for i, t := range s.Transcript {
			w.Transcript[i].turnJSON = t.short()
		}
	}
	return json.Marshal(w)
}

// DecodeSession reads a session the stores kept, its turns in either
// form; json.Unmarshal reads the same, checking the input twice.
func DecodeSession(b []byte) (Session, error) {
	var s Session
	err := s.decode(b)
	return s, err
}

func (s *Session) decode(b []byte) error {
	w := sessionWire{sessionFields: (*sessionFields)(s)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	s.Transcript = nil
	if len(w.Transcript) > 0 {
		s.Transcript = make([]Turn, len(w.Transcript))
		for i, t := range w.Transcript {
			s.Transcript[i] = t.turn()
		}
	}
	return nil
}

// MarshalJSON implements json.Marshaler.
func (s Session) MarshalJSON() ([]byte, error) { return s.Encode() }

// UnmarshalJSON implements json.Unmarshaler.
func (s *Session) UnmarshalJSON(b []byte) error { return s.decode(b) }

func (t turnWire) turn() Turn {
	if t.OldFrom != "" {
		var at time.Time
		if t.OldAt != nil {
			at = *t.OldAt
		}
		return Turn{From: t.OldFrom, Text: t.OldText, At: at}
	}
	return Turn{From: t.From, Text: t.Text, At: time.Unix(t.At, 0).UTC()}
}

// short is the turn in its stored form.
func (t Turn) short() turnJSON { return turnJSON{From: t.From, Text: t.Text, At: t.At.Unix()} }

// MarshalJSON implements json.Marshaler.
func (t Turn) MarshalJSON() ([]byte, error) { return json.Marshal(t.short()) }

// UnmarshalJSON implements json.Unmarshaler. It also reads the earlier
// form ({"from":…,"text":…,"at":"<RFC 3339>"}), so that stored sessions
// survive an upgrade.
func (t *Turn) UnmarshalJSON(b []byte) error {
	var w turnWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*t = w.turn()
	return nil
}
