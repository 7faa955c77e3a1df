package telegramtest

import (
	"strconv"
	"unicode"
	"unicode/utf16"

	"github.com/go-telegram/bot/models"
)

// The builders below return updates as Telegram sends them, with
// update_id, message_id and dates left zero: QueueUpdate, PostWebhook and
// Stamp fill those in. Set them on the result to pin them.

// User returns a (non-bot) Telegram user. In a private chat the chat id is
// the user id. languageCode is the IETF tag of the user's Telegram UI, ""
// when Telegram sends none.
func User(id int64, firstName, languageCode string) models.User {
	return models.User{ID: id, FirstName: firstName, LanguageCode: languageCode}
}

// privateChat is the chat between the bot and u.
func privateChat(u models.User) models.Chat {
	return models.Chat{ID: u.ID, Type: models.ChatTypePrivate, FirstName: u.FirstName, LastName: u.LastName, Username: u.Username}
}

func privateMessage(from models.User) *models.Message {
	return &models.Message{From: &from, Chat: privateChat(from)}
}

// Text is a text message from a user to the bot in their private chat.
// Like Telegram, it marks every /command in text with a bot_command entity
// at its UTF-16 offset, so "Привіт /help" has one at offset 7.
func Text(from models.User, text string) models.Update {
	m := privateMessage(from)
	m.Text, m.Entities = text, commandEntities(text)
	return models.Update{Message: m}
}

// Command is a message "/command args" (just "/command" when args is "").
func Command(from models.User, command, args string) models.Update {
	text := "/" + command
	if args != "" {
		text += " " + args
	}
	return Text(from, text)
}

// Start is the message a deep link t.me/<bot>?start=payload makes the
// client send: "/start payload".
func Start(from models.User, payload string) models.Update {
	return Command(from, "start", payload)
}

// commandEntities finds bot commands the way Telegram marks them: a "/"
// at the start of the text or after whitespace, then ASCII letters, digits
// or underscores, optionally followed by "@botusername".
func commandEntities(text string) []models.MessageEntity {
	var out []models.MessageEntity
	runes := []rune(text)
	offset := 0 // UTF-16 offset of runes[i]
	for i := 0; i < len(runes); {
		if runes[i] == '/' && (i == 0 || unicode.IsSpace(runes[i-1])) {
			end := commandEnd(runes, i+1)
			if end > i+1 {
				length := len(utf16.Encode(runes[i:end]))
				out = append(out, models.MessageEntity{Type: models.MessageEntityTypeBotCommand, Offset: offset, Length: length})
				offset += length
				i = end
				continue
			}
		}
		offset += utf16.RuneLen(runes[i])
		i++
	}
	return out
}

// commandEnd returns the index after the command name starting at i and
// its optional @username.
func commandEnd(runes []rune, i int) int {
	end := i
	for end < len(runes) && isCommandRune(runes[end]) {
		end++
	}
	if end == i || end == len(runes) || runes[end] != '@' {
		return end
	}
	at := end + 1
	for at < len(runes) && isCommandRune(runes[at]) {
		at++
	}
	if at > end+1 {
		return at
	}
	return end
}

func isCommandRune(r rune) bool {
	return r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_')
}

// Callback is a press on an inline button with callback data data, on the
// bot's message messageID in the user's private chat. id is the callback
// query id the bot passes to answerCallbackQuery.
func Callback(from models.User, id, data string, messageID int) models.Update {
	bot := botUser()
	msg := &models.Message{ID: messageID, From: &bot, Chat: privateChat(from)}
	return models.Update{CallbackQuery: &models.CallbackQuery{
		ID:           id,
		From:         from,
		ChatInstance: strconv.FormatInt(from.ID, 10),
		Data:         data,
		Message:      models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeMessage, Message: msg},
	}}
}

// Sticker is a sticker sent to the bot.
func Sticker(from models.User) models.Update {
	m := privateMessage(from)
	m.Sticker = &models.Sticker{FileID: "sticker-file", FileUniqueID: "sticker-unique", Type: "regular", Width: 512, Height: 512, Emoji: "👍"}
	return models.Update{Message: m}
}

// Photo is a photo with an optional caption, in the sizes Telegram sends.
func Photo(from models.User, caption string) models.Update {
	m := privateMessage(from)
	m.Photo = []models.PhotoSize{
		{FileID: "photo-small", FileUniqueID: "photo-small-u", Width: 90, Height: 67, FileSize: 1500},
		{FileID: "photo-large", FileUniqueID: "photo-large-u", Width: 1280, Height: 960, FileSize: 120000},
	}
	m.Caption = caption
	return models.Update{Message: m}
}

// Voice is a voice note.
func Voice(from models.User) models.Update {
	m := privateMessage(from)
	m.Voice = &models.Voice{FileID: "voice-file", FileUniqueID: "voice-unique", Duration: 3, MimeType: "audio/ogg", FileSize: 9000}
	return models.Update{Message: m}
}

// Document is a file sent as a document.
func Document(from models.User, fileName string) models.Update {
	m := privateMessage(from)
	m.Document = &models.Document{FileID: "document-file", FileUniqueID: "document-unique", FileName: fileName, MimeType: "application/octet-stream", FileSize: 20000}
	return models.Update{Message: m}
}

// GroupText is a text message in a group (chat ids below -10^12 are
// supergroups, as Telegram numbers them).
func GroupText(chatID int64, title string, from models.User, text string) models.Update {
	chat := chatFor(chatID)
	chat.Title = title
	return models.Update{Message: &models.Message{From: &from, Chat: chat, Text: text, Entities: commandEntities(text)}}
}

// ChannelPost is a post in a channel the bot belongs to; posts have a
// sender chat and no sender user.
func ChannelPost(chatID int64, title, text string) models.Update {
	chat := models.Chat{ID: chatID, Type: models.ChatTypeChannel, Title: title}
	return models.Update{ChannelPost: &models.Message{SenderChat: &chat, Chat: chat, Text: text}}
}

// Edited is the user's edit of their earlier message messageID.
func Edited(from models.User, messageID int, text string) models.Update {
	m := privateMessage(from)
	m.ID, m.Text, m.Entities = messageID, text, commandEntities(text)
	return models.Update{EditedMessage: m}
}

// MyChatMember is the change of the bot's status in the user's private
// chat: models.ChatMemberTypeBanned ("kicked") when the user blocks the
// bot, models.ChatMemberTypeMember when they unblock it (or start it).
func MyChatMember(from models.User, status models.ChatMemberType) models.Update {
	old := models.ChatMemberTypeMember
	if status != models.ChatMemberTypeBanned {
		old = models.ChatMemberTypeBanned
	}
	return models.Update{MyChatMember: &models.ChatMemberUpdated{
		Chat:          privateChat(from),
		From:          from,
		OldChatMember: botMember(old),
		NewChatMember: botMember(status),
	}}
}

// botMember is the bot's membership with the given status; statuses other
// than kicked and left count as member.
func botMember(status models.ChatMemberType) models.ChatMember {
	bot := botUser()
	switch status {
	case models.ChatMemberTypeBanned:
		return models.ChatMember{Type: status, Banned: &models.ChatMemberBanned{Status: status, User: &bot}}
	case models.ChatMemberTypeLeft:
		return models.ChatMember{Type: status, Left: &models.ChatMemberLeft{Status: status, User: &bot}}
	}
	return models.ChatMember{Type: models.ChatMemberTypeMember, Member: &models.ChatMemberMember{Status: models.ChatMemberTypeMember, User: &bot}}
}
