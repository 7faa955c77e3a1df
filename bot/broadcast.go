package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
)

// Broadcasts: one message to many chats (a rule-change alert to a topic's
// subscribers, an announcement to those who opted in to news). A
// broadcast snapshots its audience when it is created, then the
// broadcaster moves its recipients into their chats' outboxes at a share
// of the global send rate; the sender does the rest. Each step is safe to
// repeat, so a crash, a restart or a second replica sends nobody the same
// broadcast twice.

// Sub is one entry of the subscription index: the chats following Key
// and reading Lang.
type Sub struct {
	Key  string
	Lang knowledge.Lang
}

// subsOf returns the index entries of a session: what it follows, in
// its language.
func subsOf(s flows.Session) []Sub {
	if s.Lang == "" {
		return nil
	}
	out := make([]Sub, 0, len(s.Subs))
	for _, k := range s.Subs {
		out = append(out, Sub{Key: k, Lang: s.Lang})
	}
	return out
}

// subsDiff returns the index entries to add and to remove when a chat's
// session goes from old to new (nothing is followed after /forget).
func subsDiff(old, new flows.Session, forgotten bool) (add, remove []Sub) {
	before, after := subsOf(old), subsOf(new)
	if forgotten {
		after = nil
	}
	for _, s := range after {
		if !slices.Contains(before, s) {
			add = append(add, s)
		}
	}
	for _, s := range before {
		if !slices.Contains(after, s) {
			remove = append(remove, s)
		}
	}
	return add, remove
}

// Broadcast is one message for many chats.
type Broadcast struct {
	// ID names the broadcast; creating it again does nothing. Alerts are
	// "alert:<topic>@<version>:<change id>", announcements "news:<id>".
	ID string
	// Keys are the subscriptions that make a chat a recipient: any one
	// of them.
	Keys []string
	// Messages are the rendered messages per language; a chat reading
	// another language is not a recipient.
	Messages map[knowledge.Lang][]OutMessage
	// NotBefore is when sending may start.
	NotBefore time.Time
}

// Recipient is a chat a broadcast is for, in the language it reads.
type Recipient struct {
	Chat ChatID
	Lang knowledge.Lang
}

// Delivery says what became of one recipient.
type Delivery string

// Deliveries.
const (
	Queued      Delivery = "queued"      // in the chat's outbox
	AlreadyDone Delivery = "duplicate"   // queued before (a retry after a crash)
	Gone        Delivery = "gone"        // the chat's data expired or was forgotten
	Unfollowed  Delivery = "unfollowed"  // no longer follows any of the keys, or reads another language
	Unreachable Delivery = "unreachable" // the user blocked the bot
)

// ErrNoBroadcast: no broadcast has that id.
var ErrNoBroadcast = errors.New("no such broadcast")

// BroadcastStatus is the progress of a broadcast.
type BroadcastStatus struct {
	ID        string
	Total     int // recipients in the snapshot
	Remaining int // not handled yet
	Counts    map[string]int
	Created   time.Time
	NotBefore time.Time
	Finished  time.Time
}

// BroadcastStore keeps broadcasts and the subscription index.
type BroadcastStore interface {
	// Audience counts the chats per language that follow any of keys.
	Audience(ctx context.Context, keys []string, langs []knowledge.Lang) (map[knowledge.Lang]int, error)
	// CreateBroadcast snapshots the audience and queues b, once: it
	// reports false when b.ID exists already.
	CreateBroadcast(ctx context.Context, b Broadcast, now time.Time) (bool, error)
	// ActiveBroadcasts returns the broadcasts with recipients left.
	ActiveBroadcasts(ctx context.Context) ([]string, error)
	// ClaimRecipients takes up to n recipients of broadcast id due at now; they are
	// not claimed again before now+lease. done reports that none is left.
	ClaimRecipients(ctx context.Context, id string, now time.Time, n int, lease time.Duration) (rs []Recipient, done bool, err error)
	// Deliver puts the broadcast's message into each recipient's outbox
	// and on the send schedule, unless it was queued for that chat before,
	// the chat is gone or blocked, or no longer follows the keys.
	Deliver(ctx context.Context, id string, rs []Recipient, now time.Time) ([]Delivery, error)
	// SettleRecipients records the recipients as handled.
	SettleRecipients(ctx context.Context, id string, rs []Recipient, ds []Delivery) error
	// End marks a broadcast finished.
	End(ctx context.Context, id string, now time.Time) error
	// Count adds one to a broadcast's counter (sent, failed …).
	Count(ctx context.Context, id, counter string) error
	// Status returns a broadcast's progress.
	Status(ctx context.Context, id string) (BroadcastStatus, error)
	// ReserveBroadcast is Reserve for the broadcasts' own share of the
	// send rate.
	ReserveBroadcast(ctx context.Context, now time.Time, rate float64, n int) (time.Duration, error)
	// TopicVersions returns the last version seen of each topic, as
	// "<version>:<change id>", for alerts.
	TopicVersions(ctx context.Context) (map[string]string, error)
	// SetTopicVersions records versions seen.
	SetTopicVersions(ctx context.Context, vs map[string]string) error
}

