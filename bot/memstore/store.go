// Package memstore is witaj's durable state kept in the process: the same
// contract as the Redis store (bot/redis), for running without a Redis
// server and for tests. Everything is lost when the process ends.
//
// It keeps what the Redis store keeps, with the same lifetimes: each part
// of a chat (session, handled update ids, lock, outbox, pacing mark,
// audit, blocked mark, failure counts, maybe-sent marks) expires on its
// own, as a Redis key with a TTL does, measured on the store's clock
// (Options.Clock). Times passed as arguments (a commit's Now, Due's now)
// are used where the Redis store passes them to its scripts; the clock
// where Redis uses its own (TTLs, and Defer, Drop and Idle, which read
// time.Now in the Redis store).
//
// One mutex guards the whole state: every operation is a few map and
// slice steps, so holding it is shorter than a Redis round trip, and
// each operation is atomic as the Redis store's scripts are. Encoding
// the session (JSON, as stored in Redis, so that it round-trips the same
// way) happens outside the lock.
package memstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
)

// SeenTTL is how long handled update ids are remembered after the last
// commit of a chat: Telegram keeps an undelivered update for 24 hours.
// The same as the Redis store's (a test holds them equal).
const SeenTTL = 25 * time.Hour

// Limits the Redis store applies, kept here identical.
const (
	auditMax = 100  // records kept per chat, newest first
	deadMax  = 1000 // dead letters kept
	// sweepEvery is how often (on the store's clock) every chat is
	// checked for expired data, so that memory of chats that never come
	// back is freed; a chat touched meanwhile is checked on the spot.
	sweepEvery = time.Minute
)

// Options configure a Store.
type Options struct {
	// Retention is how long a chat's data lives after its last update
	// (30 days by default).
	Retention time.Duration
	// Clock is the store's own clock, by which data expires (time.Now
	// by default); tests move it.
	Clock func() time.Time
}

// Store implements bot.Store in memory. The zero value is not usable;
// call New.
type Store struct {
	retention time.Duration
	clock     func() time.Time

	mu        sync.Mutex
	chats     map[bot.ChatID]*chat
	sendq     *schedule
	gaps      map[string]*gapDay // by UTC date
	dead      []bot.DeadLetter   // newest first
	deadExp   time.Time
	rate      int64 // global send rate: theoretical arrival time, µs
	rateExp   time.Time
	leaders   map[string]leader
	lastSweep time.Time
}

var _ bot.Store = (*Store)(nil)

