package telegramtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/google/go-cmp/cmp"

	"github.com/witaj/witaj/bot/telegram/telegramtest"
)

const token = "123456:test-token"

// newClient returns the real library client pointed at srv.
func newClient(t *testing.T, srv *telegramtest.Server, opts ...tgbot.Option) *tgbot.Bot {
	t.Helper()
	opts = append([]tgbot.Option{tgbot.WithServerURL(srv.URL()), tgbot.WithSkipGetMe()}, opts...)
	b, err := tgbot.New(token, opts...)
	if err != nil {
		t.Fatalf("tgbot.New: %v", err)
	}
	return b
}

// testContext bounds a test so that a missed signal fails instead of hanging.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// wireResponse is Telegram's envelope as a raw client sees it.
type wireResponse struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// post calls method with a body of the given content type, as our own raw
// getUpdates calls do, and decodes the envelope.
func post(ctx context.Context, t *testing.T, srv *telegramtest.Server, method, contentType, body string) (int, wireResponse) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL()+"/bot"+token+"/"+method, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("POST %s: %v", method, err)
		return 0, wireResponse{}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("read %s response: %v", method, err)
	}
	var w wireResponse
	if err := json.Unmarshal(raw, &w); err != nil {
		t.Errorf("%s answered %q: %v", method, raw, err)
	}
	return resp.StatusCode, w
}

func TestSendMessageRecordsAndAnswers(t *testing.T) {
	ctx := testContext(t)
	srv := telegramtest.New(t)
	b := newClient(t, srv)
	kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{
		{{Text: "Tak", CallbackData: "f:1"}, {Text: "Strona", URL: "https://example.com"}},
	}}
	msg, err := b.SendMessage(ctx, &tgbot.SendMessageParams{
		ChatID: 42, Text: "<b>Cześć</b> &amp; witaj", ParseMode: models.ParseModeHTML, ReplyMarkup: kb,
	})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	if msg.ID == 0 || msg.Chat.ID != 42 || msg.Chat.Type != models.ChatTypePrivate || msg.Text != "Cześć & witaj" || msg.Date == 0 {
		t.Errorf("SendMessage returned %+v", msg)
	}
	want := []telegramtest.SentMessage{{
		ID: msg.ID, ChatID: 42, Text: "<b>Cześć</b> &amp; witaj", Visible: "Cześć & witaj", ParseMode: "HTML",
		Entities: []models.MessageEntity{{Type: models.MessageEntityTypeBold, Offset: 0, Length: 5}},
		Keyboard: [][]telegramtest.Button{{{Text: "Tak", CallbackData: "f:1"}, {Text: "Strona", URL: "https://example.com"}}},
	}}
	if diff := cmp.Diff(want, srv.Sent(42)); diff != "" {
		t.Errorf("Sent(42) (-want +got):\n%s", diff)
	}
	reqs := srv.RequestsFor("sendMessage")
	if len(reqs) != 1 || reqs[0].Token != token || reqs[0].Params["chat_id"] != "42" || reqs[0].Status != http.StatusOK {
		t.Errorf("recorded %+v", reqs)
	}
	next, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: 42, Text: "again"})
	if err != nil || next.ID != msg.ID+1 {
		t.Errorf("second SendMessage = %+v, %v; want message_id %d", next, err, msg.ID+1)
	}
}

func TestSendMessageValidation(t *testing.T) {
	long := strings.Repeat("😀", 2049) // 4098 UTF-16 code units
	tests := []struct {
		name   string
		params tgbot.SendMessageParams
		want   string // "" for success, else part of the error
	}{
		{"plain", tgbot.SendMessageParams{ChatID: 1, Text: "a < b & c"}, ""},
		{"4096 units", tgbot.SendMessageParams{ChatID: 1, Text: strings.Repeat("😀", 2048)}, ""},
		{"4096 after parsing", tgbot.SendMessageParams{ChatID: 1, Text: "<b>" + strings.Repeat("я", 4096) + "</b>", ParseMode: models.ParseModeHTML}, ""},
		{"too long", tgbot.SendMessageParams{ChatID: 1, Text: long}, "message is too long"},
		{"empty", tgbot.SendMessageParams{ChatID: 1, Text: ""}, "message text is empty"},
		{"only tags", tgbot.SendMessageParams{ChatID: 1, Text: "<b> </b>", ParseMode: models.ParseModeHTML}, "message text is empty"},
		{"no chat", tgbot.SendMessageParams{Text: "hi"}, "chat_id is empty"},
		{"bare <", tgbot.SendMessageParams{ChatID: 1, Text: "a < b", ParseMode: models.ParseModeHTML}, `can't parse entities: Unsupported start tag "" at byte offset 2`},
		{"bare &", tgbot.SendMessageParams{ChatID: 1, Text: "Tom & Jerry", ParseMode: models.ParseModeHTML}, "can't parse entities"},
		{"unclosed", tgbot.SendMessageParams{ChatID: 1, Text: "<b>x", ParseMode: models.ParseModeHTML}, `Can't find end tag corresponding to start tag "b"`},
		{"bad parse mode", tgbot.SendMessageParams{ChatID: 1, Text: "x", ParseMode: "html5"}, "unsupported parse_mode"},
		{"64-byte data", tgbot.SendMessageParams{ChatID: 1, Text: "x", ReplyMarkup: keyboard(strings.Repeat("a", 64))}, ""},
		{"65-byte data", tgbot.SendMessageParams{ChatID: 1, Text: "x", ReplyMarkup: keyboard(strings.Repeat("a", 65))}, "BUTTON_DATA_INVALID"},
		{"33 Cyrillic letters", tgbot.SendMessageParams{ChatID: 1, Text: "x", ReplyMarkup: keyboard(strings.Repeat("ж", 33))}, "BUTTON_DATA_INVALID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := telegramtest.New(t)
			_, err := newClient(t, srv).SendMessage(testContext(t), &tt.params)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("SendMessage: %v", err)
			case tt.want == "":
				return
			case !errors.Is(err, tgbot.ErrorBadRequest) || !strings.Contains(err.Error(), tt.want):
				t.Fatalf("SendMessage error = %v, want bad request containing %q", err, tt.want)
			}
			if got := srv.Sent(1); len(got) != 0 {
				t.Errorf("a rejected message was recorded: %+v", got)
			}
		})
	}
}

