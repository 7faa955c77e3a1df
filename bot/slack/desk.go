package slack

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
)

// Config is the consultants' side's configuration.
type Config struct {
	// Channel is the consultants' channel; LangChannels route cases in a
	// language to consultants who speak it.
	Channel      string
	LangChannels map[knowledge.Lang]string
	// Consultants are Slack user ids allowed to act besides the members
	// of the case's channel.
	Consultants []string
	Hours       Hours
	// Reminder is how long a case may wait unclaimed before one reminder.
	Reminder time.Duration
}

// channelFor picks the channel for a case in lang.
func (c Config) channelFor(lang knowledge.Lang) string {
	if ch := c.LangChannels[lang]; ch != "" {
		return ch
	}
	return c.Channel
}

// Desk is the consultants' side as the service sees it (bot.Consultants)
// and as consultants act on it. Everything it posts to Slack goes through
// the Slack queue, so that nothing waits on Slack and nothing is lost
// while Slack is down.
type Desk struct {
	cases bot.CaseStore
	kb    func() *knowledge.Base
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
	// Wake, when set, is signalled after items are queued for Slack, so
	// that a local sender posts them at once.
	Wake chan<- struct{}
	// Metrics, when set, counts cases and times to claim and resolve.
	Metrics *bot.Metrics
	// Stats, when set, keeps the day's case counts for reports.
	Stats bot.Stats
}

// count adds to the day's counts for reports; a failure only costs a
// report figure, so it is logged, not returned.
func (d *Desk) count(ctx context.Context, counts map[string]int64) {
	if d.Stats == nil {
		return
	}
	if err := d.Stats.CountDay(ctx, d.now(), counts); err != nil {
		d.log.Warn("count case for reports", "err", err)
	}
}

// countOnce counts the case's opening for reports, once whatever the
// retries, and reports whether this call counted it; without Stats,
// whether this call created the case.
func (d *Desk) countOnce(ctx context.Context, c bot.Case, created bool) (bool, error) {
	if d.Stats == nil {
		return created, nil
	}
	counts := map[string]int64{"cases:opened": 1}
	if c.Urgent {
		counts["cases:urgent"] = 1
	}
	return d.Stats.CountOnce(ctx, c.Opened, "case:"+c.ID, counts)
}

var _ bot.Consultants = (*Desk)(nil)

// NewDesk returns the desk. kb returns the FAQ being served (for the
// "send FAQ answer" list).
func NewDesk(cases bot.CaseStore, kb func() *knowledge.Base, cfg Config, log *slog.Logger) *Desk {
	return &Desk{cases: cases, kb: kb, cfg: cfg, log: log, now: time.Now}
}

// Open implements bot.Consultants.
func (d *Desk) Open(ctx context.Context, chat bot.ChatID, e flows.Escalate) (bot.Opened, error) {
	now := d.now()
	c := bot.Case{
		ID: newCaseID(), Chat: chat, Lang: e.Lang, Category: e.Category, Urgent: e.Urgent, Status: flows.StatusOpen,
		Opened: now, Channel: d.cfg.channelFor(e.Lang), Question: e.Question, Guesses: e.Guesses,
		FirstName: e.FirstName, Transcript: e.Transcript,
	}
	cur, created, err := d.cases.OpenCase(ctx, c)
	if err != nil {
		return bot.Opened{}, err
	}
	if created || cur.ThreadTS == "" {
		// A case stored by an earlier try that failed before its parent
		// was queued (a lost reply) still needs it: the parent goes under
		// the case's own id, which is queued once.
		items := []bot.SlackItem{{ID: "parent:" + cur.ID, Kind: bot.SlackParent, Chat: chat,
			Text: fallback(cur), Blocks: encodeBlocks(caseBlocks(cur, d.kb()))}}
		if cur.Urgent {
			items = append(items, bot.SlackItem{ID: "urgent:" + cur.ID, Kind: bot.SlackReply, Chat: chat,
				Text: "🆘 <!here> urgent: the migrant wrote about danger and was shown the emergency numbers."})
		}
		if err := d.push(ctx, cur.Channel, items...); err != nil {
			return bot.Opened{}, err
		}
	}
	// Counted on every try, not only one that queued the parent: the
	// parent may have been posted before the retry of a try whose count
	// was never reached.
	counted, err := d.countOnce(ctx, cur, created)
	if err != nil {
		return bot.Opened{}, err
	}
	if counted {
		d.Metrics.CaseOpened(cur.Urgent)
	}
	ahead, err := d.cases.Ahead(ctx, chat)
	if err != nil {
		return bot.Opened{}, err
	}
	o := bot.Opened{CaseID: cur.ID, Ahead: ahead}
	if !d.cfg.Hours.OpenAt(now) {
		o.AfterHours, o.Hours = true, d.cfg.Hours.Schedule()
		o.Back = d.cfg.Hours.NextOpen(now)
	}
	return o, nil
}