// New returns an empty store.
func New(opts Options) *Store {
	if opts.Retention <= 0 {
		opts.Retention = 30 * 24 * time.Hour
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	return &Store{
		retention: opts.Retention,
		clock:     opts.Clock,
		chats:     map[bot.ChatID]*chat{},
		sendq:     newSchedule(),
		gaps:      map[string]*gapDay{},
		leaders:   map[string]leader{},
	}
}

// chat is everything kept about one chat: the Redis store's
// witaj:{chat:<id>}:* keys, each with its expiry (zero: none). A part
// that is empty does not exist, as an empty Redis list or hash does not.
type chat struct {
	session    []byte // flows.Session JSON; nil: none
	sessionExp time.Time
	seen       map[int64]int64 // handled update id → commit time (ms)
	seenMin    int64           // the earliest commit time in seen: trim only when one is due
	seenExp    time.Time
	lock       string // worker token; "": unlocked
	lockExp    time.Time
	out        []bot.OutMessage
	// gone is the id of a message erased by /forget while a sender may
	// have been sending it: the Redis store's tombstone, in front of out
	// and expiring with it. A settle of that id lets the chat go, as if
	// the message had been popped.
	gone       string
	outExp     time.Time
	next       int64 // earliest next send (ms); hasNext says whether set
	hasNext    bool
	nextExp    time.Time
	audit      []bot.AuditRecord // newest first
	auditExp   time.Time
	blocked    bool
	blockedExp time.Time
	fails      map[int64]int // update id → failed attempts
	failsExp   time.Time
	uncertain  map[string]struct{} // ids of messages that may have been sent
	uncertExp  time.Time
}

type gapDay struct {
	counts map[string]int // "<lang>\t<question>" → count
	exp    time.Time
}

type leader struct {
	token string
	exp   time.Time
}

// expired reports whether a part with expiry exp is gone at now. Redis
// deletes a key once its expiry time is reached.
func expired(exp, now time.Time) bool { return !exp.IsZero() && !now.Before(exp) }

// expire deletes the chat's parts whose time has come.
func (c *chat) expire(now time.Time) {
	if expired(c.sessionExp, now) {
		c.session, c.sessionExp = nil, time.Time{}
	}
	if expired(c.seenExp, now) {
		c.seen, c.seenExp = nil, time.Time{}
	}
	if expired(c.lockExp, now) {
		c.lock, c.lockExp = "", time.Time{}
	}
	if expired(c.outExp, now) {
		c.dropOut()
	}
	if expired(c.nextExp, now) {
		c.next, c.hasNext, c.nextExp = 0, false, time.Time{}
	}
	if expired(c.auditExp, now) {
		c.audit, c.auditExp = nil, time.Time{}
	}
	if expired(c.blockedExp, now) {
		c.blocked, c.blockedExp = false, time.Time{}
	}
	if expired(c.failsExp, now) {
		c.fails, c.failsExp = nil, time.Time{}
	}
	if expired(c.uncertExp, now) {
		c.uncertain, c.uncertExp = nil, time.Time{}
	}
}

// empty reports whether nothing is left of the chat.
func (c *chat) empty() bool {
	return c.session == nil && len(c.seen) == 0 && c.lock == "" && c.queued() == 0 && !c.hasNext &&
		len(c.audit) == 0 && !c.blocked && len(c.fails) == 0 && len(c.uncertain) == 0
}

// popOut removes the head of the outbox; an emptied outbox is deleted
// with its expiry (Redis deletes an empty list).
func (c *chat) popOut() {
	c.out[0] = bot.OutMessage{}
	c.out = c.out[1:]
	if len(c.out) == 0 {
		c.out, c.outExp = nil, time.Time{}
	}
}

func (c *chat) dropOut() { c.out, c.gone, c.outExp = nil, "", time.Time{} }

// queued counts the outbox's entries as Redis's LLEN does: the tombstone
// too.
func (c *chat) queued() int {
	if c.gone != "" {
		return len(c.out) + 1
	}
	return len(c.out)
}

// dropGone removes the tombstone; an outbox left empty goes with its
// expiry.
func (c *chat) dropGone() {
	c.gone = ""
	if len(c.out) == 0 {
		c.outExp = time.Time{}
	}
}

// setNext is the pacing mark: no send before at (ms), kept for ttl.
func (c *chat) setNext(at int64, ttl time.Duration, now time.Time) {
	c.next, c.hasNext, c.nextExp = at, true, now.Add(ttl)
}

// get returns the chat's live data, or nil when nothing is kept. The
// caller holds mu.
func (s *Store) get(id bot.ChatID, now time.Time) *chat {
	c := s.chats[id]
	if c == nil {
		return nil
	}
	c.expire(now)
	if c.empty() {
		delete(s.chats, id)
		return nil
	}
	return c
}

// ensure returns the chat's data, created empty if need be; the caller
// calls tidy when done, so that an empty chat is not kept.
func (s *Store) ensure(id bot.ChatID, now time.Time) *chat {
	if c := s.get(id, now); c != nil {
		return c
	}
	c := &chat{}
	s.chats[id] = c
	return c
}

func (s *Store) tidy(id bot.ChatID, c *chat) {
	if c != nil && c.empty() {
		delete(s.chats, id)
	}
}

// lock takes mu and returns the clock's time, sweeping expired data when
// it is time to. Every operation starts with it.
func (s *Store) lock() time.Time {
	s.mu.Lock()
	now := s.clock()
	if now.Sub(s.lastSweep) >= sweepEvery {
		s.sweep(now)
	}
	return now
}

// sweep deletes everything expired: what Redis's active expiry does.
func (s *Store) sweep(now time.Time) {
	s.lastSweep = now
	for id := range s.chats {
		s.get(id, now)
	}
	for day, g := range s.gaps {
		if expired(g.exp, now) {
			delete(s.gaps, day)
		}
	}
	if expired(s.deadExp, now) {
		s.dead, s.deadExp = nil, time.Time{}
	}
	if expired(s.rateExp, now) {
		s.rate, s.rateExp = 0, time.Time{}
	}
	for name, l := range s.leaders {
		if expired(l.exp, now) {
			delete(s.leaders, name)
		}
	}
}

func ms(t time.Time) int64 { return t.UnixMilli() }

// Begin implements bot.Store.
func (s *Store) Begin(ctx context.Context, id bot.ChatID, updateID int64, token string, lease time.Duration) (bot.Begun, error) {
	if err := ctx.Err(); err != nil {
		return bot.Begun{}, fmt.Errorf("begin chat %d update %d: %w", id, updateID, err)
	}
	now := s.lock()
	c := s.get(id, now)
	if c != nil {
		if _, ok := c.seen[updateID]; ok {
			s.mu.Unlock()
			return bot.Begun{}, bot.ErrDuplicate
		}
		if c.lock != "" && c.lock != token {
			s.mu.Unlock()
			return bot.Begun{}, bot.ErrBusy
		}
	} else {
		c = s.ensure(id, now)
	}
	// The lease is whole milliseconds, as Redis's PX.
	c.lock, c.lockExp = token, now.Add(lease.Truncate(time.Millisecond))
	raw := c.session // replaced, never changed in place: safe to read unlocked
	s.mu.Unlock()

	var b bot.Begun
	if raw != nil {
		var err error
		if b.Session, err = flows.DecodeSession(raw); err != nil {
			// A session we cannot read starts afresh rather than
			// blocking the chat forever, as in the Redis store.
			b.Session = flows.Session{}
		}
	}
	return b, nil
}

// Commit implements bot.Store. As the Redis store's commit script: a
// token that does not hold the lock stores nothing (ErrLeaseLost) unless
// the update was committed already, which succeeds; /forget deletes the
// chat's data and keeps only the handled ids with this update's. The
// chat goes on the send schedule and the gaps are counted in the same
// step. A commit that fails or repeats an earlier one counts no gap
// again: it stores nothing, as the contract says (and as the Redis
// store's script does on one server). Follow, Unfollow and Stats are for
// the broadcast and report stores, which this store does not provide;
// they are ignored.
func (s *Store) Commit(ctx context.Context, id bot.ChatID, token string, cm bot.Commit) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("commit chat %d update %d: %w", id, cm.UpdateID, err)
	}
	sess, err := cm.Session.Encode()
	if err != nil {
		return fmt.Errorf("commit chat %d: encode session: %w", id, err)
	}
	out := cloneMessages(cm.Out)
	audit := make([]bot.AuditRecord, len(cm.Audit))
	for i, a := range cm.Audit {
		a.At = a.At.Round(0) // as stored: no monotonic reading
		audit[i] = a
	}
	gapKeys := make([]string, len(cm.Gaps))
	for i, g := range cm.Gaps {
		gapKeys[i] = string(g.Lang) + "\t" + normaliseGap(g.Text)
	}
	at := ms(cm.Now)

	now := s.lock()
	defer s.mu.Unlock()
	c := s.get(id, now)
	if c == nil || c.lock != token {
		if c != nil {
			if _, ok := c.seen[cm.UpdateID]; ok {
				// Committed already (a retry after a lost reply): success.
				// The schedule entry is made sure of, as the Redis store's
				// pipeline does; it changes nothing if present.
				if len(out) > 0 && c.queued() > 0 {
					s.sendq.addNX(id, at)
				}
				return nil
			}
		}
		return bot.ErrLeaseLost
	}
	if cm.Forget {
		gone := c.gone
		if len(c.out) > 0 && gone == "" {
			gone = c.out[0].ID
		}
		if sc, ok := s.sendq.score(id); !ok || sc <= at {
			gone = "" // not claimed: no send in flight
		}
		*c = chat{lock: c.lock, lockExp: c.lockExp}
		if gone != "" {
			c.gone, c.outExp = gone, now.Add(s.retention)
		}
		c.seen = map[int64]int64{cm.UpdateID: at}
		c.seenMin = at
		c.seenExp = now.Add(SeenTTL)
	} else {
		c.session, c.sessionExp = sess, now.Add(s.retention)
		if c.seen == nil {
			c.seen = map[int64]int64{}
		}
		if len(c.seen) == 0 || at < c.seenMin {
			c.seenMin = at
		}
		c.seen[cm.UpdateID] = at
		// ZREMRANGEBYSCORE -inf now-25h, without a scan on every commit.
		if cutoff := at - SeenTTL.Milliseconds(); c.seenMin <= cutoff {
			c.seenMin = at
			for u, t := range c.seen {
				if t <= cutoff {
					delete(c.seen, u)
				} else {
					c.seenMin = min(c.seenMin, t)
				}
			}
		}
		c.seenExp = now.Add(SeenTTL)
		if c.fails != nil {
			delete(c.fails, cm.UpdateID)
			if len(c.fails) == 0 {
				c.fails, c.failsExp = nil, time.Time{}
			}
		}
	}
	switch cm.Control {
	case bot.Blocked:
		c.blocked, c.blockedExp = true, now.Add(s.retention)
	case bot.Unblocked:
		c.blocked, c.blockedExp = false, time.Time{}
	}
	if len(out) > 0 {
		c.out = append(c.out, out...)
		c.outExp = now.Add(s.retention)
	}
	if len(audit) > 0 {
		merged := make([]bot.AuditRecord, 0, min(len(audit)+len(c.audit), auditMax))
		for i := len(audit) - 1; i >= 0 && len(merged) < auditMax; i-- {
			merged = append(merged, audit[i]) // LPUSH one by one: the last is the newest
		}
		for _, a := range c.audit {
			if len(merged) == auditMax {
				break
			}
			merged = append(merged, a)
		}
		c.audit, c.auditExp = merged, now.Add(s.retention)
	}
	c.lock, c.lockExp = "", time.Time{}
	if len(out) > 0 {
		s.sendq.addNX(id, at)
	}
	s.countGaps(cm.Now, gapKeys, now)
	s.tidy(id, c)
	return nil
}

