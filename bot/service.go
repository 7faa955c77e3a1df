package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
)

// Migrants is the platform migrants write on (Telegram), as the service
// needs it.
type Migrants interface {
	Formatter
	// Send delivers one message. It returns *RetryAfterError, ErrBlocked,
	// ErrRejected, or another error for a failure worth retrying.
	Send(ctx context.Context, chat ChatID, m OutMessage) error
}

// Formatter turns a rendered message into platform messages within the
// platform's limits (their IDs are set by the caller).
type Formatter interface {
	Format(m Message) []OutMessage
}

// Consultants is the consultants' side (Slack), as the service needs it.
// A service without consultants tells users none can be reached.
type Consultants interface {
	// Open opens a case for the chat — at most one open case per chat, so
	// a second call returns the open one.
	Open(ctx context.Context, chat ChatID, e flows.Escalate) (Opened, error)
	// Relay passes a user's message to the case's thread. delayed reports
	// that consultants will not see it soon (Slack is failing): the user
	// is told it waits.
	// key identifies this relay (chat, update and action): relaying with
	// the same key again, as a redelivered update does, posts nothing more.
	Relay(ctx context.Context, chat ChatID, key string, r flows.Relay) (delayed bool, err error)
	// Close closes the case at the user's request.
	Close(ctx context.Context, chat ChatID, c flows.CloseCase) error
	// Rate records the user's rating of a closed case.
	Rate(ctx context.Context, chat ChatID, r flows.Rate) error
	// Forget deletes or redacts what the consultants' side keeps of the chat.
	Forget(ctx context.Context, chat ChatID) error
}

// Opened describes a case just opened, for the user.
type Opened struct {
	CaseID string
	// Ahead is the number of open cases before it.
	Ahead int
	// AfterHours: consultants are off duty; they work Hours and are back
	// at Back, in their time zone.
	AfterHours bool
	Hours      flows.Hours
	Back       time.Time
}

// FAQ is the answering part of the service for one knowledge base. The
// service swaps it as a whole when the FAQ reloads, so every update is
// handled by one consistent engine and renderer.
type FAQ struct {
	Engine *flows.Engine
	Render *Renderer
}

// Config tunes the service.
type Config struct {
	// Lease is how long a worker may hold a chat before another may take
	// it over (a crashed worker's chat is free again after it).
	Lease time.Duration
	// BusyTimeout is how long Handle waits for a chat another worker holds.
	BusyTimeout time.Duration
	// MaxAttempts is how often an update that fails (a panic) is tried
	// before it is parked as a dead letter.
	MaxAttempts int
}

// DefaultConfig returns production defaults.
func DefaultConfig() Config {
	return Config{Lease: 30 * time.Second, BusyTimeout: 5 * time.Second, MaxAttempts: 3}
}

// Service handles updates: it runs the engine on the chat's stored session
// and stores the outcome — new session and outgoing messages — durably and
// exactly once. Sending is the Sender's job. Safe for concurrent use.
type Service struct {
	store       Sessions
	migrants    Migrants
	consultants Consultants
	faq         atomic.Pointer[FAQ]
	cfg         Config
	log         *slog.Logger
	metrics     *Metrics
	now         func() time.Time
	// wake, when set, is signalled after a commit that queued messages,
	// so a local sender starts at once.
	wake  chan<- struct{}
	chats *chatLocks
	// handoff, when set with a store that is a Committer, sends a reply
	// from the replica that committed it.
	handoff Handoff
}

// NewService returns a service. consultants, metrics and wake may be nil.
func NewService(store Sessions, migrants Migrants, consultants Consultants, faq *FAQ, cfg Config, log *slog.Logger, metrics *Metrics, wake chan<- struct{}) *Service {
	s := &Service{store: store, migrants: migrants, consultants: consultants, cfg: cfg, log: log, metrics: metrics, now: time.Now, wake: wake}
	s.chats = newChatLocks(func(chat ChatID, token string) {
		// A lock kept for an update that gave up waiting: free it, or the
		// chat's next update (perhaps at another replica) waits out the
		// lease.
		go s.releaseLock(context.Background(), chat, token)
	})
	s.faq.Store(faq)
	return s
}

