package slack

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/flows"
)

// Handler receives updates for migrants' chats: bot.Service.
type Handler interface {
	Handle(ctx context.Context, u bot.Update) error
}

// Reader is what Events reads from Slack (slack-go's client): a
// channel's members, and a thread's replies for reconciliation.
type Reader interface {
	GetUsersInConversationContext(ctx context.Context, params *slack.GetUsersInConversationParameters) ([]string, string, error)
	GetConversationRepliesContext(ctx context.Context, params *slack.GetConversationRepliesParameters) ([]slack.Message, bool, string, error)
}

// Events turns what consultants do in Slack — replies in case threads,
// Claim, Resolve, "send FAQ answer" — into updates of the migrants'
// chats. It serves the Events API and interactivity over HTTP and the
// same events from Socket Mode. Only consultants act: users listed in the
// configuration or members of the case's channel; bots (witaj included),
// edits and deletions are never relayed.
type Events struct {
	desk    *Desk
	handler Handler
	cases   bot.CaseStore
	members Reader
	secret  string
	botUser string
	log     *slog.Logger

	mu      sync.Mutex
	roster  map[string][]string // channel -> members
	rosterT map[string]time.Time
	// bg tracks Socket Mode work done after the envelope was
	// acknowledged, so that shutdown can wait for it.
	bg sync.WaitGroup

	// SilentFor is how long a Socket Mode connection may go without a
	// PING from Slack before it is given up and a new one opened (0:
	// slack-go's 30 s). slack-go never PINGs from our side, so shorter
	// than Slack's own PING interval would drop healthy connections.
	SilentFor time.Duration
	// Restart is the wait before reconnecting after Socket Mode stopped
	// on an error slack-go does not retry (invalid_auth, a 404 …).
	Restart time.Duration
}

// Wait waits for events and interactions still being handled.
func (e *Events) Wait() { e.bg.Wait() }

// NewEvents returns the consultants' event handling. botUser is witaj's
// own Slack user id (from auth.test), whose messages are never relayed.
func NewEvents(desk *Desk, handler Handler, cases bot.CaseStore, members Reader, signingSecret, botUser string, log *slog.Logger) *Events {
	return &Events{desk: desk, handler: handler, cases: cases, members: members, secret: signingSecret, botUser: botUser, log: log,
		roster: map[string][]string{}, rosterT: map[string]time.Time{}}
}

// maxSlackBody bounds a request body; Slack's are far smaller.
const maxSlackBody = 1 << 20

// verified reads the body and checks Slack's v0 signature (HMAC-SHA256 of
// "v0:timestamp:body" with the signing secret, the timestamp within five
// minutes). It answers 401 itself when the check fails.
func (e *Events) verified(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSlackBody))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return nil, false
	}
	sv, err := slack.NewSecretsVerifier(r.Header, e.secret)
	if err == nil {
		_, _ = sv.Write(body)
		err = sv.Ensure()
	}
	if err != nil {
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return nil, false
	}
	return body, true
}