// BroadcastConfig tunes the broadcaster.
type BroadcastConfig struct {
	// Rate is the most broadcast messages per second, shared by all
	// replicas: a share of SendConfig.Rate, so that replies to questions
	// keep the rest.
	Rate float64
	// Lease is how long claimed recipients are this replica's before
	// another may take them (after a crash).
	Lease time.Duration
	// Poll is how often an idle broadcaster looks for work.
	Poll time.Duration
}

// DefaultBroadcastConfig returns half of Telegram's default rate.
func DefaultBroadcastConfig() BroadcastConfig {
	return BroadcastConfig{Rate: 15, Lease: 30 * time.Second, Poll: 5 * time.Second}
}

// Broadcaster moves broadcast recipients into outboxes at its rate.
type Broadcaster struct {
	store BroadcastStore
	cfg   BroadcastConfig
	log   *slog.Logger
	// Wake, when set, is signalled after recipients were queued, so a
	// local sender starts at once.
	Wake    chan<- struct{}
	metrics *Metrics
	now     func() time.Time
	redis   *Outage
}

// NewBroadcaster returns a broadcaster.
func NewBroadcaster(store BroadcastStore, cfg BroadcastConfig, log *slog.Logger, metrics *Metrics) *Broadcaster {
	return &Broadcaster{store: store, cfg: cfg, log: log, metrics: metrics, now: time.Now, redis: metrics.Follow(NewOutage("Redis (broadcasts)", log), "redis")}
}

// Run works until ctx ends.
func (b *Broadcaster) Run(ctx context.Context) {
	for ctx.Err() == nil {
		worked, err := b.Step(ctx)
		if err != nil {
			b.redis.Fail(err)
		} else {
			b.redis.OK()
		}
		if worked {
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(b.cfg.Poll):
		}
	}
}

// batch is how many recipients are queued at once: about a fifth of a
// second of the rate, so that a reply to a question never waits behind
// more than that in the send schedule.
func (b *Broadcaster) batch() int {
	return max(1, min(100, int(b.cfg.Rate/5)))
}

// Step queues one batch of each active broadcast. It reports whether any
// recipient was handled.
func (b *Broadcaster) Step(ctx context.Context) (bool, error) {
	ids, err := b.store.ActiveBroadcasts(ctx)
	if err != nil {
		return false, err
	}
	worked := false
	for _, id := range ids {
		// The slots first, then the claim: recipients are claimed only
		// when they can be queued at once, so a replica killed meanwhile
		// leaves almost none waiting out the lease.
		n := b.batch()
		wait, err := b.store.ReserveBroadcast(ctx, b.now(), b.cfg.Rate, n)
		if err != nil {
			return worked, err
		}
		// The batch goes out when its last slot comes: at most the rate.
		wait += time.Duration(float64(n-1) / b.cfg.Rate * float64(time.Second))
		select {
		case <-ctx.Done():
			return worked, ctx.Err()
		case <-time.After(wait):
		}
		now := b.now()
		rs, done, err := b.store.ClaimRecipients(ctx, id, now, n, b.cfg.Lease)
		if err != nil {
			return worked, err
		}
		if done {
			if err := b.store.End(ctx, id, now); err != nil {
				return worked, err
			}
			b.log.Info("broadcast finished", "broadcast", id)
			continue
		}
		if len(rs) == 0 {
			continue // not yet (not_before), or claimed by another replica
		}
		ds, err := b.store.Deliver(ctx, id, rs, now)
		if err != nil {
			return worked, err
		}
		if err := b.store.SettleRecipients(ctx, id, rs, ds); err != nil {
			return worked, err
		}
		for _, d := range ds {
			b.metrics.broadcast(string(d))
		}
		worked = true
		if b.Wake != nil {
			select {
			case b.Wake <- struct{}{}:
			default:
			}
		}
	}
	return worked, nil
}