// HandOff has a sender in this process take each chat whose commit
// claimed its lane: the reply goes out without the sender asking the
// store which chats are due and what they wait for. Call before serving.
func (s *Service) HandOff(h Handoff) { s.handoff = h }

// UseFAQ switches to another knowledge base; updates in flight finish on
// the old one.
func (s *Service) UseFAQ(f *FAQ) { s.faq.Store(f) }

// CurrentFAQ returns the FAQ being served.
func (s *Service) CurrentFAQ() *FAQ { return s.faq.Load() }

// Handle processes one update. It returns nil once the update's outcome
// is stored (or it was handled before): only then may the platform be told
// the update was received. ErrBusy means the chat stayed locked by another
// worker; any error means "deliver the update again".
func (s *Service) Handle(ctx context.Context, u Update) error {
	start := s.now()
	defer func() { s.metrics.handled(time.Since(start).Seconds()) }()
	if !u.HasEvent && u.Control == NoControl && u.Reply == "" {
		return nil
	}
	// This replica's updates of the chat go one at a time; the wait
	// counts against BusyTimeout like waiting for the Redis lock.
	turnCtx, cancel := context.WithTimeout(ctx, s.cfg.BusyTimeout)
	turn, err := s.chats.acquire(turnCtx, u.Chat, u.ID)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return ErrBusy
	}
	defer turn.release()
	token, session, continued := newToken(), flows.Session{}, false
	if k := turn.take(); k != nil {
		// The last update of the chat kept the lock for this one.
		token = k.token
		switch {
		case k.update != u.ID || time.Until(k.until) < s.cfg.Lease/2:
			// Kept for another (which gave up), or for too long:
			// begin as usual, with the token that holds the lock.
		case k.dup:
			s.releaseLock(ctx, u.Chat, token)
			return s.duplicate(ctx, u)
		default:
			session, continued = k.session, true
		}
	}
	if !continued {
		begun, err := s.begin(ctx, u, token)
		if errors.Is(err, ErrDuplicate) {
			return s.duplicate(ctx, u)
		}
		if err != nil {
			return err
		}
		session = begun.Session
	}
	s.metrics.update(kindOf(u))
	c, gaps, sum, err := s.decide(ctx, session, u)
	if err != nil {
		return s.failed(ctx, u, token, session, err)
	}
	c.Gaps = gaps
	done, err := s.commit(ctx, turn, token, c)
	if err != nil {
		if errors.Is(err, ErrLeaseLost) {
			return ErrBusy
		}
		// Redis may be briefly unreachable: free the chat for the
		// redelivery rather than leave it locked for the whole lease.
		s.releaseLock(ctx, u.Chat, token)
		return err
	}
	if done.Claimed {
		s.handOff(ctx, u.Chat, c.Out)
	} else {
		s.afterCommit(c)
	}
	if u.HasEvent {
		s.metrics.handledIn(c.Session.Lang)
		// One line per update, for operators: what was decided, never
		// what was written.
		s.log.Info("update handled", "kind", kindOf(u), "decision", sum.decision, "topic", sum.topic,
			"lang", c.Session.Lang, "ms", time.Since(start).Milliseconds())
	}
	return nil
}

// duplicate answers an update handled before, but perhaps not
// acknowledged because putting its messages on the send schedule failed:
// it schedules again (a no-op when they are), and acknowledges only once
// that worked.
func (s *Service) duplicate(ctx context.Context, u Update) error {
	s.metrics.update("duplicate")
	if err := s.store.Schedule(ctx, u.Chat, s.now(), nil); err != nil {
		return err
	}
	s.signal()
	return nil
}