func cloneMessages(ms []bot.OutMessage) []bot.OutMessage {
	out := make([]bot.OutMessage, len(ms))
	for i, m := range ms {
		out[i] = cloneMessage(m)
	}
	return out
}

// cloneMessage copies the buttons: a stored message shares nothing with
// the caller, as one read back from Redis does not.
func cloneMessage(m bot.OutMessage) bot.OutMessage {
	if m.Buttons != nil {
		rows := make([][]bot.Button, len(m.Buttons))
		for i, r := range m.Buttons {
			rows[i] = slices.Clone(r)
		}
		m.Buttons = rows
	}
	return m
}

// Release implements bot.Store.
func (s *Store) Release(ctx context.Context, id bot.ChatID, token string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("release chat %d: %w", id, err)
	}
	now := s.lock()
	defer s.mu.Unlock()
	if c := s.get(id, now); c != nil && c.lock == token {
		c.lock, c.lockExp = "", time.Time{}
		s.tidy(id, c)
	}
	return nil
}

// Fail implements bot.Store.
func (s *Store) Fail(ctx context.Context, id bot.ChatID, updateID int64, token string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("record failure chat %d update %d: %w", id, updateID, err)
	}
	now := s.lock()
	defer s.mu.Unlock()
	c := s.ensure(id, now)
	if c.fails == nil {
		c.fails = map[int64]int{}
	}
	c.fails[updateID]++
	c.failsExp = now.Add(SeenTTL)
	if c.lock == token {
		c.lock, c.lockExp = "", time.Time{}
	}
	return c.fails[updateID], nil
}

