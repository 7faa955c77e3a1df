// Package telegram connects witaj to migrants on Telegram through
// github.com/go-telegram/bot: it turns incoming updates into engine events
// and the shell's messages into Bot API requests.
package telegram

import (
	"strings"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/flows"
)

const (
	// maxTextRunes bounds incoming text: Telegram's own limit for a
	// message, enforced here too so a forged or future update cannot hand
	// the engine an unbounded string.
	maxTextRunes = 4096
	// maxCallbackData is Telegram's limit for callback_data in bytes; the
	// bot never sends longer data, so longer data is not ours.
	maxCallbackData = 64
	// groupReplyKey answers a group that tries to use the bot.
	groupReplyKey = "group.unsupported"
)

// Convert turns a Telegram update into a bot.Update. ok is false when the
// update needs nothing at all, not even a reply: channel posts, service
// messages, group chatter, edits of non-text messages, update kinds witaj
// does not use. Convert never panics, whatever the update holds.
//
// A group or supergroup gets only a Reply ("group.unsupported") when
// someone sends /start or a command addressed to a bot (/help@witaj_bot);
// Convert does not know the bot's username, so it relies on Telegram's
// privacy mode (on by default) to deliver only commands meant for this
// bot. Such updates carry the sender's LangHint and FirstName in Event,
// with HasEvent false, so the shell can pick the reply's language.
func Convert(u *models.Update) (bot.Update, bool) {
	if u == nil {
		return bot.Update{}, false
	}
	var (
		up bot.Update
		ok bool
	)
	switch {
	case u.Message != nil:
		up, ok = convertMessage(u.Message, false)
	case u.EditedMessage != nil:
		up, ok = convertMessage(u.EditedMessage, true)
	case u.CallbackQuery != nil:
		up, ok = convertCallback(u.CallbackQuery)
	case u.MyChatMember != nil:
		up, ok = convertMember(u.MyChatMember)
	}
	// Telegram never uses chat id 0; an update without a chat cannot be
	// answered or keyed.
	if !ok || up.Chat == 0 {
		return bot.Update{}, false
	}
	up.ID = u.ID
	return up, true
}

// convertMessage handles a new or edited message by the kind of its chat;
// channel posts arrive in other fields and never get here.
func convertMessage(m *models.Message, edited bool) (bot.Update, bool) {
	switch m.Chat.Type {
	case models.ChatTypePrivate:
		return privateMessage(m, edited)
	case models.ChatTypeGroup, models.ChatTypeSupergroup:
		if edited {
			return bot.Update{}, false // the original already got its answer
		}
		return groupMessage(m)
	}
	return bot.Update{}, false
}

// privateMessage converts a migrant's message. An edited text is a
// corrected question and runs again; an edited attachment is ignored:
// live locations arrive as a stream of edits. A photo or file with a
// caption is its caption: people photograph a letter and ask about it.
func privateMessage(m *models.Message, edited bool) (bot.Update, bool) {
	ev := sender(m.From)
	switch {
	case m.Text != "":
		textEvent(&ev, m.Text, m.Entities)
	case edited:
		return bot.Update{}, false
	case strings.TrimSpace(m.Caption) != "":
		textEvent(&ev, m.Caption, m.CaptionEntities)
		ev.Attachment = true
	case hasAttachment(m):
		ev.Kind = flows.UnsupportedMessage
	default:
		return bot.Update{}, false // service message: pinned, timer, gift...
	}
	return bot.Update{Chat: bot.ChatID(m.Chat.ID), Event: ev, HasEvent: true}, true
}

// textEvent fills ev as a command when text holds a bot_command entity,
// and as a text message otherwise.
func textEvent(ev *flows.Event, text string, entities []models.MessageEntity) {
	if c, ok := findCommand(text, entities); ok {
		ev.Kind = flows.CommandMessage
		ev.Command = truncate(c.name, maxTextRunes)
		ev.Arg = truncate(c.arg, maxTextRunes)
		return
	}
	ev.Kind = flows.TextMessage
	ev.Text = truncate(text, maxTextRunes)
}

// groupMessage answers /start or a command addressed to a bot with the
// "private chats only" reply and ignores everything else.
func groupMessage(m *models.Message) (bot.Update, bool) {
	c, ok := findCommand(m.Text, m.Entities)
	if !ok || (c.name != "start" && c.mention == "") {
		return bot.Update{}, false
	}
	return bot.Update{Chat: bot.ChatID(m.Chat.ID), Event: sender(m.From), Reply: groupReplyKey}, true
}