// releaseLock gives up the chat's Redis lock held with token.
func (s *Service) releaseLock(ctx context.Context, chat ChatID, token string) {
	if err := s.store.Release(context.WithoutCancel(ctx), chat, token); err != nil {
		// Redis is likely down; the caller logs that. The lock expires
		// with its lease.
		s.log.Debug("release chat", "err", err)
	}
}

// commit stores the outcome. Where the store can, it claims the chat's
// lane for the local sender, and keeps the chat's lock for the update
// waiting next in this replica (which then needs no Begin). A commit that
// fails for another reason than a lost lock is tried once more at once:
// its reply may have been lost on the way back, and a retry learns
// whether the first try claimed the lane, which would otherwise wait for
// the claim to run out.
func (s *Service) commit(ctx context.Context, t *turn, token string, c Commit) (Committed, error) {
	cm, ok := s.store.(Committer)
	if !ok {
		return Committed{}, s.store.Commit(ctx, t.chat, token, c)
	}
	var o CommitOptions
	if s.handoff != nil && len(c.Out) > 0 {
		o.Claim = s.handoff.Claim()
	}
	if next, ok := t.next(); ok && !c.Forget {
		o.Keep, o.Next = s.cfg.Lease, next
	}
	done, err := cm.CommitWith(ctx, t.chat, token, c, o)
	if err != nil && !errors.Is(err, ErrLeaseLost) && ctx.Err() == nil {
		o.Retry = true
		done, err = cm.CommitWith(ctx, t.chat, token, c, o)
	}
	if err == nil && done.Kept {
		t.keep(&keptLock{token: token, session: c.Session, until: time.Now().Add(o.Keep), update: o.Next, dup: done.NextSeen})
	}
	return done, err
}

// handOff gives a claimed lane to the local sender, or back to the
// schedule when no worker is free.
func (s *Service) handOff(ctx context.Context, chat ChatID, out []OutMessage) {
	if s.handoff.Take(chat, out[0], len(out)) {
		return
	}
	if err := s.store.(Committer).Hold(context.WithoutCancel(ctx), chat, s.now()); err != nil {
		// The claim runs out with its lease; a sender takes the lane then.
		s.log.Debug("give a claimed chat back to the schedule", "err", err)
	}
	s.signal()
}

// summary is what the log says of an update.
type summary struct{ decision, topic string }

// begin locks the chat, waiting a little while another worker holds it:
// two updates of one chat reaching two replicas are handled in turn.
func (s *Service) begin(ctx context.Context, u Update, token string) (Begun, error) {
	deadline := time.Now().Add(s.cfg.BusyTimeout)
	wait := 5 * time.Millisecond
	for {
		b, err := s.store.Begin(ctx, u.Chat, u.ID, token, s.cfg.Lease)
		if !errors.Is(err, ErrBusy) || time.Now().After(deadline) {
			return b, err
		}
		select {
		case <-ctx.Done():
			return Begun{}, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// failed records a failed attempt; after MaxAttempts the update is parked
// and the user gets an apology instead of silence.
func (s *Service) failed(ctx context.Context, u Update, token string, session flows.Session, cause error) error {
	n, err := s.store.Fail(ctx, u.Chat, u.ID, token)
	if err != nil {
		return errors.Join(cause, err)
	}
	s.log.Error("update failed", "update", u.ID, "attempt", n, "err", cause)
	if n < s.cfg.MaxAttempts {
		return cause
	}
	s.metrics.deadLetter()
	if err := s.store.DeadLetter(ctx, DeadLetter{Chat: u.Chat, UpdateID: u.ID, Error: cause.Error(), At: s.now()}); err != nil {
		return err
	}
	if _, err := s.store.Begin(ctx, u.Chat, u.ID, token, s.cfg.Lease); err != nil {
		return err
	}
	c := Commit{UpdateID: u.ID, Session: session, Now: s.now(), Out: s.apology(u.ID, session.Lang)}
	if err := s.store.Commit(ctx, u.Chat, token, c); err != nil {
		return err
	}
	s.afterCommit(c)
	return nil
}

// apology renders "something went wrong"; if even that fails (the bug is
// in rendering), the update is parked without a reply.
func (s *Service) apology(updateID int64, lang knowledge.Lang) (out []OutMessage) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("cannot render the apology", "update", updateID, "panic", r)
			out = nil
		}
	}()
	f := s.faq.Load()
	return s.format(updateID, []Message{f.Render.Reply(lang, flows.Reply{Key: "error.generic"})})
}

