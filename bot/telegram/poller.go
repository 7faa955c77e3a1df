package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/witaj/witaj/bot"
)

// Leader is the lock that lets one replica poll: Telegram answers a second
// poller with 409 Conflict.
type Leader interface {
	Lead(ctx context.Context, name, token string, ttl time.Duration) (bool, error)
}

// Poller fetches updates with getUpdates when no webhook is set. Only the
// replica holding the leader lock polls. An update is confirmed to
// Telegram (by polling with a higher offset) only after it is stored;
// updates of one chat are handled in order, chats in parallel.
type Poller struct {
	client  *Client
	handler Handler
	leader  Leader
	token   string
	log     *slog.Logger
	// Retry is how long to wait before trying again after an error or
	// while another replica leads.
	Retry time.Duration

	once      sync.Once
	redisDown *bot.Outage // the leader lock's store
	tgDown    *bot.Outage // getUpdates
	storeDown *bot.Outage // storing updates
}

func (p *Poller) outages() {
	p.once.Do(func() {
		p.redisDown = p.client.metrics.Follow(bot.NewOutage("Redis (poller)", p.log), "redis")
		p.tgDown = p.client.metrics.Follow(bot.NewOutage("Telegram (getUpdates)", p.log), "telegram")
		p.storeDown = p.client.metrics.Follow(bot.NewOutage("Redis (storing updates)", p.log), "redis")
	})
}

func (p *Poller) redis() *bot.Outage { p.outages(); return p.redisDown }

func (p *Poller) telegram() *bot.Outage { p.outages(); return p.tgDown }

// leaderTTL outlives one long poll with margin; the leader renews it
// before every poll.
const leaderTTL = pollTimeout + 15*time.Second

// NewPoller returns a poller; token identifies this replica for the lock.
func NewPoller(client *Client, handler Handler, leader Leader, token string, log *slog.Logger) *Poller {
	return &Poller{client: client, handler: handler, leader: leader, token: token, log: log, Retry: 2 * time.Second}
}

// Run polls until ctx ends.
func (p *Poller) Run(ctx context.Context) {
	var offset int64
	for ctx.Err() == nil {
		lead, err := p.leader.Lead(ctx, "telegram-poller", p.token, leaderTTL)
		if err != nil {
			p.wait(ctx, p.redis().Fail(err))
			continue
		}
		p.redis().OK()
		if !lead {
			p.wait(ctx, p.Retry)
			continue
		}
		updates, err := p.client.GetUpdates(ctx, offset, pollTimeout)
		if err != nil {
			p.pollFailed(ctx, err)
			continue
		}
		p.telegram().OK()
		if next, ok := p.handleAll(ctx, updates); ok {
			offset = max(offset, next)
		} else {
			p.wait(ctx, p.Retry) // not all stored: poll the same updates again
		}
	}
}

func (p *Poller) pollFailed(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	var pe *pollError
	p.client.metrics.PollFailed()
	wait := max(p.Retry, p.telegram().Fail(err))
	if errors.As(err, &pe) {
		switch {
		case pe.RetryAfter > 0:
			wait = pe.RetryAfter
		case pe.Code == 409:
			p.log.Warn("getUpdates conflict: a webhook is set or another process polls", "err", err)
		}
	}
	p.wait(ctx, wait)
}

// handleAll stores a batch: chats in parallel, each chat's updates in
// order. It returns the offset that confirms the batch, and whether every
// update was stored.
func (p *Poller) handleAll(ctx context.Context, updates []*models.Update) (int64, bool) {
	if len(updates) == 0 {
		return 0, true
	}
	var next int64
	byChat := map[bot.ChatID][]bot.Update{}
	var order []bot.ChatID
	for _, upd := range updates {
		next = max(next, upd.ID+1)
		u, ok := Convert(upd)
		if !ok {
			continue
		}
		if _, seen := byChat[u.Chat]; !seen {
			order = append(order, u.Chat)
		}
		byChat[u.Chat] = append(byChat[u.Chat], u)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		allOK = true
		limit = make(chan struct{}, 32)
	)
	for _, chat := range order {
		limit <- struct{}{}
		wg.Go(func() {
			defer func() { <-limit }()
			for _, u := range byChat[chat] {
				if u.CallbackID != "" {
					go p.client.AnswerCallback(context.WithoutCancel(ctx), u.CallbackID)
				}
				if err := p.handler.Handle(context.WithoutCancel(ctx), u); err != nil {
					p.notStored(u, err)
					mu.Lock()
					allOK = false
					mu.Unlock()
					return // later updates of this chat must wait for this one
				}
			}
		})
	}
	wg.Wait()
	if allOK {
		p.stored().OK()
	}
	return next, allOK
}

func (p *Poller) stored() *bot.Outage { p.outages(); return p.storeDown }

// notStored notes an update that will be polled again: a chat busy on
// another worker is routine; anything else is logged once per outage,
// not once per update.
func (p *Poller) notStored(u bot.Update, err error) {
	if errors.Is(err, bot.ErrBusy) {
		p.log.Debug("chat busy; will poll the update again", "update", u.ID)
		return
	}
	p.stored().Fail(fmt.Errorf("update %d not stored; will poll it again: %w", u.ID, err))
}

func (p *Poller) wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
