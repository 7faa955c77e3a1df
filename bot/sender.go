package bot

import (
	"log/slog"
	"time"
)

// SendConfig tunes the sender.
type SendConfig struct {
	// Rate is the most messages per second to the platform overall, shared
	// by all replicas (Telegram: about 30).
	Rate float64
	// RatePerChat is the most messages per second to one chat (Telegram:
	// about 1).
	RatePerChat float64
	// Workers is how many chats one replica sends to at once.
	Workers int
	// Lease is how long a claimed chat is this sender's before another
	// replica may take it (a crashed sender's chats are free after it).
	Lease time.Duration
	// Poll is the longest an idle sender sleeps before looking for due
	// chats again. It wakes earlier when the service commits a reply
	// (Wake) or when the earliest scheduled chat is due; Poll only bounds
	// how late it sees replies committed by other replicas.
	Poll time.Duration
	// MaxAttempts is how often a message failing with a transient error is
	// tried before it is dropped and logged.
	MaxAttempts int
}

// DefaultSendConfig returns the production defaults. The overall rate is
// 25 messages a second, under Telegram's "not more than 30 … or so",
// which long messages reach sooner: the margin keeps a surge clear of
// 429s (checklist item 10).
func DefaultSendConfig() SendConfig {
	return SendConfig{Rate: 25, RatePerChat: 1, Workers: 16, Lease: 30 * time.Second, Poll: 2 * time.Second, MaxAttempts: 10}
}

// Sender delivers the Telegram outbox: the Drainer of chats' messages.
type Sender = Drainer[ChatID, OutMessage]

// NewSender returns the outbox's sender, delivering through migrants.
func NewSender(store Outbox, migrants Migrants, cfg SendConfig, log *slog.Logger, metrics *Metrics) *Sender {
	d := NewDrainer[ChatID, OutMessage](store, migrants.Send, func(m OutMessage) string { return m.ID }, store, DrainConfig{
		Platform: "Telegram", Rate: cfg.Rate, Interval: time.Duration(float64(time.Second) / cfg.RatePerChat),
		Workers: cfg.Workers, Lease: cfg.Lease, Poll: cfg.Poll, MaxAttempts: cfg.MaxAttempts,
	}, log)
	d.Follow(metrics, "telegram")
	if metrics != nil {
		d.OnResult = metrics.sent
	}
	return d
}