// Schedule implements bot.Store: an existing schedule entry is left
// alone, as in the Redis store.
func (s *Store) Schedule(ctx context.Context, id bot.ChatID, t time.Time, gaps []flows.Gap) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("schedule chat %d: %w", id, err)
	}
	keys := make([]string, len(gaps))
	for i, g := range gaps {
		keys[i] = string(g.Lang) + "\t" + normaliseGap(g.Text)
	}
	now := s.lock()
	defer s.mu.Unlock()
	s.sendq.addNX(id, ms(t))
	s.countGaps(t, keys, now)
	return nil
}

// countGaps counts each question on t's day (UTC); the day's counts live
// for the retention period from the last one.
func (s *Store) countGaps(t time.Time, keys []string, now time.Time) {
	if len(keys) == 0 {
		return
	}
	day := t.UTC().Format(time.DateOnly)
	g := s.gaps[day]
	if g == nil || expired(g.exp, now) {
		g = &gapDay{counts: map[string]int{}}
		s.gaps[day] = g
	}
	for _, k := range keys {
		g.counts[k]++
	}
	g.exp = now.Add(s.retention)
}

// Due implements bot.Store.
func (s *Store) Due(ctx context.Context, now time.Time, max int, lease time.Duration) ([]bot.ChatID, time.Time, error) {
	if err := ctx.Err(); err != nil {
		return nil, time.Time{}, fmt.Errorf("claim due chats: %w", err)
	}
	s.lock()
	defer s.mu.Unlock()
	chats := s.sendq.claim(ms(now), ms(now)+lease.Milliseconds(), max)
	var next time.Time
	if first, ok := s.sendq.first(); ok {
		next = time.UnixMilli(first)
	}
	if chats == nil {
		chats = []bot.ChatID{}
	}
	return chats, next, nil
}

