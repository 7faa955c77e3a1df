package telegramtest_test

import (
	"context"
	"testing"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/google/go-cmp/cmp"

	"github.com/witaj/witaj/bot/telegram/telegramtest"
)

func TestCommandEntities(t *testing.T) {
	cmd := func(offset, length int) models.MessageEntity {
		return models.MessageEntity{Type: models.MessageEntityTypeBotCommand, Offset: offset, Length: length}
	}
	tests := []struct {
		text string
		want []models.MessageEntity
	}{
		{"/help", []models.MessageEntity{cmd(0, 5)}},
		{"Привіт /help", []models.MessageEntity{cmd(7, 5)}},
		{"Cześć /help", []models.MessageEntity{cmd(6, 5)}},
		{"😀 /help", []models.MessageEntity{cmd(3, 5)}}, // the emoji is two UTF-16 units
		{"/start@witaj_test_bot x", []models.MessageEntity{cmd(0, 21)}},
		{"/a /b", []models.MessageEntity{cmd(0, 2), cmd(3, 2)}},
		{"a/b, 1/2, / alone", nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, telegramtest.Text(ala, tt.text).Message.Entities); diff != "" {
			t.Errorf("Text(%q) entities (-want +got):\n%s", tt.text, diff)
		}
	}
	if got := telegramtest.Start(ala, "ref_42").Message.Text; got != "/start ref_42" {
		t.Errorf("Start text = %q", got)
	}
	if got := telegramtest.Command(ala, "help", "").Message.Text; got != "/help" {
		t.Errorf("Command text = %q", got)
	}
}

// TestBuildersDecodeInTheLibrary sends every builder's update through
// getUpdates to the real client and checks what its handler sees.
func TestBuildersDecodeInTheLibrary(t *testing.T) {
	group := telegramtest.GroupText(-1001234567890, "Wolontariusze", ala, "hi /help")
	tests := []struct {
		name   string
		update models.Update
		check  func(*models.Update) bool
	}{
		{"text", telegramtest.Text(ala, "Привіт /help"), func(u *models.Update) bool {
			m := u.Message
			return m.Chat.Type == models.ChatTypePrivate && m.From.FirstName == "Ala" && m.From.LanguageCode == "pl" &&
				len(m.Entities) == 1 && m.Entities[0].Offset == 7 && m.ID > 0 && m.Date > 0
		}},
		{"start", telegramtest.Start(ala, "abc"), func(u *models.Update) bool { return u.Message.Text == "/start abc" }},
		{"callback", telegramtest.Callback(ala, "cb-1", "f:2", 10), func(u *models.Update) bool {
			cq := u.CallbackQuery
			return cq.ID == "cb-1" && cq.Data == "f:2" && cq.From.ID == 42 &&
				cq.Message.Type == models.MaybeInaccessibleMessageTypeMessage && cq.Message.Message.ID == 10
		}},
		{"sticker", telegramtest.Sticker(ala), func(u *models.Update) bool { return u.Message.Sticker != nil }},
		{"photo", telegramtest.Photo(ala, "scan"), func(u *models.Update) bool { return len(u.Message.Photo) == 2 && u.Message.Caption == "scan" }},
		{"voice", telegramtest.Voice(ala), func(u *models.Update) bool { return u.Message.Voice != nil }},
		{"document", telegramtest.Document(ala, "karta.pdf"), func(u *models.Update) bool { return u.Message.Document.FileName == "karta.pdf" }},
		{"group", group, func(u *models.Update) bool {
			return u.Message.Chat.Type == models.ChatTypeSupergroup && u.Message.Chat.Title == "Wolontariusze" && len(u.Message.Entities) == 1
		}},
		{"channel", telegramtest.ChannelPost(-1009876543210, "News", "post"), func(u *models.Update) bool {
			return u.ChannelPost.Chat.Type == models.ChatTypeChannel && u.ChannelPost.From == nil
		}},
		{"edited", telegramtest.Edited(ala, 5, "fixed"), func(u *models.Update) bool {
			return u.EditedMessage.ID == 5 && u.EditedMessage.EditDate > 0
		}},
		{"kicked", telegramtest.MyChatMember(ala, models.ChatMemberTypeBanned), func(u *models.Update) bool {
			cm := u.MyChatMember
			return cm.NewChatMember.Type == models.ChatMemberTypeBanned && cm.OldChatMember.Type == models.ChatMemberTypeMember &&
				cm.Chat.ID == 42 && cm.NewChatMember.Banned.User.ID == telegramtest.BotID
		}},
		{"member", telegramtest.MyChatMember(ala, models.ChatMemberTypeMember), func(u *models.Update) bool {
			return u.MyChatMember.NewChatMember.Type == models.ChatMemberTypeMember &&
				u.MyChatMember.OldChatMember.Type == models.ChatMemberTypeBanned
		}},
	}

	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	srv := telegramtest.New(t)
	got := make(chan *models.Update, len(tests))
	b := newClient(t, srv, tgbot.WithNotAsyncHandlers(), tgbot.WithDefaultHandler(
		func(_ context.Context, _ *tgbot.Bot, u *models.Update) { got <- u }))
	done := make(chan struct{})
	go func() { defer close(done); b.Start(ctx) }()
	defer func() { cancel(); <-done }()

	for _, tt := range tests {
		id := srv.QueueUpdate(tt.update)
		select {
		case u := <-got:
			if u.ID != id || !tt.check(u) {
				t.Errorf("%s: handler got %+v", tt.name, u)
			}
		case <-ctx.Done():
			t.Fatalf("%s: update never arrived", tt.name)
		}
	}
	if group.Message.ID != 0 || group.Message.Date != 0 {
		t.Errorf("QueueUpdate changed the caller's update: %+v", group.Message)
	}
}
