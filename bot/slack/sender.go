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
// one per second per channel (Slack's limit for chat.postMessage),
// waiting out 429 Retry-After, retrying 5xx and network errors with
// backoff. The loop is bot's Drainer; this adapter posts an item and
// says what a failure means.
type Sender struct {
	*bot.Drainer[string, bot.SlackItem]
	cases   Posts
	api     Poster
	log     *slog.Logger
	now     func() time.Time
	metrics *bot.Metrics

	mu       sync.Mutex
	failedAt map[string]time.Time // start of the channel's last failed request
	down     bool
}

// Posts is what the sender needs of the case store: the queue, and the
// case threads and posts it records.
type Posts interface {
	SlackQueue() bot.Queue[string, bot.SlackItem]
	CaseOf(ctx context.Context, chat bot.ChatID) (bot.Case, error)
	SetThread(ctx context.Context, chat bot.ChatID, channel, ts string) error
	Posted(ctx context.Context, chat bot.ChatID, channel, ts string) error
	SetSlackDown(ctx context.Context, down bool) error
}

// SenderConfig tunes the Slack sender.
type SenderConfig struct {
	// Interval is the least time between two posts to one channel (Slack
	// allows about one per second).
	Interval time.Duration
	// Metrics, when set, counts failed requests.
	Metrics *bot.Metrics
}

// NewSender returns a sender posting through api.
func NewSender(cases Posts, api Poster, log *slog.Logger, cfg SenderConfig) *Sender {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	s := &Sender{cases: cases, api: api, log: log, now: time.Now, metrics: cfg.Metrics, failedAt: map[string]time.Time{}}
	s.Drainer = bot.NewDrainer(cases.SlackQueue(), s.deliver, func(it bot.SlackItem) string { return it.ID }, nil, bot.DrainConfig{
		Platform: "Slack", Interval: cfg.Interval, Workers: 8, Lease: 30 * time.Second, Poll: 2 * time.Second, MaxAttempts: 10,
	}, log)
	s.OnResult = s.count
	s.OnHealth = s.healthy
	return s
}

// deliver posts one item and translates Slack's answer into the
// drainer's terms.
func (s *Sender) deliver(ctx context.Context, ch string, item bot.SlackItem) error {
	started := s.now()
	err := s.send(ctx, ch, item)
	var limited *slack.RateLimitedError
	switch {
	case err == nil:
		s.failed(ch, time.Time{})
		return nil
	case permanent(err):
		s.failed(ch, time.Time{})
		return fmt.Errorf("%w: %w", bot.ErrRejected, err)
	case errors.As(err, &limited):
		return &bot.RetryAfterError{After: limited.RetryAfter}
	}
	// It may have reached Slack all the same (a 5xx or a timeout after
	// posting): the next attempt looks before it posts.
	s.failed(ch, started)
	return err
}

// count counts the attempts Slack did not take.
func (s *Sender) count(result string) {
	switch result {
	case "ok":
	case "rejected":
		s.metrics.SlackError("refused")
	case "rate_limited":
		s.metrics.SlackError("rate_limited")
	default:
		s.metrics.SlackError("failed")
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

// failed records when the channel's last request, which failed, started
// (zero: it did not fail).
func (s *Sender) failed(ch string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if at.IsZero() {
		delete(s.failedAt, ch)
		return
	}
	s.failedAt[ch] = at
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

func (s *Sender) warn(what string, err error) {
	if err != nil {
		s.log.Warn(what, "err", err)
	}
}