// Next implements bot.Store.
func (s *Store) Next(ctx context.Context, id bot.ChatID, now time.Time) (bot.OutMessage, int, time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return bot.OutMessage{}, 0, 0, fmt.Errorf("next message chat %d: %w", id, err)
	}
	clock := s.lock()
	defer s.mu.Unlock()
	c := s.get(id, clock)
	if c == nil {
		return bot.OutMessage{}, 0, 0, bot.ErrEmpty
	}
	if c.blocked {
		return bot.OutMessage{}, 0, 0, bot.ErrBlocked
	}
	if c.hasNext && c.next > ms(now) {
		return bot.OutMessage{}, 0, time.UnixMilli(c.next).Sub(now), nil
	}
	if c.gone != "" {
		// A tombstone no settle took: its sender is gone.
		c.dropGone()
	}
	if len(c.out) == 0 {
		s.tidy(id, c)
		return bot.OutMessage{}, 0, 0, bot.ErrEmpty
	}
	return cloneMessage(c.out[0]), len(c.out), 0, nil
}

// Settle implements bot.Store.
func (s *Store) Settle(ctx context.Context, id bot.ChatID, msgID string, now time.Time, interval time.Duration, last bool) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("settle chat %d: %w", id, err)
	}
	return s.settle(id, msgID, now, interval, last), nil
}