func keyboard(data string) *models.InlineKeyboardMarkup {
	return &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "b", CallbackData: data}}}}
}

func TestParamsInEveryEncoding(t *testing.T) {
	ctx := testContext(t)
	srv := telegramtest.New(t)
	form := url.Values{"chat_id": {"7"}, "text": {"form"}}.Encode()
	if code, w := post(ctx, t, srv, "sendMessage", "application/x-www-form-urlencoded", form); code != http.StatusOK || !w.OK {
		t.Errorf("form sendMessage = %d %+v", code, w)
	}
	body := `{"chat_id":7,"text":"json","reply_markup":{"inline_keyboard":[[{"text":"b","callback_data":"d"}]]}}`
	if code, w := post(ctx, t, srv, "sendMessage", "application/json", body); code != http.StatusOK || !w.OK {
		t.Errorf("JSON sendMessage = %d %+v", code, w)
	}
	sent := srv.Sent(7)
	if len(sent) != 2 || sent[0].Text != "form" || sent[1].Text != "json" || sent[1].Keyboard[0][0].CallbackData != "d" {
		t.Errorf("Sent(7) = %+v", sent)
	}
	if got := srv.RequestsFor("sendmessage")[1].Params["chat_id"]; got != "7" {
		t.Errorf("JSON chat_id recorded as %q, want \"7\"", got)
	}
}

func TestUnknownMethodIs404(t *testing.T) {
	code, w := post(testContext(t), t, telegramtest.New(t), "sendTelepathy", "application/json", `{}`)
	if code != http.StatusNotFound || w.OK || w.ErrorCode != 404 || w.Description != "Not Found" {
		t.Errorf("unknown method = %d %+v", code, w)
	}
}

func TestGetMe(t *testing.T) {
	srv := telegramtest.New(t)
	b, err := tgbot.New(token, tgbot.WithServerURL(srv.URL())) // New calls getMe
	if err != nil {
		t.Fatalf("tgbot.New: %v", err)
	}
	me, err := b.GetMe(testContext(t))
	if err != nil || me.ID != telegramtest.BotID || me.Username != "witaj_test_bot" || !me.IsBot {
		t.Errorf("GetMe = %+v, %v", me, err)
	}
}

func TestEditDeleteAndAnswer(t *testing.T) {
	ctx := testContext(t)
	srv := telegramtest.New(t)
	b := newClient(t, srv)
	msg, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: 5, Text: "one", ReplyMarkup: keyboard("k")})
	if err != nil {
		t.Fatal(err)
	}
	edit := &tgbot.EditMessageTextParams{ChatID: 5, MessageID: msg.ID, Text: "<i>two</i>", ParseMode: models.ParseModeHTML}
	if _, err := b.EditMessageText(ctx, edit); err != nil {
		t.Fatalf("EditMessageText: %v", err)
	}
	if _, err := b.EditMessageText(ctx, edit); err == nil || !strings.Contains(err.Error(), "message is not modified") {
		t.Errorf("repeated edit error = %v, want message is not modified", err)
	}
	if got := srv.Sent(5)[0]; got.Visible != "two" || !got.Edited || got.Keyboard != nil {
		t.Errorf("after edit Sent(5)[0] = %+v, want text two, edited, keyboard removed", got)
	}
	if _, err := b.DeleteMessage(ctx, &tgbot.DeleteMessageParams{ChatID: 5, MessageID: msg.ID}); err != nil {
		t.Fatalf("DeleteMessage: %v", err)
	}
	if _, err := b.DeleteMessage(ctx, &tgbot.DeleteMessageParams{ChatID: 5, MessageID: msg.ID}); !errors.Is(err, tgbot.ErrorBadRequest) {
		t.Errorf("second delete error = %v, want bad request", err)
	}
	if _, err := b.EditMessageText(ctx, &tgbot.EditMessageTextParams{ChatID: 5, MessageID: msg.ID, Text: "x"}); err == nil {
		t.Error("editing a deleted message succeeded")
	}
	if got := srv.Deleted(5); !cmp.Equal(got, []int{msg.ID}) || !srv.Sent(5)[0].Deleted {
		t.Errorf("Deleted(5) = %v, Sent = %+v", got, srv.Sent(5))
	}
	if _, err := b.AnswerCallbackQuery(ctx, &tgbot.AnswerCallbackQueryParams{CallbackQueryID: "q1", Text: "OK"}); err != nil {
		t.Fatalf("AnswerCallbackQuery: %v", err)
	}
	if diff := cmp.Diff([]telegramtest.CallbackAnswer{{QueryID: "q1", Text: "OK"}}, srv.Answers()); diff != "" {
		t.Errorf("Answers (-want +got):\n%s", diff)
	}
}
