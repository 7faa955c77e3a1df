package telegram

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
	"github.com/google/go-cmp/cmp"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/flows"
)

const olenaID = 42

var olena = &models.User{ID: olenaID, FirstName: "Olena", LanguageCode: "uk"}

// private is a message from Olena in her private chat with the bot.
func private(text string, entities ...models.MessageEntity) *models.Message {
	return &models.Message{
		ID: 1, From: olena, Chat: models.Chat{ID: olenaID, Type: models.ChatTypePrivate},
		Text: text, Entities: entities,
	}
}

// inChat is a message from Olena in a chat of the given kind.
func inChat(typ models.ChatType, text string, entities ...models.MessageEntity) *models.Message {
	m := private(text, entities...)
	m.Chat = models.Chat{ID: -100123, Type: typ, Title: "Migranci Gdańsk"}
	return m
}

// cmdAt is a bot_command entity for the first occurrence of cmd in text,
// in UTF-16 code units as Telegram sends it (computed with unicode/utf16,
// independently of the code under test).
func cmdAt(t *testing.T, text, cmd string) models.MessageEntity {
	t.Helper()
	i := strings.Index(text, cmd)
	if i < 0 {
		t.Fatalf("%q does not contain %q", text, cmd)
	}
	units := func(s string) int { return len(utf16.Encode([]rune(s))) }
	return models.MessageEntity{Type: models.MessageEntityTypeBotCommand, Offset: units(text[:i]), Length: units(cmd)}
}

func entity(typ models.MessageEntityType, offset, length int) models.MessageEntity {
	return models.MessageEntity{Type: typ, Offset: offset, Length: length}
}

// olenaEvent is an event from Olena with her profile hints.
func olenaEvent(ev flows.Event) flows.Event {
	ev.LangHint, ev.FirstName = "uk", "Olena"
	return ev
}

func event(ev flows.Event) bot.Update {
	return bot.Update{ID: 7, Chat: olenaID, Event: olenaEvent(ev), HasEvent: true}
}

func cmdUpdate(name, arg string) bot.Update {
	return event(flows.Event{Kind: flows.CommandMessage, Command: name, Arg: arg})
}

func textUpdate(s string) bot.Update {
	return event(flows.Event{Kind: flows.TextMessage, Text: s})
}

func press(chat bot.ChatID, data string) bot.Update {
	u := event(flows.Event{Kind: flows.ButtonPress, Data: data})
	u.Chat, u.CallbackID = chat, "cb1"
	return u
}

var unsupported = event(flows.Event{Kind: flows.UnsupportedMessage})