// convertCallback converts a button press. The chat is the one of the
// message carrying the button; without that message (too old, or an
// inline message) it is the user's private chat, whose id is the user id.
func convertCallback(q *models.CallbackQuery) (bot.Update, bool) {
	chat := q.From.ID
	if c := callbackChat(q); c != nil && c.ID != 0 {
		if c.Type != models.ChatTypePrivate && c.Type != "" {
			return bot.Update{}, false // the bot puts buttons in private chats only
		}
		chat = c.ID
	}
	ev := sender(&q.From)
	ev.Kind = flows.ButtonPress
	ev.Data = callbackData(q.Data)
	return bot.Update{Chat: bot.ChatID(chat), Event: ev, HasEvent: true, CallbackID: q.ID}, true
}

// callbackChat returns the chat of the query's message, accessible or
// not, or nil when the query has none. It looks at the pointers rather
// than at Message.Type, which a hand-built update may leave inconsistent.
func callbackChat(q *models.CallbackQuery) *models.Chat {
	switch {
	case q.Message.Message != nil:
		return &q.Message.Message.Chat
	case q.Message.InaccessibleMessage != nil:
		return &q.Message.InaccessibleMessage.Chat
	}
	return nil
}

// callbackData passes on data the bot could have sent and blanks the
// rest, so the engine shows its menu instead of matching a forged key.
func callbackData(data string) string {
	if len(data) > maxCallbackData || !utf8.ValidString(data) {
		return ""
	}
	return data
}

// convertMember turns my_chat_member in a private chat, which Telegram
// sends only when the user blocks or unblocks the bot, into a control
// update. Member changes in groups and channels are ignored.
func convertMember(m *models.ChatMemberUpdated) (bot.Update, bool) {
	if m.Chat.Type != models.ChatTypePrivate {
		return bot.Update{}, false
	}
	var c bot.Control
	switch m.NewChatMember.Type {
	case models.ChatMemberTypeBanned:
		c = bot.Blocked
	case models.ChatMemberTypeMember:
		c = bot.Unblocked
	default:
		return bot.Update{}, false
	}
	return bot.Update{Chat: bot.ChatID(m.Chat.ID), Control: c}, true
}

// sender returns an event carrying what the sender's profile tells the
// engine; from may be nil (anonymous group admins, forged updates).
func sender(from *models.User) flows.Event {
	if from == nil {
		return flows.Event{}
	}
	return flows.Event{LangHint: from.LanguageCode, FirstName: from.FirstName}
}

// hasAttachment reports whether m carries something a user sent that is
// not text. Service messages (pinned message, auto-delete timer, payments,
// web app data...) are not on the list: they need no reply.
func hasAttachment(m *models.Message) bool {
	return m.Animation != nil || m.Audio != nil || m.Document != nil ||
		m.PaidMedia != nil || len(m.Photo) > 0 || m.Sticker != nil ||
		m.Story != nil || m.Video != nil || m.VideoNote != nil ||
		m.Voice != nil || m.Checklist != nil || m.Contact != nil ||
		m.Dice != nil || m.Game != nil || m.Poll != nil || m.Venue != nil ||
		m.Location != nil || m.Caption != ""
}

// command is a /command parsed from a message.
type command struct {
	name    string // lowercased, without "/" and "@bot"
	mention string // the "@bot" suffix without "@", if any
	arg     string // the text after the command, trimmed
}

// findCommand parses the first well-formed bot_command entity of text.
// Entities are addressed in UTF-16 code units (see utf16Span); one that
// does not fit text is skipped rather than trusted.
func findCommand(text string, entities []models.MessageEntity) (command, bool) {
	for _, e := range entities {
		if e.Type != models.MessageEntityTypeBotCommand {
			continue
		}
		span, end, ok := utf16Span(text, e.Offset, e.Length)
		if !ok {
			continue
		}
		if c, ok := parseCommand(span); ok {
			c.arg = strings.TrimSpace(text[end:])
			return c, true
		}
	}
	return command{}, false
}

// parseCommand splits "/Help@witaj_bot" into name "help" and mention
// "witaj_bot"; ok is false for a span that is not a command.
func parseCommand(span string) (command, bool) {
	name, ok := strings.CutPrefix(span, "/")
	if !ok {
		return command{}, false
	}
	name, mention, _ := strings.Cut(name, "@")
	if name == "" {
		return command{}, false
	}
	return command{name: strings.ToLower(name), mention: mention}, true
}
