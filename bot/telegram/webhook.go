package telegram

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/witaj/witaj/bot"
)

// Handler is what receives converted updates: bot.Service.
type Handler interface {
	Handle(ctx context.Context, u bot.Update) error
}

// maxUpdateBytes bounds a webhook body; Telegram's updates are far smaller.
const maxUpdateBytes = 1 << 20

// handleTimeout bounds handling one update. It is not the request's
// context: if Telegram gives up on the request, finishing the commit is
// still better than leaving it half done.
const handleTimeout = 30 * time.Second

// Webhook receives Telegram's webhook requests. Unlike the library's
// handler, which answers 200 to everything (even a wrong secret), it
// answers 401 to a missing or wrong secret and processes nothing, 200
// only once the update is stored, and 5xx when it could not be stored,
// so that Telegram delivers it again.
type Webhook struct {
	secret  []byte
	handler Handler
	client  *Client
	log     *slog.Logger
	metrics *bot.Metrics
	// bg tracks work that outlives a request (answering button presses),
	// so that shutdown can wait for it.
	bg sync.WaitGroup
	// stored follows the store through failed updates: logged once per
	// outage, not once per update.
	stored *bot.Outage
}

// callbackTimeout bounds answering a button press. The answer only stops
// the button's spinner, so it does not hold up the update.
const callbackTimeout = 10 * time.Second

// Wait waits for work started by requests to end: call it after the HTTP
// server has shut down.
func (wh *Webhook) Wait() { wh.bg.Wait() }

// NewWebhook returns the webhook endpoint. client answers callback
// queries; it may be nil in tests that do not need it.
func NewWebhook(secret string, handler Handler, client *Client, log *slog.Logger, metrics *bot.Metrics) *Webhook {
	return &Webhook{secret: []byte(secret), handler: handler, client: client, log: log, metrics: metrics,
		stored: metrics.Follow(bot.NewOutage("Redis (storing updates)", log), "redis")}
}

func (wh *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	got := []byte(r.Header.Get("X-Telegram-Bot-Api-Secret-Token"))
	if len(wh.secret) == 0 || subtle.ConstantTimeCompare(got, wh.secret) != 1 {
		wh.metrics.Denied()
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxUpdateBytes+1))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	var upd models.Update
	if len(body) > maxUpdateBytes || json.Unmarshal(body, &upd) != nil {
		// Retrying cannot make this body readable: acknowledge it so that
		// Telegram stops, and say so in the log.
		wh.log.Warn("undecodable webhook update dropped", "bytes", len(body))
		w.WriteHeader(http.StatusOK)
		return
	}
	w.WriteHeader(wh.deliver(&upd))
}

// deliver converts and handles one update and returns the HTTP status to
// answer with.
func (wh *Webhook) deliver(upd *models.Update) int {
	u, ok := Convert(upd)
	if !ok {
		return http.StatusOK
	}
	ctx, cancel := context.WithTimeout(context.Background(), handleTimeout)
	defer cancel()
	if u.CallbackID != "" && wh.client != nil {
		// Its own context: the request's ends when the update is stored,
		// usually before Telegram has answered the callback.
		wh.bg.Go(func() {
			cctx, cancel := context.WithTimeout(context.Background(), callbackTimeout)
			defer cancel()
			wh.client.AnswerCallback(cctx, u.CallbackID)
		})
	}
	err := wh.handler.Handle(ctx, u)
	switch {
	case err == nil:
		wh.stored.OK()
		return http.StatusOK
	case errors.Is(err, bot.ErrBusy):
		return http.StatusServiceUnavailable
	}
	wh.stored.Fail(fmt.Errorf("update %d not stored; Telegram will deliver it again: %w", upd.ID, err))
	return http.StatusInternalServerError
}