func TestConvertPrivateText(t *testing.T) {
	const cmd = models.MessageEntityTypeBotCommand
	long := strings.Repeat("ї", 5000)
	tests := []struct {
		name string
		text string
		// entities are sent as given, then a command entity for the first
		// occurrence of cmd, if set.
		entities []models.MessageEntity
		cmd      string
		want     bot.Update
	}{
		{name: "plain text", text: "Як отримати PESEL?", want: textUpdate("Як отримати PESEL?")},
		{name: "start", text: "/start", cmd: "/start", want: cmdUpdate("start", "")},
		{name: "deep-link payload", text: "/start uk", cmd: "/start", want: cmdUpdate("start", "uk")},
		{name: "argument trimmed", text: "/start \n uk \n", cmd: "/start", want: cmdUpdate("start", "uk")},
		{name: "bot name suffix", text: "/help@witaj_bot", cmd: "/help@witaj_bot", want: cmdUpdate("help", "")},
		{name: "uppercase", text: "/HELP", cmd: "/HELP", want: cmdUpdate("help", "")},
		{name: "uppercase with suffix", text: "/Menu@Witaj_Bot x", cmd: "/Menu@Witaj_Bot", want: cmdUpdate("menu", "x")},
		// Offsets written out by hand for the case go-telegram's matcher gets wrong.
		{name: "after Cyrillic, literal offset", text: "Привіт /help", entities: []models.MessageEntity{entity(cmd, 7, 5)}, want: cmdUpdate("help", "")},
		{name: "after Polish", text: "Cześć /help proszę", cmd: "/help", want: cmdUpdate("help", "proszę")},
		{name: "after Russian", text: "Здравствуйте! /human", cmd: "/human", want: cmdUpdate("human", "")},
		// 🙂 is two UTF-16 units and four bytes.
		{name: "after emoji, literal offset", text: "🙂🙂 /menu teraz", entities: []models.MessageEntity{entity(cmd, 5, 5)}, want: cmdUpdate("menu", "teraz")},
		{name: "after flag and mixed scripts", text: "Я з Києва 🇺🇦 żółw /language pl", cmd: "/language", want: cmdUpdate("language", "pl")},
		{name: "first command wins", text: "/help /menu", entities: []models.MessageEntity{entity(cmd, 0, 5), entity(cmd, 6, 5)}, want: cmdUpdate("help", "/menu")},
		{
			name: "other entities before the command", text: "@olena #pesel /help", cmd: "/help",
			entities: []models.MessageEntity{entity(models.MessageEntityTypeMention, 0, 6), entity(models.MessageEntityTypeHashtag, 7, 6)},
			want:     cmdUpdate("help", ""),
		},
		{name: "slash without entity is text", text: "/help", want: textUpdate("/help")},
		{name: "entity past the end", text: "Привіт /help", entities: []models.MessageEntity{entity(cmd, 12, 5)}, want: textUpdate("Привіт /help")},
		// 13 is the byte offset of "/help", what a UTF-8 slice would use.
		{name: "entity at byte offset", text: "Привіт /help", entities: []models.MessageEntity{entity(cmd, 13, 5)}, want: textUpdate("Привіт /help")},
		{name: "entity splits a surrogate pair", text: "🙂/x", entities: []models.MessageEntity{entity(cmd, 1, 3)}, want: textUpdate("🙂/x")},
		{name: "negative offset", text: "/help", entities: []models.MessageEntity{entity(cmd, -1, 5)}, want: textUpdate("/help")},
		{name: "entity without slash", text: "help me", entities: []models.MessageEntity{entity(cmd, 0, 4)}, want: textUpdate("help me")},
		{name: "bare slash", text: "/@witaj_bot", entities: []models.MessageEntity{entity(cmd, 0, 11)}, want: textUpdate("/@witaj_bot")},
		{name: "malformed first, valid second", text: "/help", entities: []models.MessageEntity{entity(cmd, 3, 9)}, cmd: "/help", want: cmdUpdate("help", "")},
		{name: "long text cut to 4096 characters", text: long, want: textUpdate(strings.Repeat("ї", 4096))},
		{name: "long argument cut", text: "/start " + long, cmd: "/start", want: cmdUpdate("start", strings.Repeat("ї", 4096))},
		{name: "invalid UTF-8 replaced", text: "a\xffb", want: textUpdate("a\uFFFDb")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entities := slices.Clone(tt.entities)
			if tt.cmd != "" {
				entities = append(entities, cmdAt(t, tt.text, tt.cmd))
			}
			assertConvert(t, &models.Update{ID: 7, Message: private(tt.text, entities...)}, tt.want, true)
			// An edited text is a corrected question: the same event again.
			assertConvert(t, &models.Update{ID: 7, EditedMessage: private(tt.text, entities...)}, tt.want, true)
		})
	}
}

// TestConvertCaption: a photo or file with a caption is read as the
// caption's text (or command), marked as coming with an attachment.
func TestConvertCaption(t *testing.T) {
	tests := []struct {
		name string
		set  func(m *models.Message)
		want flows.Event
	}{
		{"photo with a question", func(m *models.Message) {
			m.Photo = []models.PhotoSize{{FileID: "p"}}
			m.Caption = "Чи правильно заповнено цю заяву?"
		}, flows.Event{Kind: flows.TextMessage, Text: "Чи правильно заповнено цю заяву?", Attachment: true}},
		{"document with a command", func(m *models.Message) {
			m.Document = &models.Document{FileID: "d"}
			m.Caption = "/help"
			m.CaptionEntities = []models.MessageEntity{entity(models.MessageEntityTypeBotCommand, 0, 5)}
		}, flows.Event{Kind: flows.CommandMessage, Command: "help", Attachment: true}},
		{"blank caption", func(m *models.Message) {
			m.Photo = []models.PhotoSize{{FileID: "p"}}
			m.Caption = "  "
		}, flows.Event{Kind: flows.UnsupportedMessage}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := private("")
			tt.set(m)
			assertConvert(t, &models.Update{ID: 7, Message: m}, event(tt.want), true)
		})
	}
}

