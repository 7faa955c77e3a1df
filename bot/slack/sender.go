package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/witaj/witaj/bot"
)

// Poster is the part of slack-go's client the sender uses.
type Poster interface {
	PostMessageContext(ctx context.Context, channel string, options ...slack.MsgOption) (string, string, error)
	UpdateMessageContext(ctx context.Context, channel, ts string, options ...slack.MsgOption) (string, string, string, error)
	DeleteMessageContext(ctx context.Context, channel, ts string) (string, string, error)
	GetConversationRepliesContext(ctx context.Context, params *slack.GetConversationRepliesParameters) ([]slack.Message, bool, string, error)
	GetConversationHistoryContext(ctx context.Context, params *slack.GetConversationHistoryParameters) (*slack.GetConversationHistoryResponse, error)
}

// Sender delivers the Slack queue: each channel's items in order, about
// one per second per channel (Slack's limit for chat.postMessage), waiting
// out 429 Retry-After, retrying 5xx and network errors with backoff.
type Sender struct {
	cases bot.CaseStore
	api   Poster
	log   *slog.Logger
	now   func() time.Time
	poll  time.Duration
	// Interval is the least time between two posts to one channel (Slack
	// allows about one per second).
	Interval time.Duration
	// Metrics, when set, counts failed requests.
	Metrics *bot.Metrics

	mu       sync.Mutex
	attempts map[string]int
	failedAt map[string]time.Time // start of the channel's last failed request
	down     bool
	redis    *bot.Outage // the queue's store, logged once per outage
	// idlePoll is the longest an idle sender waits before looking again
	// (for items another replica queued); wake cuts it short for items
	// queued here.
	idlePoll time.Duration
	wake     chan struct{}
}

// Wake returns the channel that tells the sender items were queued.
func (s *Sender) Wake() chan<- struct{} { return s.wake }

// NewSender returns a sender posting through api.
func NewSender(cases bot.CaseStore, api Poster, log *slog.Logger) *Sender {
	return &Sender{cases: cases, api: api, log: log, now: time.Now, Interval: time.Second, poll: 50 * time.Millisecond,
		idlePoll: 2 * time.Second, wake: make(chan struct{}, 1),
		attempts: map[string]int{}, failedAt: map[string]time.Time{}, redis: bot.NewOutage("Redis (Slack queue)", log)}
}

// Run sends until ctx ends.
func (s *Sender) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		channels, next, err := s.cases.SlackDue(ctx, s.now(), 8, 30*time.Second)
		wait := s.poll // while channels are being sent
		switch {
		case err != nil && ctx.Err() == nil:
			wait = s.redis.Fail(err)
		case err == nil:
			s.redis.OK()
			if len(channels) == 0 {
				// Idle: until the earliest deferred channel, a wake-up
				// or idlePoll, not every poll.
				wait = s.idlePoll
				if !next.IsZero() {
					wait = min(wait, max(next.Sub(s.now()), s.poll))
				}
			}
		}
		for _, ch := range channels {
			wg.Go(func() { s.sendChannel(ctx, ch) })
		}
		t.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

// sendChannel sends the channel's first due item and schedules the rest.
func (s *Sender) sendChannel(ctx context.Context, ch string) {
	item, wait, err := s.cases.SlackNext(ctx, ch, s.now())
	switch {
	case errors.Is(err, bot.ErrEmpty):
		s.warn("idle slack channel", s.cases.SlackIdle(ctx, ch))
		return
	case err != nil:
		s.warn("read slack queue", err)
		return
	case wait > 0:
		s.warn("defer slack channel", s.cases.SlackDefer(ctx, ch, s.now().Add(wait)))
		return
	}
	started := s.now()
	err = s.send(ctx, ch, item)
	running := ctx
	ctx = context.WithoutCancel(ctx) // record the outcome even when stopping
	var limited *slack.RateLimitedError
	switch {
	case err == nil || permanent(err):
		if err != nil {
			s.log.Error("slack refused a request; dropped", "kind", item.Kind, "err", err)
			s.Metrics.SlackError("refused")
		}
		s.healthy(ctx, true)
		s.resetAttempts(ch)
		var left int
		err := bot.Insist(running, func(ctx context.Context) (err error) {
			left, err = s.cases.SlackSent(ctx, ch, item.ID, s.now(), s.Interval)
			return err
		})
		if err != nil {
			s.warn("mark slack item sent", err)
			return
		}
		if left == 0 {
			s.warn("idle slack channel", s.cases.SlackIdle(ctx, ch))
			return
		}
		s.warn("pace slack channel", s.cases.SlackDefer(ctx, ch, s.now().Add(s.Interval)))
	case errors.As(err, &limited):
		s.Metrics.SlackError("rate_limited")
		s.healthy(ctx, false)
		s.warn("defer slack channel", s.cases.SlackDefer(ctx, ch, s.now().Add(limited.RetryAfter)))
	default:
		s.Metrics.SlackError("failed")
		s.healthy(ctx, false)
		n := s.failAttempt(ch, started)
		s.log.Warn("slack request failed; will retry", "attempt", n, "err", err)
		s.warn("defer slack channel", s.cases.SlackDefer(ctx, ch, s.now().Add(bot.Backoff(n))))
	}
}