// fallback is a message's text for notifications and clients without
// blocks: the case id only, no migrant text.
func fallback(c bot.Case) string {
	if c.Urgent {
		return "URGENT case " + c.ID
	}
	return "New case " + c.ID
}

// Relay implements bot.Consultants.
func (d *Desk) Relay(ctx context.Context, chat bot.ChatID, key string, r flows.Relay) (bool, error) {
	c, err := d.cases.CaseOf(ctx, chat)
	if err != nil {
		return false, fmt.Errorf("relay: %w", err)
	}
	text := "💬 Migrant: " + r.Text
	err = d.push(ctx, c.Channel, bot.SlackItem{ID: key, Kind: bot.SlackReply, Chat: chat,
		Text: Escape(text), Blocks: encodeBlocks(plainSection(text))})
	return d.cases.SlackDown(ctx), err
}

// Close implements bot.Consultants: the migrant ended the case (/end).
func (d *Desk) Close(ctx context.Context, chat bot.ChatID, _ flows.CloseCase) error {
	now := d.now()
	c, closed, err := d.cases.Resolve(ctx, chat, now)
	if err != nil || !closed {
		return err
	}
	d.Metrics.CaseResolved(now.Sub(c.Opened))
	d.count(ctx, map[string]int64{"cases:resolved": 1})
	d.update(ctx, c)
	return d.note(ctx, c, "The migrant ended the conversation (/end).")
}

// Rate implements bot.Consultants.
func (d *Desk) Rate(ctx context.Context, chat bot.ChatID, r flows.Rate) error {
	c, err := d.cases.RateCase(ctx, chat, r.Score)
	if err != nil {
		return err
	}
	d.count(ctx, map[string]int64{fmt.Sprintf("rating:%d", r.Score): 1})
	return d.note(ctx, c, fmt.Sprintf("⭐ The migrant rated the help %d/5.", r.Score))
}

// Forget implements bot.Consultants: the bot's messages of the chat's
// case are deleted from Slack and the case record is gone.
func (d *Desk) Forget(ctx context.Context, chat bot.ChatID) error {
	c, posts, err := d.cases.ForgetCase(ctx, chat)
	if err != nil {
		return err
	}
	// What still waits for Slack (a parent, relays, notes) is never
	// posted; what is being posted right now is deleted by the sender,
	// which finds the case gone.
	channels := map[string]bool{d.cfg.Channel: true}
	for _, ch := range d.cfg.LangChannels {
		channels[ch] = true
	}
	if c.Channel != "" {
		channels[c.Channel] = true
	}
	for ch := range channels {
		if _, err := d.cases.CancelQueued(ctx, ch, chat); err != nil {
			return err
		}
	}
	byChannel := map[string][]bot.SlackItem{}
	for _, p := range posts {
		byChannel[p.Channel] = append(byChannel[p.Channel], bot.SlackItem{ID: itemID(), Kind: bot.SlackDelete, TS: p.TS})
	}
	for ch, items := range byChannel {
		if err := d.push(ctx, ch, items...); err != nil {
			return err
		}
	}
	if c.ID != "" && c.Open() {
		// A thread that was never posted is deleted by its absence; say in
		// the channel that the case is gone, without any of its content.
		return d.push(ctx, c.Channel, bot.SlackItem{ID: itemID(), Kind: bot.SlackNotice,
			Text: "Case " + c.ID + " was deleted at the migrant's request (/forget)."})
	}
	return nil
}

// note posts a line in the case's thread.
func (d *Desk) note(ctx context.Context, c bot.Case, text string) error {
	return d.push(ctx, c.Channel, bot.SlackItem{ID: itemID(), Kind: bot.SlackReply, Chat: c.Chat, Text: text})
}

// update refreshes the parent message.
func (d *Desk) update(ctx context.Context, c bot.Case) {
	err := d.push(ctx, c.Channel, bot.SlackItem{ID: itemID(), Kind: bot.SlackUpdate, Chat: c.Chat,
		Text: fallback(c), Blocks: encodeBlocks(caseBlocks(c, d.kb()))})
	if err != nil {
		d.log.Warn("queue parent update", "err", err)
	}
}

// ErrNotConsultant: the Slack user may not act on cases.
var ErrNotConsultant = errors.New("not a consultant")