func TestConvertAttachments(t *testing.T) {
	tests := []struct {
		name string
		set  func(m *models.Message)
	}{
		{"photo", func(m *models.Message) { m.Photo = []models.PhotoSize{{FileID: "p"}} }},
		{"sticker", func(m *models.Message) { m.Sticker = &models.Sticker{FileID: "s"} }},
		{"voice", func(m *models.Message) { m.Voice = &models.Voice{FileID: "v"} }},
		{"audio", func(m *models.Message) { m.Audio = &models.Audio{FileID: "a"} }},
		{"video", func(m *models.Message) { m.Video = &models.Video{FileID: "v"} }},
		{"video note", func(m *models.Message) { m.VideoNote = &models.VideoNote{FileID: "v"} }},
		{"animation", func(m *models.Message) { m.Animation = &models.Animation{FileID: "g"} }},
		{"document", func(m *models.Message) { m.Document = &models.Document{FileID: "d"} }},
		{"location", func(m *models.Message) { m.Location = &models.Location{Latitude: 54.35, Longitude: 18.65} }},
		{"venue", func(m *models.Message) { m.Venue = &models.Venue{Title: "Urząd"} }},
		{"contact", func(m *models.Message) { m.Contact = &models.Contact{PhoneNumber: "+48"} }},
		{"poll", func(m *models.Message) { m.Poll = &models.Poll{Question: "?"} }},
		{"dice", func(m *models.Message) { m.Dice = &models.Dice{Emoji: "🎲"} }},
		{"story", func(m *models.Message) { m.Story = &models.Story{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := private("")
			tt.set(m)
			assertConvert(t, &models.Update{ID: 7, Message: m}, unsupported, true)
			// Edits of attachments (live locations, captions) need no reply.
			assertConvert(t, &models.Update{ID: 7, EditedMessage: m}, bot.Update{}, false)
		})
	}
}

func TestConvertCallback(t *testing.T) {
	query := func(data string) *models.CallbackQuery {
		return &models.CallbackQuery{
			ID: "cb1", From: *olena, Data: data,
			Message: models.MaybeInaccessibleMessage{Message: private("Choose a topic:")},
		}
	}
	withChat := func(q *models.CallbackQuery, c models.Chat) *models.CallbackQuery {
		q.Message.Message.Chat = c
		return q
	}
	inaccessible := query("menu")
	inaccessible.Message = models.MaybeInaccessibleMessage{
		Type:                models.MaybeInaccessibleMessageTypeInaccessibleMessage,
		InaccessibleMessage: &models.InaccessibleMessage{Chat: models.Chat{ID: 77, Type: models.ChatTypePrivate}},
	}
	noMessage := query("menu")
	noMessage.Message = models.MaybeInaccessibleMessage{}
	chatless := query("menu")
	chatless.Message = models.MaybeInaccessibleMessage{InaccessibleMessage: &models.InaccessibleMessage{}}

	tests := []struct {
		name   string
		q      *models.CallbackQuery
		want   bot.Update
		wantOK bool
	}{
		{"data", query("f:legal.pesel"), press(olenaID, "f:legal.pesel"), true},
		{"empty data", query(""), press(olenaID, ""), true},
		{"64 bytes kept", query(strings.Repeat("x", 64)), press(olenaID, strings.Repeat("x", 64)), true},
		{"65 bytes blanked", query(strings.Repeat("x", 65)), press(olenaID, ""), true},
		{"33 Cyrillic letters are 66 bytes", query(strings.Repeat("ж", 33)), press(olenaID, ""), true},
		{"invalid UTF-8 blanked", query("f:\xff"), press(olenaID, ""), true},
		{"inaccessible message", inaccessible, press(77, "menu"), true},
		{"no message: the user's chat", noMessage, press(olenaID, "menu"), true},
		{"message without chat id", chatless, press(olenaID, "menu"), true},
		{"group message", withChat(query("menu"), models.Chat{ID: -5, Type: models.ChatTypeGroup}), bot.Update{}, false},
		{"channel message", withChat(query("menu"), models.Chat{ID: -6, Type: models.ChatTypeChannel}), bot.Update{}, false},
		{"no user, no chat", &models.CallbackQuery{ID: "cb1", Data: "menu"}, bot.Update{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertConvert(t, &models.Update{ID: 7, CallbackQuery: tt.q}, tt.want, tt.wantOK)
		})
	}
}

func TestConvertChatMember(t *testing.T) {
	member := func(chat models.ChatType, status models.ChatMemberType) *models.ChatMemberUpdated {
		return &models.ChatMemberUpdated{
			Chat: models.Chat{ID: olenaID, Type: chat}, From: *olena,
			NewChatMember: models.ChatMember{Type: status},
		}
	}
	control := func(c bot.Control) bot.Update { return bot.Update{ID: 7, Chat: olenaID, Control: c} }
	tests := []struct {
		name   string
		m      *models.ChatMemberUpdated
		want   bot.Update
		wantOK bool
	}{
		{"kicked blocks", member(models.ChatTypePrivate, models.ChatMemberTypeBanned), control(bot.Blocked), true},
		{"member unblocks", member(models.ChatTypePrivate, models.ChatMemberTypeMember), control(bot.Unblocked), true},
		{"left ignored", member(models.ChatTypePrivate, models.ChatMemberTypeLeft), bot.Update{}, false},
		{"no status ignored", member(models.ChatTypePrivate, ""), bot.Update{}, false},
		{"added to a group ignored", member(models.ChatTypeGroup, models.ChatMemberTypeMember), bot.Update{}, false},
		{"kicked from a group ignored", member(models.ChatTypeSupergroup, models.ChatMemberTypeBanned), bot.Update{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertConvert(t, &models.Update{ID: 7, MyChatMember: tt.m}, tt.want, tt.wantOK)
		})
	}
}

func TestConvertGroupsAndChannels(t *testing.T) {
	reply := bot.Update{ID: 7, Chat: -100123, Event: olenaEvent(flows.Event{}), Reply: "group.unsupported"}
	// command is a message whose text starts with a command of n units.
	command := func(typ models.ChatType, s string, n int) *models.Message {
		return inChat(typ, s, entity(models.MessageEntityTypeBotCommand, 0, n))
	}
	photo := inChat(models.ChatTypeGroup, "")
	photo.Photo = []models.PhotoSize{{FileID: "p"}}
	anonymous := command(models.ChatTypeGroup, "/start", 6)
	anonymous.From = nil // an anonymous group admin
	tests := []struct {
		name   string
		u      *models.Update
		want   bot.Update
		wantOK bool
	}{
		{"group /start", &models.Update{ID: 7, Message: command(models.ChatTypeGroup, "/start", 6)}, reply, true},
		{"supergroup /start@bot", &models.Update{ID: 7, Message: command(models.ChatTypeSupergroup, "/start@witaj_bot", 16)}, reply, true},
		{"group /START", &models.Update{ID: 7, Message: command(models.ChatTypeGroup, "/START", 6)}, reply, true},
		{"group command addressed to the bot", &models.Update{ID: 7, Message: inChat(models.ChatTypeGroup, "Cześć /help@witaj_bot",
			entity(models.MessageEntityTypeBotCommand, 6, 15))}, reply, true},
		{"group /start without sender", &models.Update{ID: 7, Message: anonymous}, bot.Update{ID: 7, Chat: -100123, Reply: "group.unsupported"}, true},
		{"group bare command ignored", &models.Update{ID: 7, Message: command(models.ChatTypeGroup, "/help", 5)}, bot.Update{}, false},
		{"group text ignored", &models.Update{ID: 7, Message: inChat(models.ChatTypeGroup, "Хто знає про PESEL?")}, bot.Update{}, false},
		{"group photo ignored", &models.Update{ID: 7, Message: photo}, bot.Update{}, false},
		{"group edited /start ignored", &models.Update{ID: 7, EditedMessage: command(models.ChatTypeGroup, "/start", 6)}, bot.Update{}, false},
		{"channel post ignored", &models.Update{ID: 7, ChannelPost: command(models.ChatTypeChannel, "/start", 6)}, bot.Update{}, false},
		{"channel message ignored", &models.Update{ID: 7, Message: command(models.ChatTypeChannel, "/start", 6)}, bot.Update{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertConvert(t, tt.u, tt.want, tt.wantOK)
		})
	}
}

func TestConvertNilAndEmpty(t *testing.T) {
	noFrom := private("hi")
	noFrom.From = nil
	service := private("")
	service.PinnedMessage = &models.MaybeInaccessibleMessage{}
	noChatID := private("hi")
	noChatID.Chat.ID = 0
	noChatType := private("hi")
	noChatType.Chat.Type = ""
	tests := []struct {
		name   string
		u      *models.Update
		want   bot.Update
		wantOK bool
	}{
		{"nil update", nil, bot.Update{}, false},
		{"empty update", &models.Update{ID: 7}, bot.Update{}, false},
		{"message without sender", &models.Update{ID: 7, Message: noFrom}, bot.Update{ID: 7, Chat: olenaID, Event: flows.Event{Kind: flows.TextMessage, Text: "hi"}, HasEvent: true}, true},
		{"empty message", &models.Update{ID: 7, Message: private("")}, bot.Update{}, false},
		{"service message", &models.Update{ID: 7, Message: service}, bot.Update{}, false},
		{"chat id 0", &models.Update{ID: 7, Message: noChatID}, bot.Update{}, false},
		{"chat without type", &models.Update{ID: 7, Message: noChatType}, bot.Update{}, false},
		{"inline query", &models.Update{ID: 7, InlineQuery: &models.InlineQuery{ID: "q", From: olena}}, bot.Update{}, false},
		{"business message", &models.Update{ID: 7, BusinessMessage: private("hi")}, bot.Update{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertConvert(t, tt.u, tt.want, tt.wantOK)
		})
	}
}

// TestConvertJSON runs updates as Telegram sends them through the
// library's decoder, which picks the member status and the kind of a
// callback's message from the JSON.
func TestConvertJSON(t *testing.T) {
	uk := flows.Event{LangHint: "uk", FirstName: "Olena"}
	with := func(ev flows.Event, kind flows.EventKind, f func(*flows.Event)) flows.Event {
		ev.Kind = kind
		if f != nil {
			f(&ev)
		}
		return ev
	}
	tests := []struct {
		file   string
		want   bot.Update
		wantOK bool
	}{
		{"private_text.json", bot.Update{ID: 1001, Chat: 42, HasEvent: true, Event: with(uk, flows.TextMessage, func(e *flows.Event) { e.Text = "Як отримати PESEL?" })}, true},
		{"private_command_after_cyrillic.json", bot.Update{ID: 1002, Chat: 42, HasEvent: true, Event: with(uk, flows.CommandMessage, func(e *flows.Event) { e.Command = "help" })}, true},
		{"private_start_deeplink.json", bot.Update{ID: 1003, Chat: 43, HasEvent: true, Event: flows.Event{Kind: flows.CommandMessage, Command: "start", Arg: "uk", LangHint: "en-GB", FirstName: "Rahul"}}, true},
		{"private_photo_caption.json", bot.Update{ID: 1004, Chat: 42, HasEvent: true, Event: with(uk, flows.TextMessage, func(e *flows.Event) {
			e.Text, e.Attachment = "Чи правильно заповнено цю заяву?", true
		})}, true},
		{"callback_inaccessible.json", bot.Update{ID: 1005, Chat: 42, HasEvent: true, CallbackID: "4382bfdwdsb323b2d9", Event: with(uk, flows.ButtonPress, func(e *flows.Event) { e.Data = "f:legal.pesel" })}, true},
		{"callback_message.json", bot.Update{ID: 1006, Chat: 44, HasEvent: true, CallbackID: "77", Event: flows.Event{Kind: flows.ButtonPress, Data: "menu", LangHint: "ru", FirstName: "Oksana"}}, true},
		{"my_chat_member_kicked.json", bot.Update{ID: 1007, Chat: 42, Control: bot.Blocked}, true},
		{"my_chat_member_member.json", bot.Update{ID: 1008, Chat: 42, Control: bot.Unblocked}, true},
		{"group_start.json", bot.Update{ID: 1009, Chat: -100123, Reply: "group.unsupported", Event: flows.Event{LangHint: "pl", FirstName: "Jan"}}, true},
		{"channel_post.json", bot.Update{}, false},
		{"edited_live_location.json", bot.Update{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var u models.Update
			if err := json.Unmarshal(readFixture(t, tt.file), &u); err != nil {
				t.Fatalf("decode %s: %v", tt.file, err)
			}
			assertConvert(t, &u, tt.want, tt.wantOK)
		})
	}
}

func TestUTF16Span(t *testing.T) {
	tests := []struct {
		s              string
		offset, length int
		want           string
		wantOK         bool
	}{
		{"hi /help", 3, 5, "/help", true},
		{"Привіт /help", 7, 5, "/help", true},
		{"😀/x", 2, 2, "/x", true},
		{"😀/x", 0, 2, "😀", true},
		{"😀/x", 1, 1, "", false},
		{"😀/x", 0, 1, "", false},
		{"abc", 3, 0, "", true},
		{"abc", 2, 2, "", false},
		{"abc", 4, 0, "", false},
		{"", 0, 0, "", true},
	}
	for _, tt := range tests {
		got, _, ok := utf16Span(tt.s, tt.offset, tt.length)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("utf16Span(%q, %d, %d) = %q, %v; want %q, %v", tt.s, tt.offset, tt.length, got, ok, tt.want, tt.wantOK)
		}
	}
}

