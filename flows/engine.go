package flows

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/witaj/witaj/knowledge"
)

// Config tunes the engine.
type Config struct {
	// RetentionDays is how long data is kept after the last message; the
	// privacy notice quotes it.
	RetentionDays int
	// TranscriptTurns bounds the transcript kept for consultants.
	TranscriptTurns int
	// MissesBeforeOffer is how many unanswered messages in a row make the
	// bot offer a consultant.
	MissesBeforeOffer int
	// HumanTopic is the FAQ topic about reaching a person: a message that
	// clearly asks for one ("can I talk to a real person") starts the way
	// to a consultant instead of answering with that topic's text.
	HumanTopic string
	// Consultants reports that people answer cases (Slack is set up).
	// Without them the bot never offers or promises a person.
	Consultants bool
	// TopicTTL is how long the topic at hand gives follow-ups their
	// meaning.
	TopicTTL time.Duration
}

// DefaultConfig returns the production defaults.
func DefaultConfig() Config {
	return Config{RetentionDays: 30, TranscriptTurns: 20, MissesBeforeOffer: 2, HumanTopic: "help.consultant", Consultants: true, TopicTTL: 30 * time.Minute}
}

// maxStoredRunes bounds a user's text kept in the session (pending
// question, transcript): the session stays small whatever is pasted.
const maxStoredRunes = 1000

// Engine decides what the bot does. It is immutable and safe for
// concurrent use; all conversation state is in the Session.
type Engine struct {
	kb      *knowledge.Base
	matcher *knowledge.Matcher
	cfg     Config
}

// New returns an engine answering from kb with matcher.
func New(kb *knowledge.Base, matcher *knowledge.Matcher, cfg Config) *Engine {
	return &Engine{kb: kb, matcher: matcher, cfg: cfg}
}

// KB returns the knowledge base the engine answers from.
func (e *Engine) KB() *knowledge.Base { return e.kb }

// step carries one step's state and collects its actions.
type step struct {
	e   *Engine
	s   Session
	now time.Time
	out []Action
	// quiet: the message also went to a consultant's open case; the bot
	// adds only what it is sure of, never "did you mean" or "not sure".
	quiet bool
}

// Step applies one event to a session. It never fails: whatever it does
// not understand becomes a polite reply.
func (e *Engine) Step(s Session, ev Event, now time.Time) (Session, []Action) {
	if s.Schema != SchemaVersion {
		s = Session{Schema: SchemaVersion}
	}
	if ev.FirstName != "" {
		s.FirstName = truncateRunes(ev.FirstName, 64)
	}
	st := &step{e: e, s: s, now: now}
	switch ev.Kind {
	case TextMessage:
		st.text(ev)
	case CommandMessage:
		st.command(ev)
	case ButtonPress:
		st.button(ev)
	case UnsupportedMessage:
		st.ensureLang(ev.LangHint)
		st.say("message.unsupported", nil)
	default:
		st.caseEvent(ev)
	}
	st.s.Updated = now
	return st.s, st.out
}

func (st *step) emit(a Action) { st.out = append(st.out, a) }

func (st *step) say(key string, data Data, rows ...[]Button) {
	st.emit(Reply{Key: key, Data: data, Buttons: rows})
	st.remember(FromBot, "["+key+"]")
}

// remember appends a turn to the bounded transcript.
func (st *step) remember(from Speaker, text string) {
	st.s.Transcript = append(st.s.Transcript, Turn{From: from, Text: truncateRunes(text, maxStoredRunes), At: st.now})
	if n := st.e.cfg.TranscriptTurns; n > 0 && len(st.s.Transcript) > n {
		st.s.Transcript = append([]Turn(nil), st.s.Transcript[len(st.s.Transcript)-n:]...)
	}
}

// ensureLang gives a new chat a tentative language from the platform's
// hint, so that even the first reply is readable.
func (st *step) ensureLang(hint string) {
	if st.s.Lang == "" {
		st.s.Lang = guessLang(hint)
	}
}

// guessLang maps a platform language code ("uk", "ru-RU", "be") to the
// closest language the bot speaks.
func guessLang(code string) knowledge.Lang {
	code = strings.ToLower(code)
	if i := strings.IndexAny(code, "-_"); i >= 0 {
		code = code[:i]
	}
	switch code {
	case "pl", "uk", "ru", "en":
		return knowledge.Lang(code)
	case "be", "kk", "ky", "uz", "tg", "hy", "az", "ka":
		// Many people from Belarus, Central Asia and the Caucasus read
		// Russian more easily than English.
		return knowledge.RU
	}
	return knowledge.EN
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