// Counted is the sender's hook: a broadcast message was sent, failed or
// found the chat unreachable.
func (b *Broadcaster) Counted(ctx context.Context, m OutMessage, result string) {
	if m.Broadcast == "" {
		return
	}
	b.metrics.broadcast(result)
	if err := b.store.Count(ctx, m.Broadcast, result); err != nil {
		b.log.Debug("count broadcast message", "broadcast", m.Broadcast, "err", err)
	}
}

// AlertID names the alert about entry e's current version and note.
func AlertID(e *knowledge.Entry) string {
	return "alert:" + e.Ref() + ":" + e.ChangeID()
}

// QueueAlerts compares the FAQ's topics with the versions seen before
// (by any replica) and queues an alert for each topic whose version went
// up with a new change note, to the subscribers of the topic or its
// category. The first load ever only records the versions. Safe to run
// on every load, on every replica: an alert is created once.
func QueueAlerts(ctx context.Context, store BroadcastStore, f *FAQ, migrants Formatter, now time.Time) ([]string, error) {
	seen, err := store.TopicVersions(ctx)
	if err != nil {
		return nil, err
	}
	first := len(seen) == 0
	update := map[string]string{}
	var queued []string
	for _, e := range f.Engine.KB().Entries() {
		cur := strconv.Itoa(e.Version) + ":" + e.ChangeID()
		prev, ok := seen[e.ID]
		if ok && prev == cur {
			continue
		}
		update[e.ID] = cur
		if first || !ok || e.ChangeID() == "" || !newer(e.Version, prev) || sameNote(prev, e.ChangeID()) {
			continue
		}
		b, err := AlertBroadcast(f, migrants, e)
		if err != nil {
			return queued, err
		}
		created, err := store.CreateBroadcast(ctx, b, now)
		if err != nil {
			return queued, fmt.Errorf("queue alert %s: %w", b.ID, err)
		}
		if created {
			queued = append(queued, b.ID)
		}
	}
	// Recorded only after the alerts exist: a crash in between queues
	// them again on the next load, which creates nothing twice.
	if len(update) > 0 {
		if err := store.SetTopicVersions(ctx, update); err != nil {
			return queued, err
		}
	}
	return queued, nil
}

func newer(v int, prev string) bool {
	p, _, _ := strings.Cut(prev, ":")
	n, err := strconv.Atoi(p)
	return err != nil || v > n
}

func sameNote(prev, changeID string) bool {
	_, note, _ := strings.Cut(prev, ":")
	return note == changeID
}

// AlertBroadcast renders the alert about e in every language.
func AlertBroadcast(f *FAQ, migrants Formatter, e *knowledge.Entry) (Broadcast, error) {
	b := Broadcast{ID: AlertID(e), Keys: []string{e.ID, flows.SubCategory(e.Category)}, Messages: map[knowledge.Lang][]OutMessage{}}
	for _, l := range knowledge.Langs() {
		a, ok := f.Engine.AlertFor(e.ID, l)
		if !ok {
			continue
		}
		m, err := f.Render.Alert(a)
		if err != nil {
			return Broadcast{}, err
		}
		b.Messages[l] = broadcastMessages(b.ID, migrants.Format(m))
	}
	return b, nil
}

// broadcastMessages gives a broadcast's messages their ids: the same in
// every chat, and apart from any update's ("<update>-<n>").
func broadcastMessages(id string, ms []OutMessage) []OutMessage {
	for i := range ms {
		ms[i].ID = fmt.Sprintf("bc:%s-%d", id, i)
		ms[i].Broadcast = id
	}
	return ms
}

// AnnouncementBroadcast renders announcement a in each of its languages,
// with its topic buttons and one to stop the news.
func AnnouncementBroadcast(f *FAQ, migrants Formatter, a *knowledge.Announcement) Broadcast {
	kb := f.Engine.KB()
	b := Broadcast{ID: "news:" + a.ID, NotBefore: a.NotBefore, Messages: map[knowledge.Lang][]OutMessage{}}
	if a.Everyone {
		b.Keys = append(b.Keys, flows.SubNews)
	}
	for _, c := range a.Categories {
		b.Keys = append(b.Keys, flows.SubCategory(c))
		for _, e := range kb.InCategory(c) {
			b.Keys = append(b.Keys, e.ID)
		}
	}
	for _, l := range a.Langs {
		b.Messages[l] = broadcastMessages(b.ID, migrants.Format(f.Render.Announcement(a, l)))
	}
	return b
}