// FuzzConvert decodes arbitrary JSON into an update and checks that
// Convert neither panics nor lets malformed input through.
func FuzzConvert(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "updates", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed updates: %v", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"message":{"chat":{"id":1,"type":"private"},"text":"😀/x","entities":[{"type":"bot_command","offset":1,"length":99}]}}`))
	f.Add([]byte(`{"callback_query":{"id":"1","message":null}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var u models.Update
		// A failed decode leaves a partly filled update: convert it anyway.
		_ = json.Unmarshal(data, &u)
		got, ok := Convert(&u)
		checkInvariants(t, &u, got, ok)
	})
}

// FuzzCommandEntity feeds arbitrary text and entity bounds.
func FuzzCommandEntity(f *testing.F) {
	f.Add("Привіт /help", 7, 5)
	f.Add("🙂🙂 /menu teraz", 5, 5)
	f.Add("/start uk", 0, 6)
	f.Add("\xff/x", 1, 2)
	f.Fuzz(func(t *testing.T, s string, offset, length int) {
		u := &models.Update{ID: 1, Message: private(s, entity(models.MessageEntityTypeBotCommand, offset, length))}
		got, ok := Convert(u)
		checkInvariants(t, u, got, ok)
	})
}

func checkInvariants(t *testing.T, u *models.Update, got bot.Update, ok bool) {
	t.Helper()
	if !ok {
		if diff := cmp.Diff(bot.Update{}, got); diff != "" {
			t.Errorf("ignored update not zero (-want +got):\n%s", diff)
		}
		return
	}
	if got.ID != u.ID || got.Chat == 0 {
		t.Errorf("got ID %d chat %d for update %d", got.ID, got.Chat, u.ID)
	}
	if kinds := btoi(got.HasEvent) + btoi(got.Control != bot.NoControl) + btoi(got.Reply != ""); kinds != 1 {
		t.Errorf("update is %d things at once: %+v", kinds, got)
	}
	for _, s := range []string{got.Event.Text, got.Event.Command, got.Event.Arg} {
		if !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxTextRunes {
			t.Errorf("unbounded or invalid text %q", s)
		}
	}
	if d := got.Event.Data; len(d) > maxCallbackData || !utf8.ValidString(d) {
		t.Errorf("callback data %q passed through", d)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "updates", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func assertConvert(t *testing.T, u *models.Update, want bot.Update, wantOK bool) {
	t.Helper()
	got, ok := Convert(u)
	if ok != wantOK {
		t.Errorf("Convert ok = %v, want %v (update %+v)", ok, wantOK, got)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Convert mismatch (-want +got):\n%s", diff)
	}
}