// ServeEvents is the Events API endpoint (/slack/events).
func (e *Events) ServeEvents(w http.ResponseWriter, r *http.Request) {
	body, ok := e.verified(w, r)
	if !ok {
		return
	}
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		http.Error(w, "cannot parse event", http.StatusBadRequest)
		return
	}
	if ev.Type == slackevents.URLVerification {
		var ch slackevents.ChallengeResponse
		_ = json.Unmarshal(body, &ch)
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, ch.Challenge)
		return
	}
	if err := e.OnEvent(r.Context(), ev); err != nil {
		e.log.Error("slack event not handled; Slack will retry", "err", err)
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// ServeInteractions is the interactivity endpoint (/slack/interactions).
// The payload is read from the signed POST body only (never the URL query,
// which the signature does not cover).
func (e *Events) ServeInteractions(w http.ResponseWriter, r *http.Request) {
	body, ok := e.verified(w, r)
	if !ok {
		return
	}
	form, err := url.ParseQuery(string(body))
	var cb slack.InteractionCallback
	if err == nil {
		err = json.Unmarshal([]byte(form.Get("payload")), &cb)
	}
	if err != nil {
		http.Error(w, "cannot parse payload", http.StatusBadRequest)
		return
	}
	if err := e.OnInteraction(r.Context(), cb); err != nil {
		e.log.Error("slack interaction not handled", "err", err)
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// OnEvent handles one Events API callback (from HTTP or Socket Mode).
// Slack redelivers events; the update id derived from the message (see
// relay) makes the relay happen once, even when two deliveries race.
func (e *Events) OnEvent(ctx context.Context, ev slackevents.EventsAPIEvent) error {
	if ev.Type != slackevents.CallbackEvent {
		return nil
	}
	msg, ok := ev.InnerEvent.Data.(*slackevents.MessageEvent)
	if !ok || !e.relayable(msg) {
		return nil
	}
	chat, err := e.cases.ChatOfThread(ctx, msg.Channel, msg.ThreadTimeStamp)
	if errors.Is(err, bot.ErrNoCase) {
		return nil // a thread that is not a case
	}
	if err != nil {
		return err
	}
	if !e.isConsultant(ctx, msg.User, msg.Channel) {
		e.log.Info("reply in a case thread by a non-consultant ignored")
		return nil
	}
	return e.relay(ctx, chat, msg.Channel, msg.TimeStamp, msg.Text)
}

// relay passes a consultant's message to the migrant. The update id comes
// from the message's channel and ts, so a message arriving both as an
// event (or several redeliveries) and through reconciliation reaches the
// migrant once.
func (e *Events) relay(ctx context.Context, chat bot.ChatID, channel, ts, text string) error {
	return e.handler.Handle(ctx, bot.Update{ID: updateID("msg:" + channel + ":" + ts), Chat: chat, HasEvent: true,
		Event: flows.Event{Kind: flows.ConsultantMessage, Text: ToPlain(text)}})
}

// relayable: a person's new message in a thread. Bots (witaj itself
// included), edits, deletions and channel chatter are not relayed.
func (e *Events) relayable(m *slackevents.MessageEvent) bool {
	return m.SubType == "" && m.BotID == "" && m.User != "" && m.User != e.botUser &&
		m.ThreadTimeStamp != "" && m.ThreadTimeStamp != m.TimeStamp && m.Text != ""
}

// OnInteraction handles a click on a case's controls. Both of two
// simultaneous Claim clicks are acknowledged; one wins.
func (e *Events) OnInteraction(ctx context.Context, cb slack.InteractionCallback) error {
	if cb.Type != slack.InteractionTypeBlockActions || len(cb.ActionCallback.BlockActions) == 0 {
		return nil
	}
	channel, ts := cb.Container.ChannelID, cb.Container.MessageTs
	if channel == "" {
		channel = cb.Channel.ID
	}
	chat, err := e.cases.ChatOfThread(ctx, channel, ts)
	if errors.Is(err, bot.ErrNoCase) {
		return nil
	}
	if err != nil {
		return err
	}
	user := cb.User.ID
	if !e.isConsultant(ctx, user, channel) {
		e.log.Info("case control used by a non-consultant ignored")
		return nil
	}
	c, err := e.cases.CaseOf(ctx, chat)
	if err != nil {
		return err
	}
	for _, a := range cb.ActionCallback.BlockActions {
		if err := e.act(ctx, chat, c, user, a); err != nil {
			return err
		}
	}
	return nil
}

func (e *Events) act(ctx context.Context, chat bot.ChatID, c bot.Case, user string, a *slack.BlockAction) error {
	switch a.ActionID {
	case actionClaim:
		won, err := e.desk.Claim(ctx, chat, user)
		if err != nil || !won {
			return err
		}
		return e.handler.Handle(ctx, bot.Update{ID: updateID("claim:" + c.ID), Chat: chat, HasEvent: true, Event: flows.Event{Kind: flows.CaseClaimed}})
	case actionResolve:
		closed, err := e.desk.Resolve(ctx, chat, user)
		if err != nil || !closed {
			return err
		}
		return e.handler.Handle(ctx, bot.Update{ID: updateID("resolve:" + c.ID), Chat: chat, HasEvent: true, Event: flows.Event{Kind: flows.CaseResolved}})
	case actionFAQ:
		entry := a.SelectedOption.Value
		if entry == "" {
			return nil
		}
		err := e.handler.Handle(ctx, bot.Update{ID: updateID("faq:" + c.ID + ":" + a.ActionTs + ":" + entry), Chat: chat, HasEvent: true,
			Event: flows.Event{Kind: flows.ConsultantAnswer, EntryID: entry}})
		if err != nil {
			return err
		}
		return e.desk.SentFAQ(ctx, chat, user, entry)
	}
	return nil
}

// rosterTTL is how long a channel's member list is trusted.
const rosterTTL = 2 * time.Minute

// isConsultant: listed in the configuration, or a member of the channel.
func (e *Events) isConsultant(ctx context.Context, user, channel string) bool {
	if user == "" || user == e.botUser {
		return false
	}
	if slices.Contains(e.desk.cfg.Consultants, user) {
		return true
	}
	e.mu.Lock()
	members, fresh := e.roster[channel], time.Since(e.rosterT[channel]) < rosterTTL
	e.mu.Unlock()
	if !fresh && e.members != nil {
		var all []string
		cursor := ""
		// Slack must be acknowledged within 3 seconds: a slow member list
		// falls back to the last known one.
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		for {
			page, next, err := e.members.GetUsersInConversationContext(ctx, &slack.GetUsersInConversationParameters{ChannelID: channel, Cursor: cursor, Limit: 500})
			if err != nil {
				e.log.Warn("list consultants' channel", "err", err)
				return slices.Contains(members, user) // the last known list
			}
			all = append(all, page...)
			if cursor = next; cursor == "" {
				break
			}
		}
		e.mu.Lock()
		e.roster[channel], e.rosterT[channel] = all, time.Now()
		e.mu.Unlock()
		members = all
	}
	return slices.Contains(members, user)
}

// updateID derives an update id from a Slack id: the migrant's chat then
// handles it once, like a Telegram update.
func updateID(key string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	return int64(h.Sum64() >> 1)
}
