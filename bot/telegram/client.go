package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/witaj/witaj/bot"
)

// DefaultAPIURL is Telegram's Bot API.
const DefaultAPIURL = "https://api.telegram.org"

// pollTimeout is how long one getUpdates call waits for updates.
const pollTimeout = 25 * time.Second

// Client is witaj's side of the Telegram Bot API: it formats and sends
// messages (bot.Migrants), registers commands, manages the webhook and
// fetches updates when polling.
type Client struct {
	b       *tgbot.Bot
	token   string
	apiURL  string
	http    *http.Client
	log     *slog.Logger
	metrics *bot.Metrics
	// sendTimeout bounds one sendMessage (bot.SendTimeout).
	sendTimeout time.Duration
	// formatted holds the parts of messages that are the same for every
	// user (bot.Message.Same): an FAQ answer is formatted and split once.
	formatted formatCache
	// answers are buffers for sendMessage's answers.
	answers sync.Pool
}

var _ bot.Migrants = (*Client)(nil)

// NewClient returns a client for token at apiURL (DefaultAPIURL, or a
// self-hosted Bot API server, or a test fake).
func NewClient(token, apiURL string, log *slog.Logger, metrics *bot.Metrics) (*Client, error) {
	// Keep a connection per sender worker: the default keeps two, and
	// every other send would open a new one (a TLS handshake with
	// Telegram).
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	hc := &http.Client{Timeout: pollTimeout + 10*time.Second, Transport: tr}
	b, err := tgbot.New(token,
		tgbot.WithServerURL(apiURL),
		tgbot.WithSkipGetMe(), // Start calls getMe itself, with a context
		tgbot.WithHTTPClient(pollTimeout, wholeBody{hc}),
	)
	if err != nil {
		return nil, fmt.Errorf("telegram client: %w", err)
	}
	return &Client{b: b, token: token, apiURL: strings.TrimRight(apiURL, "/"), http: hc, log: log, metrics: metrics, sendTimeout: bot.SendTimeout,
		answers: sync.Pool{New: func() any { return new(bytes.Buffer) }}}, nil
}

// wholeBody sends each request body with its length in one piece. The
// library streams its multipart form through a pipe, which net/http
// sends chunked, a write to the socket per part: several system calls
// for one sendMessage, where one will do.
type wholeBody struct{ c *http.Client }

func (w wholeBody) Do(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody || req.ContentLength > 0 {
		return w.c.Do(req)
	}
	b, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.ContentLength = int64(len(b))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return w.c.Do(req)
}

// Format implements bot.Migrants: Telegram HTML within 4096 characters
// per message.
func (c *Client) Format(m bot.Message) []bot.OutMessage {
	var parts []Part
	if m.Same == "" {
		parts = Format(m)
	} else {
		parts = c.formatted.get(m.Same, func() []Part { return Format(bot.Message{Doc: m.Doc}) })
	}
	return outMessages(parts, m.Buttons)
}

// Send implements bot.Migrants.
func (c *Client) Send(ctx context.Context, chat bot.ChatID, m bot.OutMessage) error {
	req := sendMessageRequest{
		ChatID:             int64(chat),
		Text:               m.Text,
		LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: tgbot.True()},
	}
	if !m.Plain {
		req.ParseMode = models.ParseModeHTML
	}
	if len(m.Buttons) > 0 {
		req.ReplyMarkup = keyboard(m.Buttons)
	}
	sctx, cancel := context.WithTimeout(ctx, c.sendTimeout)
	defer cancel()
	err := c.sendMessage(sctx, req)
	if err != nil && ctx.Err() == nil && sctx.Err() != nil {
		// Our own deadline, not a shutdown: Telegram may have the message.
		c.metrics.PlatformError("timeout")
		return fmt.Errorf("telegram sendMessage: %w", bot.ErrMaybeSent)
	}
	return c.classify(err)
}

// sendMessageRequest is sendMessage's JSON body. The most frequent call
// is sent as JSON rather than through the library's multipart form,
// which is built by reflection, streamed through a pipe and copied: that
// cost a sixth of the CPU of answering a question.
type sendMessageRequest struct {
	ChatID             int64                        `json:"chat_id"`
	Text               string                       `json:"text"`
	ParseMode          models.ParseMode             `json:"parse_mode,omitempty"`
	LinkPreviewOptions *models.LinkPreviewOptions   `json:"link_preview_options,omitempty"`
	ReplyMarkup        *models.InlineKeyboardMarkup `json:"reply_markup,omitempty"`
}