// settle is the Redis store's settle script: the message is removed only
// if it is still at the head (a repeat removes nothing else, and leaves
// the schedule alone); an interval keeps the chat quiet; a chat let go
// (last) leaves the schedule when its outbox is empty and is due now
// when not; a chat kept is due after the interval.
func (s *Store) settle(id bot.ChatID, msgID string, now time.Time, interval time.Duration, last bool) int {
	iv := interval.Milliseconds()
	if interval > 0 && iv == 0 {
		// Under a millisecond is still an interval, as in the Redis store.
		iv = 1
	}
	at := ms(now)
	clock := s.lock()
	defer s.mu.Unlock()
	c := s.get(id, clock)
	if c == nil && iv > 0 {
		c = s.ensure(id, clock)
	}
	n, popped := 0, false
	if c != nil {
		switch {
		case c.gone != "":
			// The tombstone is the head: it stands for msgID's message
			// or for another's.
			if c.gone == msgID {
				c.dropGone()
				popped = true
			}
		case len(c.out) > 0 && c.out[0].ID == msgID:
			c.popOut()
			popped = true
		}
		if iv > 0 {
			c.setNext(at+iv, time.Duration(iv+1000)*time.Millisecond, clock)
		}
		n = c.queued()
		s.tidy(id, c)
	}
	switch {
	case !popped:
		// A repeat: another sender may hold the chat by now.
	case last && n == 0:
		s.sendq.remove(id)
	case last:
		s.sendq.add(id, at+iv) // when the interval ends, as in Redis
	case iv > 0:
		s.sendq.addXX(id, at+iv)
	}
	return n
}

// Defer implements bot.Store: quiet until t, measured from the store's
// clock (the Redis store reads time.Now), and due then if scheduled.
func (s *Store) Defer(ctx context.Context, id bot.ChatID, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("defer chat %d: %w", id, err)
	}
	clock := s.lock()
	defer s.mu.Unlock()
	if d := ms(t) - ms(clock); d > 0 {
		c := s.ensure(id, clock)
		c.setNext(ms(t), time.Duration(d+1000)*time.Millisecond, clock)
	}
	s.sendq.addXX(id, ms(t))
	return nil
}

// Hold implements bot.Store.
func (s *Store) Hold(ctx context.Context, id bot.ChatID, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("hold chat %d: %w", id, err)
	}
	s.lock()
	defer s.mu.Unlock()
	s.sendq.addXX(id, ms(t))
	return nil
}

// MaybeSent implements bot.Store.
func (s *Store) MaybeSent(ctx context.Context, id bot.ChatID, msgID string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("mark maybe sent chat %d: %w", id, err)
	}
	clock := s.lock()
	defer s.mu.Unlock()
	c := s.ensure(id, clock)
	if c.uncertain == nil {
		c.uncertain = map[string]struct{}{}
	}
	_, seen := c.uncertain[msgID]
	c.uncertain[msgID] = struct{}{}
	c.uncertExp = clock.Add(s.retention)
	return !seen, nil
}

// Unreachable implements bot.Store.
func (s *Store) Unreachable(ctx context.Context, id bot.ChatID) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mark chat %d unreachable: %w", id, err)
	}
	clock := s.lock()
	defer s.mu.Unlock()
	c := s.ensure(id, clock)
	c.dropOut()
	c.blocked, c.blockedExp = true, clock.Add(s.retention)
	return nil
}

// Idle implements bot.Store: in one step here, so no message can slip in
// between; one that arrived keeps the chat scheduled, due now.
func (s *Store) Idle(ctx context.Context, id bot.ChatID) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("idle chat %d: %w", id, err)
	}
	clock := s.lock()
	defer s.mu.Unlock()
	s.sendq.remove(id)
	if c := s.get(id, clock); c != nil && c.queued() > 0 {
		s.sendq.addNX(id, ms(clock))
	}
	return nil
}

