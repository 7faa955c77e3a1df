package telegramtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/witaj/witaj/bot/telegram/telegramtest"
)

var ala = telegramtest.User(42, "Ala", "pl")

// poll is one raw getUpdates call, as our own poller makes it.
func poll(ctx context.Context, t *testing.T, srv *telegramtest.Server, offset int64, timeout int) wireResponse {
	t.Helper()
	_, w := post(ctx, t, srv, "getUpdates", "application/json", fmt.Sprintf(`{"offset":%d,"timeout":%d}`, offset, timeout))
	return w
}

func updateIDs(t *testing.T, w wireResponse) []int64 {
	t.Helper()
	var ups []models.Update
	if err := json.Unmarshal(w.Result, &ups); err != nil {
		t.Fatalf("decode updates %s: %v", w.Result, err)
	}
	ids := []int64{}
	for _, u := range ups {
		ids = append(ids, u.ID)
	}
	return ids
}

func TestLibraryPollingReceivesAndConfirms(t *testing.T) {
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	srv := telegramtest.New(t)
	got := make(chan *models.Update, 1)
	b := newClient(t, srv, tgbot.WithNotAsyncHandlers(), tgbot.WithDefaultHandler(
		func(_ context.Context, _ *tgbot.Bot, u *models.Update) { got <- u }))
	done := make(chan struct{})
	go func() { defer close(done); b.Start(ctx) }()
	defer func() { cancel(); <-done }()

	// Queue only once the client is long-polling, so the update has to wake it.
	if err := srv.WaitFor(ctx, func(s *telegramtest.Server) bool { return len(s.Offsets()) > 0 }); err != nil {
		t.Fatal(err)
	}
	id := srv.QueueUpdate(telegramtest.Text(ala, "Dzień dobry"))
	select {
	case u := <-got:
		if u.ID != id || u.Message == nil || u.Message.Text != "Dzień dobry" || u.Message.Chat.ID != 42 || u.Message.From.LanguageCode != "pl" {
			t.Errorf("handler got %+v", u)
		}
	case <-ctx.Done():
		t.Fatal("no update reached the handler")
	}
	err := srv.WaitFor(ctx, func(s *telegramtest.Server) bool {
		return slices.Contains(s.Offsets(), id+1) && s.Pending() == 0
	})
	if err != nil {
		t.Fatalf("update %d never confirmed; offsets %v: %v", id, srv.Offsets(), err)
	}
}

func TestLongPollWakesOnQueuedUpdate(t *testing.T) {
	ctx := testContext(t)
	srv := telegramtest.New(t)
	res := make(chan wireResponse, 1)
	go func() { res <- poll(ctx, t, srv, 0, 30) }()
	if err := srv.WaitFor(ctx, func(s *telegramtest.Server) bool { return len(s.Offsets()) == 1 }); err != nil {
		t.Fatal(err)
	}
	id := srv.QueueUpdate(telegramtest.Text(ala, "hej"))
	if got := updateIDs(t, <-res); !slices.Equal(got, []int64{id}) {
		t.Errorf("long poll returned %v, want [%d]", got, id)
	}
}

func TestOffsetLimitAndIDs(t *testing.T) {
	ctx := testContext(t)
	srv := telegramtest.New(t)
	srv.SetNextUpdateID(500)
	for range 3 {
		srv.QueueUpdate(telegramtest.Text(ala, "x"))
	}
	raw := srv.QueueRawUpdate(`{"message":{"message_id":9,"date":1,"chat":{"id":42,"type":"private"},"text":"raw"}}`)
	restarted := srv.QueueUpdate(models.Update{ID: 7, Message: &models.Message{Text: "after restart"}})
	steps := []struct {
		offset int64
		want   []int64
	}{
		{0, []int64{500, 501, 502, raw, restarted}},
		{501, []int64{501, 502, raw}}, // 7 < 501: confirmed along with 500
		{-1, []int64{raw}},
		{raw + 1, []int64{}},
	}
	if raw != 503 || restarted != 7 {
		t.Fatalf("ids: raw %d, restarted %d; want 503, 7", raw, restarted)
	}
	for _, s := range steps {
		if got := updateIDs(t, poll(ctx, t, srv, s.offset, 0)); !slices.Equal(got, s.want) {
			t.Errorf("offset %d: got %v, want %v", s.offset, got, s.want)
		}
	}
	if got, want := srv.Offsets(), []int64{0, 501, -1, 504}; !slices.Equal(got, want) {
		t.Errorf("Offsets = %v, want %v", got, want)
	}
	srv.QueueUpdate(telegramtest.Text(ala, "a"))
	srv.QueueUpdate(telegramtest.Text(ala, "b"))
	_, w := post(ctx, t, srv, "getUpdates", "application/json", `{"limit":1}`)
	if got := updateIDs(t, w); len(got) != 1 {
		t.Errorf("limit 1 returned %v", got)
	}
}