// afterCommit wakes the local sender for the reply the commit scheduled.
func (s *Service) afterCommit(c Commit) {
	if len(c.Out) > 0 {
		s.signal()
	}
}

// signal wakes a local sender, if there is one.
func (s *Service) signal() {
	if s.wake == nil {
		return
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// decide runs the engine and turns its actions into a commit. A panic in
// the engine, the renderer or an adapter becomes an error, so one bad
// update cannot stop the service.
func (s *Service) decide(ctx context.Context, session flows.Session, u Update) (c Commit, gaps []flows.Gap, sum summary, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic handling update %d: %v\n%s", u.ID, r, debug.Stack())
		}
	}()
	now := s.now()
	f := s.faq.Load()
	c = Commit{UpdateID: u.ID, Session: session, Now: now, Control: u.Control}
	var actions []flows.Action
	if u.HasEvent {
		c.Session, actions = f.Engine.Step(session, u.Event, now)
		s.countVote(f, u.Event)
	}
	if u.Reply != "" {
		actions = append(actions, flows.Reply{Key: u.Reply, Lang: replyLang(c.Session, u)})
	}
	p := performer{s: s, ctx: ctx, chat: u.Chat, updateID: u.ID, f: f, now: now}
	c.Session, err = p.perform(c.Session, actions)
	if err != nil {
		return Commit{}, nil, summary{}, err
	}
	c.Out = s.format(u.ID, p.messages)
	c.Audit, c.Forget = p.audit, p.forget
	c.Follow, c.Unfollow = subsDiff(session, c.Session, c.Forget)
	sum = summary{p.decision, p.topic}
	if u.HasEvent {
		c.Stats = statsOf(session, c.Session, sum, p.topics, now)
	}
	return c, p.gaps, sum, nil
}

// countVote counts a 👍/👎 press by the topic's category (never by
// person), for coordinators.
func (s *Service) countVote(f *FAQ, ev flows.Event) {
	if ev.Kind != flows.ButtonPress {
		return
	}
	id, up, ok := flows.FeedbackOf(ev.Data)
	if !ok {
		return
	}
	if e, found := f.Engine.KB().Entry(id); found {
		s.metrics.Vote(e.Category, up)
	}
}

// replyLang picks the language of a reply to an update that skipped the
// engine (a group chat): the session's, else the app's.
func replyLang(s flows.Session, u Update) knowledge.Lang {
	if s.Lang != "" {
		return s.Lang
	}
	if l := knowledge.Lang(u.Event.LangHint); l.Known() {
		return l
	}
	return knowledge.EN
}

// format turns rendered messages into platform messages with IDs that are
// stable across retries of the same update.
func (s *Service) format(updateID int64, msgs []Message) []OutMessage {
	var out []OutMessage
	for _, m := range msgs {
		for _, om := range s.migrants.Format(m) {
			om.ID = fmt.Sprintf("%d-%d", updateID, len(out))
			out = append(out, om)
		}
	}
	return out
}

func kindOf(u Update) string {
	switch {
	case u.Control == Blocked:
		return "blocked"
	case u.Control == Unblocked:
		return "unblocked"
	case !u.HasEvent:
		return "other"
	}
	switch u.Event.Kind {
	case flows.TextMessage:
		return "text"
	case flows.CommandMessage:
		return "command"
	case flows.ButtonPress:
		return "button"
	case flows.UnsupportedMessage:
		return "unsupported"
	}
	return "case"
}

func newToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