// Claim gives the case of the thread to user; won reports whether this
// click took it (of two simultaneous clicks, one wins).
func (d *Desk) Claim(ctx context.Context, chat bot.ChatID, user string) (won bool, err error) {
	now := d.now()
	c, won, err := d.cases.Claim(ctx, chat, user, now)
	if err != nil || !won {
		return false, err
	}
	d.Metrics.CaseClaimed(now.Sub(c.Opened))
	if d.Stats != nil {
		if err := d.Stats.RecordClaim(ctx, now, now.Sub(c.Opened)); err != nil {
			d.log.Warn("record claim for reports", "err", err)
		}
	}
	d.update(ctx, c)
	return true, d.note(ctx, c, "<@"+user+"> took this case.")
}

// Resolve closes the case of the thread.
func (d *Desk) Resolve(ctx context.Context, chat bot.ChatID, user string) (bool, error) {
	now := d.now()
	c, closed, err := d.cases.Resolve(ctx, chat, now)
	if err != nil || !closed {
		return false, err
	}
	d.Metrics.CaseResolved(now.Sub(c.Opened))
	d.count(ctx, map[string]int64{"cases:resolved": 1})
	d.update(ctx, c)
	return true, d.note(ctx, c, "<@"+user+"> resolved this case.")
}

// SentFAQ notes in the thread which FAQ text was sent.
func (d *Desk) SentFAQ(ctx context.Context, chat bot.ChatID, user, entryID string) error {
	c, err := d.cases.CaseOf(ctx, chat)
	if err != nil {
		return err
	}
	ref := entryID
	if e, ok := d.kb().Entry(entryID); ok {
		ref = e.Ref()
	}
	return d.note(ctx, c, fmt.Sprintf("📄 <@%s> sent the FAQ answer %s in %s.", user, ref, c.Lang))
}

// Blocked notes that the migrant blocked the bot.
func (d *Desk) Blocked(ctx context.Context, chat bot.ChatID) {
	c, err := d.cases.CaseOf(ctx, chat)
	if err != nil || !c.Open() {
		return
	}
	if err := d.note(ctx, c, "⚠️ The migrant blocked the bot: messages can no longer reach them."); err != nil {
		d.log.Warn("note blocked chat", "err", err)
	}
}

// Remind posts one reminder for every case unclaimed for longer than the
// configured wait.
func (d *Desk) Remind(ctx context.Context) error {
	chats, err := d.cases.Unclaimed(ctx, d.now().Add(-d.cfg.Reminder))
	if err != nil {
		return err
	}
	for _, chat := range chats {
		c, err := d.cases.CaseOf(ctx, chat)
		if err != nil {
			continue
		}
		mins := int(d.now().Sub(c.Opened).Minutes())
		text := fmt.Sprintf("⏰ Case %s has waited %d minutes for a consultant.", c.ID, mins)
		if err := d.push(ctx, c.Channel, bot.SlackItem{ID: itemID(), Kind: bot.SlackNotice, Chat: chat, Text: text}); err != nil {
			return err
		}
		if err := d.cases.MarkReminded(ctx, chat); err != nil {
			return err
		}
	}
	return nil
}

// RunReminders checks for waiting cases every interval until ctx ends.
func (d *Desk) RunReminders(ctx context.Context, every time.Duration) {
	periodically(ctx, every, d.log, "case reminders", d.Remind)
}

// periodically runs fn every interval until ctx ends, logging its errors.
func periodically(ctx context.Context, every time.Duration, log *slog.Logger, what string, fn func(context.Context) error) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := fn(ctx); err != nil {
				log.Warn(what, "err", err)
			}
		}
	}
}

// newCaseID is short and readable: "W-" and four characters that cannot
// be confused (no 0/O, 1/I).
func newCaseID() string {
	const alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	var b [5]byte
	_, _ = rand.Read(b[:])
	id := []byte("W-")
	for _, x := range b {
		id = append(id, alphabet[int(x)%len(alphabet)])
	}
	return string(id)
}

// itemID identifies a queued Slack request.
func itemID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strconv.FormatUint(uint64(b[0])<<56|uint64(b[1])<<48|uint64(b[2])<<40|uint64(b[3])<<32|uint64(b[4])<<24|uint64(b[5])<<16|uint64(b[6])<<8|uint64(b[7]), 36)
}

// push queues items for Slack and wakes the local sender.
func (d *Desk) push(ctx context.Context, channel string, items ...bot.SlackItem) error {
	if err := d.cases.SlackPush(ctx, channel, items...); err != nil {
		return err
	}
	if d.Wake != nil {
		select {
		case d.Wake <- struct{}{}:
		default:
		}
	}
	return nil
}
