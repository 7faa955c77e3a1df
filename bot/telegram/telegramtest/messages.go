package telegramtest

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

// Limits Telegram enforces on sendMessage (https://core.telegram.org/bots/api#sendmessage).
const (
	maxTextLength   = 4096 // UTF-16 code units of the visible text
	maxCallbackData = 64   // bytes
)

// apiError is a failure answered with Telegram's error envelope.
type apiError struct{ rep reply }

func (e *apiError) Error() string { return e.rep.description }

func errBadRequest(description string) error {
	return &apiError{badRequest(description)}
}

// replyFor turns an error from a method's checks into its answer.
func replyFor(err error) reply {
	if e, found := errors.AsType[*apiError](err); found {
		return e.rep
	}
	return badRequest(err.Error())
}

// chatID reads chat_id. Telegram also accepts "@channelusername"; the fake
// knows no usernames, so such a chat is not found.
func chatID(p params) (int64, error) {
	v := p["chat_id"]
	if v == "" || v == "null" {
		return 0, errBadRequest("chat_id is empty")
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id == 0 {
		return 0, errBadRequest("chat not found")
	}
	return id, nil
}

// content checks text, parse_mode and reply_markup the way Telegram does
// and returns the message they describe, without id and chat.
func content(p params) (SentMessage, error) {
	m := SentMessage{Text: p["text"], Visible: p["text"], ParseMode: p["parse_mode"]}
	if !utf8.ValidString(m.Text) {
		return m, errBadRequest("strings must be encoded in UTF-8")
	}
	switch strings.ToLower(m.ParseMode) {
	case "":
	case "html":
		visible, entities, err := ParseHTML(m.Text)
		if err != nil {
			return m, errBadRequest("can't parse entities: " + err.Error())
		}
		m.Visible, m.Entities = visible, entities
	case "markdown", "markdownv2":
		// Not parsed by the fake: the visible text is the raw text.
	default:
		return m, errBadRequest("unsupported parse_mode")
	}
	if strings.TrimSpace(m.Visible) == "" {
		return m, errBadRequest("message text is empty")
	}
	if utf16Len(m.Visible) > maxTextLength {
		return m, errBadRequest("message is too long")
	}
	kb, err := parseKeyboard(p["reply_markup"])
	m.Keyboard = kb
	return m, err
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// wireMarkup is the part of reply_markup the fake understands.
type wireMarkup struct {
	InlineKeyboard [][]struct {
		Text         string  `json:"text"`
		CallbackData *string `json:"callback_data"`
		URL          string  `json:"url"`
	} `json:"inline_keyboard"`
}

// parseKeyboard returns the inline keyboard in raw, nil for none (or for a
// reply keyboard, which the fake does not record).
func parseKeyboard(raw string) ([][]Button, error) {
	if raw == "" {
		return nil, nil
	}
	var m wireMarkup
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, errBadRequest("can't parse reply keyboard markup JSON object")
	}
	if m.InlineKeyboard == nil {
		return nil, nil
	}
	kb := make([][]Button, len(m.InlineKeyboard))
	for i, row := range m.InlineKeyboard {
		for _, b := range row {
			data := ""
			if b.CallbackData != nil {
				data = *b.CallbackData
				if len(data) == 0 || len(data) > maxCallbackData {
					return nil, errBadRequest("BUTTON_DATA_INVALID")
				}
			}
			kb[i] = append(kb[i], Button{Text: b.Text, CallbackData: data, URL: b.URL})
		}
	}
	return kb, nil
}

func (s *Server) sendMessage(p params) reply {
	chat, err := chatID(p)
	if err != nil {
		return replyFor(err)
	}
	m, err := content(p)
	if err != nil {
		return replyFor(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextMessageID++
	m.ID, m.ChatID = s.nextMessageID, chat
	s.sent[chat] = append(s.sent[chat], m)
	s.notifyLocked()
	return ok(s.wireMessage(m))
}

func (s *Server) editMessageText(p params) reply {
	m, err := content(p)
	if err != nil {
		return replyFor(err)
	}
	if p["inline_message_id"] != "" {
		return ok(true) // inline messages are not tracked; Telegram answers true
	}
	chat, err := chatID(p)
	if err != nil {
		return replyFor(err)
	}
	id := int(p.int("message_id"))
	if id == 0 {
		return badRequest("message identifier is not specified")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.findLocked(chat, id)
	if old == nil || old.Deleted {
		return badRequest("message to edit not found")
	}
	if old.Visible == m.Visible && slices.Equal(old.Entities, m.Entities) && keyboardsEqual(old.Keyboard, m.Keyboard) {
		return badRequest("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
	}
	old.Text, old.Visible, old.ParseMode, old.Entities, old.Keyboard = m.Text, m.Visible, m.ParseMode, m.Entities, m.Keyboard
	old.Edited = true
	s.notifyLocked()
	wm := s.wireMessage(*old)
	wm.EditDate = wm.Date
	return ok(wm)
}

// deleteMessage accepts any id it has not deleted yet: the bot may also
// delete incoming messages, which the fake does not track.
func (s *Server) deleteMessage(p params) reply {
	chat, err := chatID(p)
	if err != nil {
		return replyFor(err)
	}
	id := int(p.int("message_id"))
	if id == 0 {
		return badRequest("message identifier is not specified")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.Contains(s.deleted[chat], id) {
		return badRequest("message to delete not found")
	}
	if m := s.findLocked(chat, id); m != nil {
		m.Deleted = true
	}
	s.deleted[chat] = append(s.deleted[chat], id)
	s.notifyLocked()
	return ok(true)
}

func (s *Server) answerCallbackQuery(p params) reply {
	id := p["callback_query_id"]
	if id == "" {
		return badRequest("query is too old and response timeout expired or query ID is invalid")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers = append(s.answers, CallbackAnswer{QueryID: id, Text: p["text"], ShowAlert: p.bool("show_alert")})
	s.notifyLocked()
	return ok(true)
}

func (s *Server) findLocked(chat int64, id int) *SentMessage {
	for i, m := range s.sent[chat] {
		if m.ID == id {
			return &s.sent[chat][i]
		}
	}
	return nil
}

func keyboardsEqual(a, b [][]Button) bool {
	return slices.EqualFunc(a, b, func(x, y []Button) bool { return slices.Equal(x, y) })
}

// wireMessage is the Message object Telegram returns for m.
func (s *Server) wireMessage(m SentMessage) *models.Message {
	bot := botUser()
	return &models.Message{
		ID:          m.ID,
		From:        &bot,
		Date:        int(s.now().Unix()),
		Chat:        chatFor(m.ChatID),
		Text:        m.Visible,
		Entities:    slices.Clone(m.Entities),
		ReplyMarkup: wireKeyboard(m.Keyboard),
	}
}

// chatFor guesses a chat's type from its id the way Telegram numbers
// chats: users are positive, supergroups and channels below -10^12, basic
// groups negative above that.
func chatFor(id int64) models.Chat {
	switch {
	case id > 0:
		return models.Chat{ID: id, Type: models.ChatTypePrivate}
	case id <= -1_000_000_000_000:
		return models.Chat{ID: id, Type: models.ChatTypeSupergroup}
	}
	return models.Chat{ID: id, Type: models.ChatTypeGroup}
}

func wireKeyboard(kb [][]Button) *models.InlineKeyboardMarkup {
	if kb == nil {
		return nil
	}
	out := &models.InlineKeyboardMarkup{InlineKeyboard: make([][]models.InlineKeyboardButton, len(kb))}
	for i, row := range kb {
		for _, b := range row {
			out.InlineKeyboard[i] = append(out.InlineKeyboard[i],
				models.InlineKeyboardButton{Text: b.Text, CallbackData: b.CallbackData, URL: b.URL})
		}
	}
	return out
}
