package bot

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the service's Prometheus metrics. A nil *Metrics records
// nothing, so tests and the console need none.
type Metrics struct {
	Updates       *prometheus.CounterVec // updates by kind
	Decisions     *prometheus.CounterVec // answers by decision (answer, suggest, none, danger, button)
	Handling      prometheus.Histogram   // seconds to handle an update
	Sent          *prometheus.CounterVec // messages sent, by result
	PlatformErrs  *prometheus.CounterVec // platform errors by code
	OutboxDepth   prometheus.Gauge       // chats with messages waiting
	FAQVersion    *prometheus.GaugeVec   // 1 for the knowledge-base version in use
	WebhookDenied prometheus.Counter     // webhook requests with a wrong secret
	DeadLetters   prometheus.Counter     // updates parked after repeated failures
	Broadcasts    *prometheus.CounterVec // broadcast recipients and messages, by result
	BroadcastLeft *prometheus.GaugeVec   // recipients left per running broadcast
}

// NewMetrics registers the metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Updates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "witaj_updates_total", Help: "Updates handled, by kind.",
		}, []string{"kind"}),
		Decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "witaj_answers_total", Help: "Replies to questions, by the matcher's decision.",
		}, []string{"decision"}),
		Handling: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "witaj_update_seconds", Help: "Time to handle one update, from receipt to commit.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		Sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "witaj_messages_sent_total", Help: "Outgoing messages, by result.",
		}, []string{"result"}),
		PlatformErrs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "witaj_telegram_errors_total", Help: "Errors from the Telegram Bot API, by code.",
		}, []string{"code"}),
		OutboxDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "witaj_outbox_chats", Help: "Chats with messages waiting to be sent.",
		}),
		FAQVersion: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "witaj_faq_info", Help: "1 for the knowledge-base version being served.",
		}, []string{"version"}),
		WebhookDenied: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "witaj_webhook_denied_total", Help: "Webhook requests refused for a missing or wrong secret.",
		}),
		DeadLetters: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "witaj_dead_letters_total", Help: "Updates parked after failing repeatedly.",
		}),
		Broadcasts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "witaj_broadcast_total", Help: "Broadcast recipients (queued, duplicate, gone, unfollowed, unreachable) and messages (sent, failed), by result.",
		}, []string{"result"}),
		BroadcastLeft: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "witaj_broadcast_remaining", Help: "Recipients not yet handled, per running broadcast (alert or announcement).",
		}, []string{"broadcast"}),
	}
	reg.MustRegister(m.Updates, m.Decisions, m.Handling, m.Sent, m.PlatformErrs, m.OutboxDepth, m.FAQVersion, m.WebhookDenied, m.DeadLetters, m.Broadcasts, m.BroadcastLeft)
	return m
}

func (m *Metrics) update(kind string) {
	if m != nil {
		m.Updates.WithLabelValues(kind).Inc()
	}
}

func (m *Metrics) decision(d string) {
	if m != nil {
		m.Decisions.WithLabelValues(d).Inc()
	}
}

func (m *Metrics) handled(seconds float64) {
	if m != nil {
		m.Handling.Observe(seconds)
	}
}

func (m *Metrics) sent(result string) {
	if m != nil {
		m.Sent.WithLabelValues(result).Inc()
	}
}

func (m *Metrics) deadLetter() {
	if m != nil {
		m.DeadLetters.Inc()
	}
}

// Denied counts a webhook request refused for its secret.
func (m *Metrics) Denied() {
	if m != nil {
		m.WebhookDenied.Inc()
	}
}

// PlatformError counts an error of the migrants' platform by code.
func (m *Metrics) PlatformError(code string) {
	if m != nil {
		m.PlatformErrs.WithLabelValues(code).Inc()
	}
}

// ServingFAQ records the knowledge-base version in use.
func (m *Metrics) ServingFAQ(version string) {
	if m != nil {
		m.FAQVersion.Reset()
		m.FAQVersion.WithLabelValues(version).Set(1)
	}
}

func (m *Metrics) broadcast(result string) {
	if m != nil {
		m.Broadcasts.WithLabelValues(result).Inc()
	}
}