// sendMessage posts req and returns the API's error as the library
// would, so that classify reads both alike.
func (c *Client) sendMessage(ctx context.Context, req sendMessageRequest) error {
	// The text is HTML: left as it is rather than escaped as \u003c,
	// which made the body larger.
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(req); err != nil {
		return fmt.Errorf("encode sendMessage: %w", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.apiURL+"/bot"+c.token+"/sendMessage", &body)
	if err != nil {
		return fmt.Errorf("sendMessage request: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(hreq)
	if err != nil {
		// The URL holds the token.
		return redactToken(fmt.Errorf("sendMessage: %w", err), c.token)
	}
	defer resp.Body.Close()
	// The answer echoes the whole message: read it into a buffer that
	// sends reuse. (Not the request's: the transport may still read the
	// request body after Do returns.)
	buf := c.answers.Get().(*bytes.Buffer)
	defer c.answers.Put(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, 1<<20)); err != nil {
		return fmt.Errorf("sendMessage: read the answer: %w", err)
	}
	var r struct {
		OK          bool   `json:"ok"`
		Description string `json:"description"`
		ErrorCode   int    `json:"error_code"`
		Parameters  struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(buf.Bytes(), &r); err != nil {
		return fmt.Errorf("sendMessage: decode the answer (HTTP %d): %w", resp.StatusCode, err)
	}
	if r.OK {
		return nil
	}
	switch r.ErrorCode {
	case http.StatusForbidden:
		return fmt.Errorf("%w, %s", tgbot.ErrorForbidden, r.Description)
	case http.StatusBadRequest:
		return fmt.Errorf("%w, %s", tgbot.ErrorBadRequest, r.Description)
	case http.StatusTooManyRequests:
		return &tgbot.TooManyRequestsError{Message: fmt.Sprintf("%s, %s", tgbot.ErrorTooManyRequests, r.Description), RetryAfter: r.Parameters.RetryAfter}
	}
	return fmt.Errorf("error response from telegram for method sendMessage, %d %s", r.ErrorCode, r.Description)
}

func keyboard(rows [][]bot.Button) *models.InlineKeyboardMarkup {
	kb := &models.InlineKeyboardMarkup{InlineKeyboard: make([][]models.InlineKeyboardButton, 0, len(rows))}
	for _, row := range rows {
		r := make([]models.InlineKeyboardButton, 0, len(row))
		for _, b := range row {
			r = append(r, models.InlineKeyboardButton{Text: b.Label, CallbackData: b.Data})
		}
		kb.InlineKeyboard = append(kb.InlineKeyboard, r)
	}
	return kb
}

// classify maps the library's errors onto bot's. The library's
// IsTooManyRequestsError is a type assertion that fails on wrapped
// errors, so errors.As is used.
func (c *Client) classify(err error) error {
	if err == nil {
		return nil
	}
	var tooMany *tgbot.TooManyRequestsError
	switch {
	case errors.As(err, &tooMany):
		c.metrics.PlatformError("429")
		return fmt.Errorf("telegram: %w", &bot.RetryAfterError{After: time.Duration(tooMany.RetryAfter) * time.Second})
	case errors.Is(err, tgbot.ErrorForbidden):
		c.metrics.PlatformError("403")
		return fmt.Errorf("telegram: %v: %w", err, bot.ErrBlocked)
	case errors.Is(err, tgbot.ErrorBadRequest):
		c.metrics.PlatformError("400")
		return fmt.Errorf("telegram: %v: %w", err, bot.ErrRejected)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	c.metrics.PlatformError("other")
	return fmt.Errorf("telegram: %w", redactToken(err, c.token))
}

// AnswerCallback stops the button's progress indicator. Telegram shows it
// until answered, even when there is nothing to say; failures (a query
// older than Telegram keeps) only matter to the log.
func (c *Client) AnswerCallback(ctx context.Context, id string) {
	if _, err := c.b.AnswerCallbackQuery(ctx, &tgbot.AnswerCallbackQueryParams{CallbackQueryID: id}); err != nil {
		c.log.Debug("answer callback query", "err", err)
	}
}

// Me checks the token with getMe and returns the bot's username.
func (c *Client) Me(ctx context.Context) (string, error) {
	me, err := c.b.GetMe(ctx)
	if err != nil {
		return "", fmt.Errorf("telegram getMe: %w", redactToken(err, c.token))
	}
	return me.Username, nil
}

// IsUnauthorized reports Telegram's definite refusal of the token (401),
// as opposed to a network failure worth retrying.
func IsUnauthorized(err error) bool {
	return errors.Is(err, tgbot.ErrorUnauthorized) || errors.Is(err, tgbot.ErrorNotFound)
}

// SetCommands registers the bot's commands for the default scope and for
// each language, with descriptions from describe(lang, command). Command
// names cannot be translated; descriptions can.
func (c *Client) SetCommands(ctx context.Context, langs []string, names []string, describe func(lang, name string) string) error {
	set := func(lang string) error {
		var cmds []models.BotCommand
		for _, n := range names {
			l := lang
			if l == "" {
				l = "en"
			}
			cmds = append(cmds, models.BotCommand{Command: n, Description: describe(l, n)})
		}
		_, err := c.b.SetMyCommands(ctx, &tgbot.SetMyCommandsParams{Commands: cmds, LanguageCode: lang})
		return err
	}
	for _, l := range append([]string{""}, langs...) {
		if err := set(l); err != nil {
			return fmt.Errorf("telegram setMyCommands %q: %w", l, err)
		}
	}
	return nil
}

// SetWebhook points Telegram at url with the secret it will send back in
// X-Telegram-Bot-Api-Secret-Token.
func (c *Client) SetWebhook(ctx context.Context, url, secret string) error {
	_, err := c.b.SetWebhook(ctx, &tgbot.SetWebhookParams{URL: url, SecretToken: secret, MaxConnections: 40,
		AllowedUpdates: allowedUpdates()})
	if err != nil {
		return fmt.Errorf("telegram setWebhook: %w", err)
	}
	return nil
}

// DeleteWebhook switches Telegram to getUpdates (polling). Pending
// updates are kept.
func (c *Client) DeleteWebhook(ctx context.Context) error {
	if _, err := c.b.DeleteWebhook(ctx, &tgbot.DeleteWebhookParams{}); err != nil {
		return fmt.Errorf("telegram deleteWebhook: %w", err)
	}
	return nil
}

func allowedUpdates() []string {
	return []string{"message", "edited_message", "callback_query", "my_chat_member"}
}

// pollError is a getUpdates failure with what Telegram said about it.
type pollError struct {
	Code       int
	Desc       string
	RetryAfter time.Duration
}

func (e *pollError) Error() string { return fmt.Sprintf("telegram getUpdates: %d %s", e.Code, e.Desc) }

// GetUpdates fetches updates from offset on, waiting up to timeout for
// one. The library's own polling loop confirms updates before they are
// handled (it polls again at once with a higher offset), so witaj polls
// itself and confirms an update only after storing it: by passing a
// higher offset on the next call.
func (c *Client) GetUpdates(ctx context.Context, offset int64, timeout time.Duration) ([]*models.Update, error) {
	body, _ := json.Marshal(map[string]any{
		"offset": offset, "timeout": int(timeout.Seconds()), "allowed_updates": allowedUpdates(),
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.apiURL+"/bot"+c.token+"/getUpdates", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("telegram getUpdates: %w", redactToken(err, c.token))
	}
	defer resp.Body.Close()
	var r struct {
		OK          bool             `json:"ok"`
		Result      []*models.Update `json:"result"`
		ErrorCode   int              `json:"error_code"`
		Description string           `json:"description"`
		Params      struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("telegram getUpdates: %w", err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("telegram getUpdates: HTTP %d: %w", resp.StatusCode, err)
	}
	if !r.OK {
		c.metrics.PlatformError(strconv.Itoa(r.ErrorCode))
		return nil, &pollError{Code: r.ErrorCode, Desc: r.Description, RetryAfter: time.Duration(r.Params.RetryAfter) * time.Second}
	}
	return r.Result, nil
}

// redactToken keeps the bot token out of error messages (net/http puts
// the URL, which contains it, into its errors).
func redactToken(err error, token string) error {
	if token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return redacted{msg: strings.ReplaceAll(err.Error(), token, "<token>"), err: err}
}

// redacted is an error whose text hides the token; errors.Is and As still
// see the original.
type redacted struct {
	msg string
	err error
}

func (r redacted) Error() string { return r.msg }
func (r redacted) Unwrap() error { return r.err }