// Reserve implements bot.Store: the Redis store's reserve script, with
// the same whole microseconds.
func (s *Store) Reserve(ctx context.Context, now time.Time, rate float64, n int) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("rate limit: %w", err)
	}
	interval := max(int64(float64(time.Second.Microseconds())/rate), 1)
	n = max(n, 1)
	at := now.UnixMicro()
	clock := s.lock()
	defer s.mu.Unlock()
	tat := int64(0)
	if !expired(s.rateExp, clock) {
		tat = s.rate
	}
	tat = max(tat, at)
	next := tat + interval*int64(n)
	s.rate = next
	s.rateExp = clock.Add(time.Duration((next-at)/1000+1000) * time.Millisecond)
	return time.Duration(tat-at) * time.Microsecond, nil
}

// normaliseGap makes repeated questions count together: lower case,
// single spaces, bounded length (as the Redis store does).
func normaliseGap(s string) string {
	s = strings.Join(strings.Fields(strings.ToLower(s)), " ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200])
	}
	return s
}

// Gaps implements bot.Store.
func (s *Store) Gaps(ctx context.Context, now time.Time, days, limit int) ([]bot.GapCount, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read gaps: %w", err)
	}
	counts := map[string]int{}
	clock := s.lock()
	for d := range days {
		g := s.gaps[now.UTC().AddDate(0, 0, -d).Format(time.DateOnly)]
		if g == nil || expired(g.exp, clock) {
			continue
		}
		for k, n := range g.counts {
			counts[k] += n
		}
	}
	s.mu.Unlock()
	out := make([]bot.GapCount, 0, len(counts))
	for k, n := range counts {
		lang, q, _ := strings.Cut(k, "\t")
		out = append(out, bot.GapCount{Lang: knowledge.Lang(lang), Question: q, Count: n})
	}
	bot.SortGaps(out)
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// DeadLetter implements bot.Store.
func (s *Store) DeadLetter(ctx context.Context, rec bot.DeadLetter) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("dead-letter update %d: %w", rec.UpdateID, err)
	}
	rec.At = rec.At.Round(0)
	clock := s.lock()
	defer s.mu.Unlock()
	if expired(s.deadExp, clock) {
		s.dead = nil
	}
	s.dead = slices.Insert(s.dead, 0, rec)
	if len(s.dead) > deadMax {
		s.dead = s.dead[:deadMax:deadMax]
	}
	s.deadExp = clock.Add(s.retention)
	return nil
}

// DeadLetters returns the parked updates, newest first: what operators
// read from witaj:dead in Redis.
func (s *Store) DeadLetters(ctx context.Context) ([]bot.DeadLetter, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read dead letters: %w", err)
	}
	clock := s.lock()
	defer s.mu.Unlock()
	if expired(s.deadExp, clock) {
		return nil, nil
	}
	return slices.Clone(s.dead), nil
}

// Audit implements bot.Store.
func (s *Store) Audit(ctx context.Context, id bot.ChatID) ([]bot.AuditRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read audit chat %d: %w", id, err)
	}
	clock := s.lock()
	defer s.mu.Unlock()
	c := s.get(id, clock)
	if c == nil {
		return []bot.AuditRecord{}, nil
	}
	return append(make([]bot.AuditRecord, 0, len(c.audit)), c.audit...), nil
}

// Lead implements bot.Store.
func (s *Store) Lead(ctx context.Context, name, token string, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("lead %s: %w", name, err)
	}
	clock := s.lock()
	defer s.mu.Unlock()
	if l, ok := s.leaders[name]; ok && !expired(l.exp, clock) && l.token != token {
		return false, nil
	}
	s.leaders[name] = leader{token: token, exp: clock.Add(ttl.Truncate(time.Millisecond))}
	return true, nil
}

// Ping implements bot.Store: the store is in the process, always there.
func (s *Store) Ping(ctx context.Context) error { return ctx.Err() }

// Pending returns how many chats have messages waiting to be sent.
func (s *Store) Pending(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.lock()
	defer s.mu.Unlock()
	return int64(s.sendq.len()), nil
}