// send performs one queued request.
func (s *Sender) send(ctx context.Context, ch string, item bot.SlackItem) error {
	blocks, err := decodeBlocks(item.Blocks)
	if err != nil {
		return permanentError{err}
	}
	opts := []slack.MsgOption{slack.MsgOptionText(item.Text, false), slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl()}
	if len(blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(blocks...))
	}
	switch item.Kind {
	case bot.SlackParent, bot.SlackNotice:
		if item.Kind == bot.SlackParent {
			if _, err := s.cases.CaseOf(ctx, item.Chat); errors.Is(err, bot.ErrNoCase) {
				return permanentError{errors.New("case forgotten before its parent was posted")}
			}
		}
		ts := ""
		if at := s.failedBefore(ch); !at.IsZero() {
			// The failed attempt may have posted it after all (Slack
			// answered 500 after posting): find it rather than post twice.
			ts = s.alreadyInChannel(ctx, ch, item.Text, at.Add(-clockSkew))
		}
		if ts == "" {
			_, posted, err := s.api.PostMessageContext(ctx, ch, opts...)
			if err != nil {
				return err
			}
			ts = posted
		}
		if item.Chat != 0 {
			if item.Kind == bot.SlackParent {
				err := s.cases.SetThread(ctx, item.Chat, ch, ts)
				if errors.Is(err, bot.ErrNoCase) {
					// /forget came while this was being posted: take it down.
					_, _, derr := s.api.DeleteMessageContext(ctx, ch, ts)
					s.warn("delete the parent of a forgotten case", derr)
					return nil
				}
				s.warn("record case thread", err)
			}
			s.warn("record slack post", s.cases.Posted(ctx, item.Chat, ch, ts))
		}
		return nil
	case bot.SlackReply:
		c, err := s.cases.CaseOf(ctx, item.Chat)
		if err != nil || c.ThreadTS == "" {
			return permanentError{errors.New("case thread gone (forgotten?)")}
		}
		if at := s.failedBefore(ch); !at.IsZero() && s.alreadyInThread(ctx, ch, c.ThreadTS, item.Text, at.Add(-clockSkew)) {
			// The failed attempt reached Slack after all (a timeout or a
			// 5xx after posting): posting again would duplicate it.
			return nil
		}
		_, ts, err := s.api.PostMessageContext(ctx, ch, append(opts, slack.MsgOptionTS(c.ThreadTS))...)
		if err == nil {
			s.warn("record slack post", s.cases.Posted(ctx, item.Chat, ch, ts))
		}
		return err
	case bot.SlackUpdate:
		c, err := s.cases.CaseOf(ctx, item.Chat)
		if err != nil || c.ThreadTS == "" {
			return permanentError{errors.New("case thread gone (forgotten?)")}
		}
		_, _, _, err = s.api.UpdateMessageContext(ctx, ch, c.ThreadTS, opts...)
		return err
	case bot.SlackDelete:
		_, _, err := s.api.DeleteMessageContext(ctx, ch, item.TS)
		return err
	}
	return permanentError{errors.New("unknown slack item kind " + string(item.Kind))}
}

// failedBefore returns when the channel's last request, which failed,
// started; zero when it did not fail.
func (s *Sender) failedBefore(ch string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failedAt[ch]
}

// clockSkew allows for Slack's clock running behind ours when comparing a
// message's ts with the time of a failed attempt.
const clockSkew = 5 * time.Second

// alreadyInThread reports whether the thread has the bot's message with
// text posted since since. Slack has no idempotency key, so after an
// ambiguous failure (a timeout, a 5xx after posting) this is how a retry
// avoids posting twice.
func (s *Sender) alreadyInThread(ctx context.Context, ch, thread, text string, since time.Time) bool {
	msgs, _, _, err := s.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
		ChannelID: ch, Timestamp: thread, Oldest: fmt.Sprintf("%d.000000", since.Unix()), Limit: 200})
	if err != nil {
		return false
	}
	for _, m := range msgs {
		if m.BotID != "" && m.Text == text && m.Timestamp != thread && tsAfter(m.Timestamp, since) {
			return true
		}
	}
	return false
}

// alreadyInChannel returns the ts of the bot's top-level message with
// text posted since since, or "". A case's parent says its case id, so
// its text is unique.
func (s *Sender) alreadyInChannel(ctx context.Context, ch, text string, since time.Time) string {
	h, err := s.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
		ChannelID: ch, Oldest: fmt.Sprintf("%d.000000", since.Unix()), Limit: 200})
	if err != nil {
		return ""
	}
	for _, m := range h.Messages {
		if m.BotID != "" && m.Text == text && tsAfter(m.Timestamp, since) {
			return m.Timestamp
		}
	}
	return ""
}

// tsAfter reports whether a Slack ts ("1795444233.000100") is at or after t.
func tsAfter(ts string, t time.Time) bool {
	sec, _, _ := strings.Cut(ts, ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	return err == nil && n >= t.Unix()
}

// permanentError is a failure that retrying cannot fix.
type permanentError struct{ error }

// permanent reports errors not worth retrying: Slack answered, and said
// no (channel_not_found, message_not_found, invalid_blocks …).
func permanent(err error) bool {
	var pe permanentError
	var se slack.SlackErrorResponse
	return errors.As(err, &pe) || errors.As(err, &se)
}

// healthy records whether Slack works, shared through the store so that
// every replica can tell migrants their message waits.
func (s *Sender) healthy(ctx context.Context, ok bool) {
	s.mu.Lock()
	changed := s.down == ok
	s.down = !ok
	s.mu.Unlock()
	if changed {
		s.warn("record slack health", s.cases.SetSlackDown(ctx, !ok))
	}
}

func (s *Sender) failAttempt(ch string, started time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts[ch]++
	s.failedAt[ch] = started
	return s.attempts[ch]
}

func (s *Sender) resetAttempts(ch string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.attempts, ch)
	delete(s.failedAt, ch)
}

func (s *Sender) warn(what string, err error) {
	if err != nil {
		s.log.Warn(what, "err", err)
	}
}
