package telegramtest_test

import (
	"errors"
	"strings"
	"testing"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/google/go-cmp/cmp"

	"github.com/witaj/witaj/bot/telegram/telegramtest"
)

func TestCommands(t *testing.T) {
	ctx := testContext(t)
	srv := telegramtest.New(t)
	b := newClient(t, srv)
	pl := []models.BotCommand{{Command: "pomoc_1", Description: "Pomoc"}}
	uk := []models.BotCommand{{Command: "help", Description: "Допомога"}}
	if _, err := b.SetMyCommands(ctx, &tgbot.SetMyCommandsParams{Commands: pl, LanguageCode: "pl"}); err != nil {
		t.Fatalf("SetMyCommands pl: %v", err)
	}
	private := &models.BotCommandScopeAllPrivateChats{}
	if _, err := b.SetMyCommands(ctx, &tgbot.SetMyCommandsParams{Commands: uk, Scope: private, LanguageCode: "uk"}); err != nil {
		t.Fatalf("SetMyCommands uk: %v", err)
	}
	if diff := cmp.Diff(pl, srv.Commands(nil, "pl")); diff != "" {
		t.Errorf("Commands(default, pl) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(pl, srv.Commands(&models.BotCommandScopeDefault{}, "pl")); diff != "" {
		t.Errorf("Commands(explicit default, pl) (-want +got):\n%s", diff)
	}
	if got := srv.Commands(nil, "uk"); got != nil {
		t.Errorf("Commands(default, uk) = %v, want none (no fallback across scopes)", got)
	}
	got, err := b.GetMyCommands(ctx, &tgbot.GetMyCommandsParams{Scope: private, LanguageCode: "uk"})
	if err != nil || !cmp.Equal(got, uk) {
		t.Errorf("GetMyCommands(private, uk) = %v, %v", got, err)
	}
	if _, err := b.DeleteMyCommands(ctx, &tgbot.DeleteMyCommandsParams{LanguageCode: "pl"}); err != nil || srv.Commands(nil, "pl") != nil {
		t.Errorf("DeleteMyCommands: %v, left %v", err, srv.Commands(nil, "pl"))
	}
	for _, bad := range []models.BotCommand{{Command: "Pomoc", Description: "x"}, {Command: "help-me", Description: "x"}, {Command: "help", Description: ""}} {
		_, err := b.SetMyCommands(ctx, &tgbot.SetMyCommandsParams{Commands: []models.BotCommand{bad}})
		if !errors.Is(err, tgbot.ErrorBadRequest) || !strings.Contains(err.Error(), "BOT_COMMAND") {
			t.Errorf("SetMyCommands(%+v) error = %v, want BOT_COMMAND_…_INVALID", bad, err)
		}
	}
}

func TestWebhookConfig(t *testing.T) {
	ctx := testContext(t)
	srv := telegramtest.New(t)
	b := newClient(t, srv)
	srv.QueueUpdate(telegramtest.Text(ala, "pending"))
	params := &tgbot.SetWebhookParams{
		URL: "https://witaj.example/tg", SecretToken: "A-z_09", MaxConnections: 10,
		AllowedUpdates: []string{"message", "callback_query"},
	}
	if _, err := b.SetWebhook(ctx, params); err != nil {
		t.Fatalf("SetWebhook: %v", err)
	}
	want := telegramtest.Webhook{URL: params.URL, SecretToken: "A-z_09", MaxConnections: 10, AllowedUpdates: params.AllowedUpdates}
	if diff := cmp.Diff(want, srv.Webhook()); diff != "" {
		t.Errorf("Webhook (-want +got):\n%s", diff)
	}
	info, err := b.GetWebhookInfo(ctx)
	if err != nil || info.URL != params.URL || info.PendingUpdateCount != 1 || info.MaxConnections != 10 {
		t.Errorf("GetWebhookInfo = %+v, %v", info, err)
	}
	for _, bad := range []tgbot.SetWebhookParams{
		{URL: "https://witaj.example/tg", SecretToken: "a+b/c="},
		{URL: "http://witaj.example/tg"},
	} {
		if _, err := b.SetWebhook(ctx, &bad); !errors.Is(err, tgbot.ErrorBadRequest) {
			t.Errorf("SetWebhook(%+v) error = %v, want bad request", bad, err)
		}
	}
	if _, err := b.DeleteWebhook(ctx, &tgbot.DeleteWebhookParams{DropPendingUpdates: true}); err != nil {
		t.Fatalf("DeleteWebhook: %v", err)
	}
	if got := srv.Webhook(); got.URL != "" || srv.Pending() != 0 {
		t.Errorf("after DeleteWebhook: %+v, %d pending", got, srv.Pending())
	}
}
