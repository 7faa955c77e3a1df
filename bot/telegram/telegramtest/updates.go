package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/go-telegram/bot/models"
)

// queuedUpdate is an update waiting for getUpdates, already in wire form.
type queuedUpdate struct {
	id  int64
	raw json.RawMessage
}

// QueueUpdate queues u for getUpdates and returns its update_id. It fills
// in what Telegram always sets, when zero: the update_id (the next id, see
// SetNextUpdateID) and the message_id and date of the messages in u. The
// caller's u is not changed. Like t.Fatal, it must be called from the
// goroutine running the test.
func (s *Server) QueueUpdate(u models.Update) int64 {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stampLocked(&u)
	raw, err := json.Marshal(&u)
	if err != nil {
		s.tb.Fatalf("telegramtest: marshal update %d: %v", u.ID, err)
	}
	s.queue = append(s.queue, queuedUpdate{id: u.ID, raw: raw})
	s.notifyLocked()
	return u.ID
}

// QueueRawUpdate queues an update given as a JSON object, for shapes the
// models package cannot express, and returns its update_id (assigned when
// missing or zero). Like t.Fatal, it must be called from the goroutine
// running the test.
func (s *Server) QueueRawUpdate(raw string) int64 {
	s.tb.Helper()
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &fields); err != nil {
		s.tb.Fatalf("telegramtest: raw update is not a JSON object: %v", err)
	}
	var id int64
	if v, found := fields["update_id"]; found {
		if err := json.Unmarshal(v, &id); err != nil {
			s.tb.Fatalf("telegramtest: raw update has a bad update_id: %v", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == 0 {
		id = s.nextUpdateID
	}
	s.nextUpdateID = id + 1
	fields["update_id"] = json.RawMessage(fmt.Sprint(id))
	b, err := json.Marshal(fields)
	if err != nil {
		s.tb.Fatalf("telegramtest: marshal raw update: %v", err)
	}
	s.queue = append(s.queue, queuedUpdate{id: id, raw: b})
	s.notifyLocked()
	return id
}

// SetNextUpdateID sets the update_id given to the next update queued or
// stamped without one. Telegram restarts ids at a random, possibly lower,
// value after a week without updates; this lets a test do the same.
func (s *Server) SetNextUpdateID(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextUpdateID = id
}

// Stamp returns u with its update_id, message ids and dates filled in as
// QueueUpdate would, so that the same update can be delivered twice.
func (s *Server) Stamp(u models.Update) models.Update {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stampLocked(&u)
	return u
}

// Pending returns the number of queued updates not yet confirmed.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// Offsets returns the offset of every getUpdates call in order, 0 where
// none was given. A call with offset N confirms every update below N.
func (s *Server) Offsets() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.offsets)
}

// stampLocked fills in ids and dates; it copies the messages it changes so
// that the caller's values stay untouched.
func (s *Server) stampLocked(u *models.Update) {
	if u.ID == 0 {
		u.ID = s.nextUpdateID
	}
	// A redelivered update keeps its id and must not move the counter
	// back: later updates would reuse ids and be taken for duplicates.
	s.nextUpdateID = max(s.nextUpdateID, u.ID+1)
	now := int(s.now().Unix())
	for _, m := range []**models.Message{&u.Message, &u.EditedMessage, &u.ChannelPost, &u.EditedChannelPost} {
		if *m == nil {
			continue
		}
		c := **m
		if c.ID == 0 {
			s.nextMessageID++
			c.ID = s.nextMessageID
		}
		if c.Date == 0 {
			c.Date = now
		}
		*m = &c
	}
	for _, m := range []*models.Message{u.EditedMessage, u.EditedChannelPost} {
		if m != nil && m.EditDate == 0 {
			m.EditDate = now
		}
	}
	if cq := u.CallbackQuery; cq != nil && cq.Message.Message != nil && cq.Message.Message.Date == 0 {
		c, m := *cq, *cq.Message.Message
		m.Date = now // a zero date would make the message "inaccessible"
		c.Message.Message = &m
		u.CallbackQuery = &c
	}
	if cm := u.MyChatMember; cm != nil && cm.Date == 0 {
		c := *cm
		c.Date = now
		u.MyChatMember = &c
	}
}

// getUpdates answers with the queued updates from offset on. offset
// confirms (drops) every update below it, a negative offset keeps only the
// last -offset updates, and timeout makes the call wait until an update is
// queued, the timeout passes, the request ends or the server closes. A new
// call ends an older one still waiting with 409, as Telegram does.
func (s *Server) getUpdates(ctx context.Context, p params) reply {
	offset, limit, timeout := p.int("offset"), int(p.int("limit")), p.int("timeout")
	if limit < 1 || limit > 100 {
		limit = 100
	}
	s.mu.Lock()
	if s.webhook.URL != "" {
		s.mu.Unlock()
		return fail(http.StatusConflict, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
	}
	s.offsets = append(s.offsets, offset)
	s.pollGen++
	gen := s.pollGen
	s.confirmLocked(offset)
	s.notifyLocked()
	s.mu.Unlock()

	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(time.Duration(timeout) * time.Second)
		defer t.Stop()
		expired = t.C
	}
	for {
		s.mu.Lock()
		if s.pollGen != gen {
			s.mu.Unlock()
			return Conflict409().reply()
		}
		updates := make([]json.RawMessage, 0, min(limit, len(s.queue)))
		for _, q := range s.queue[:min(limit, len(s.queue))] {
			updates = append(updates, q.raw)
		}
		changed := s.changed
		s.mu.Unlock()
		if len(updates) > 0 || expired == nil {
			return ok(updates)
		}
		select {
		case <-changed:
		case <-expired:
			return ok(updates)
		case <-ctx.Done():
			return ok(updates)
		case <-s.done:
			return ok(updates)
		}
	}
}

// confirmLocked drops the updates getUpdates' offset confirms.
func (s *Server) confirmLocked(offset int64) {
	switch {
	case offset > 0:
		s.queue = slices.DeleteFunc(s.queue, func(q queuedUpdate) bool { return q.id < offset })
	case offset < 0 && int64(len(s.queue)) > -offset:
		s.queue = slices.Clone(s.queue[int64(len(s.queue))+offset:])
	}
}

// PostWebhook delivers u to a webhook at url the way Telegram does: a POST
// with a JSON body and, when secret is not empty, the header
// X-Telegram-Bot-Api-Secret-Token. Redirects are not followed. u is stamped
// like QueueUpdate does. The caller must close the response body.
func (s *Server) PostWebhook(ctx context.Context, url, secret string, u models.Update) (*http.Response, error) {
	u = s.Stamp(u)
	body, err := json.Marshal(&u)
	if err != nil {
		return nil, fmt.Errorf("telegramtest: marshal update %d: %w", u.ID, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("telegramtest: webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := s.poster.Do(req)
	if err != nil {
		return nil, fmt.Errorf("telegramtest: post update %d to webhook: %w", u.ID, err)
	}
	return resp, nil
}