func TestLongPollEnds(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		srv := telegramtest.New(t)
		if got := updateIDs(t, poll(testContext(t), t, srv, 0, 1)); len(got) != 0 {
			t.Errorf("got %v, want none", got)
		}
	})
	t.Run("newer poll", func(t *testing.T) {
		ctx := testContext(t)
		srv := telegramtest.New(t)
		first := make(chan wireResponse, 1)
		go func() { first <- poll(ctx, t, srv, 0, 30) }()
		if err := srv.WaitFor(ctx, func(s *telegramtest.Server) bool { return len(s.Offsets()) == 1 }); err != nil {
			t.Fatal(err)
		}
		poll(ctx, t, srv, 0, 0)
		if w := <-first; w.ErrorCode != http.StatusConflict {
			t.Errorf("older poll = %+v, want 409", w)
		}
	})
	t.Run("server close", func(t *testing.T) {
		ctx := testContext(t)
		res := make(chan wireResponse, 1)
		t.Run("inner", func(it *testing.T) {
			srv := telegramtest.New(it) // closed when this subtest ends
			go func() { res <- poll(ctx, t, srv, 0, 60) }()
			if err := srv.WaitFor(ctx, func(s *telegramtest.Server) bool { return len(s.Offsets()) == 1 }); err != nil {
				it.Fatal(err)
			}
		})
		if w := <-res; !w.OK {
			t.Errorf("poll cut by close = %+v, want an empty ok answer", w)
		}
	})
}

func TestPostWebhook(t *testing.T) {
	ctx := testContext(t)
	srv := telegramtest.New(t)
	type delivery struct {
		secret string
		update models.Update
	}
	got := make(chan delivery, 2)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var d delivery
		d.secret = r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
		if err := json.NewDecoder(r.Body).Decode(&d.update); err != nil || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad update", http.StatusBadRequest)
			return
		}
		got <- d
	}))
	t.Cleanup(hook.Close)

	for _, secret := range []string{"s3cret_-X", ""} {
		resp, err := srv.PostWebhook(ctx, hook.URL, secret, telegramtest.Callback(ala, "cb1", "f:1", 77))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("webhook answered %d", resp.StatusCode)
		}
		d := <-got
		cq := d.update.CallbackQuery
		if d.secret != secret || d.update.ID == 0 || cq == nil || cq.Data != "f:1" || cq.Message.Message == nil || cq.Message.Message.ID != 77 {
			t.Errorf("secret %q: webhook got %q %+v", secret, d.secret, d.update)
		}
	}
}

func TestWaitForEnds(t *testing.T) {
	srv := telegramtest.New(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := srv.WaitFor(ctx, func(*telegramtest.Server) bool { return false })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("WaitFor on a cancelled context = %v", err)
	}
	b := newClient(t, srv)
	go func() {
		_, _ = b.SendMessage(t.Context(), &tgbot.SendMessageParams{ChatID: 3, Text: "later"})
	}()
	sent, err := srv.WaitSent(testContext(t), 3, 1)
	if err != nil || len(sent) != 1 || sent[0].Text != "later" {
		t.Errorf("WaitSent = %+v, %v", sent, err)
	}
}
