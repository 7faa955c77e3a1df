package bot

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/witaj/witaj/knowledge"
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

	// What happens to people, for coordinators; no label identifies
	// anyone.
	Cases         *prometheus.CounterVec // case events: opened, urgent, claimed, resolved
	TimeToClaim   prometheus.Histogram   // seconds from a case's opening to its claim
	TimeToResolve prometheus.Histogram   // seconds from a case's opening to its resolution
	Feedback      *prometheus.CounterVec // 👍/👎 on answers, by category and vote
	SlackQueue    prometheus.Gauge       // Slack channels with requests waiting
	SlackErrors   *prometheus.CounterVec // failed Slack requests, by kind
	FAQRefused    prometheus.Counter     // FAQ reloads refused for errors
	TopicsOverdue prometheus.Gauge       // topics past their review_by date
	PollFailures  prometheus.Counter     // failed getUpdates calls
	Outages       *prometheus.CounterVec // dependencies becoming unreachable, by dependency
	Down          *prometheus.GaugeVec   // 1 while a dependency is unreachable
	ByLanguage    *prometheus.CounterVec // updates handled, by the chat's language
	Topics        *prometheus.CounterVec // answers shown, by topic id
	CasesWaiting  prometheus.Gauge       // cases waiting unclaimed
	Ready         prometheus.Gauge       // 1 while the replica is ready (as /readyz)
	OldestWaiting *prometheus.GaugeVec   // seconds the oldest unclaimed case has waited, by urgency
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
		Cases: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "witaj_cases_total", Help: "Consultant cases by event: opened, urgent (opened as urgent), claimed, resolved.",
		}, []string{"event"}),
		TimeToClaim: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "witaj_case_claim_seconds", Help: "Time from a case's opening to a consultant taking it.",
			Buckets: []float64{60, 300, 900, 1800, 3600, 4 * 3600, 8 * 3600, 24 * 3600, 72 * 3600},
		}),
		TimeToResolve: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "witaj_case_resolve_seconds", Help: "Time from a case's opening to its resolution.",
			Buckets: []float64{300, 1800, 3600, 4 * 3600, 8 * 3600, 24 * 3600, 72 * 3600, 7 * 24 * 3600},
		}),
		Feedback: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "witaj_feedback_total", Help: "Votes on answers (up, down), by FAQ category.",
		}, []string{"category", "vote"}),
		SlackQueue: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "witaj_slack_queue_channels", Help: "Slack channels with requests waiting to be posted.",
		}),
		SlackErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "witaj_slack_errors_total", Help: "Failed Slack requests, by kind (failed: retried; refused: dropped; rate_limited).",
		}, []string{"kind"}),
		FAQRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "witaj_faq_reload_refused_total", Help: "FAQ reloads refused because the files had errors (the previous FAQ keeps serving).",
		}),
		TopicsOverdue: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "witaj_faq_topics_overdue", Help: "Topics of the FAQ being served whose review_by date has passed.",
		}),
		PollFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "witaj_poll_failures_total", Help: "Failed getUpdates calls (polling mode).",
		}),
		Outages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "witaj_outages_total", Help: "Times a dependency became unreachable, by dependency.",
		}, []string{"dependency"}),
		Down: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "witaj_dependency_down", Help: "1 while a dependency is unreachable from a loop of this replica.",
		}, []string{"dependency"}),
		ByLanguage: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "witaj_updates_by_language_total", Help: "Updates handled, by the chat's language.",
		}, []string{"lang"}),
		Topics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "witaj_topic_answers_total", Help: "Answers shown, by FAQ topic (a closed list of about 45).",
		}, []string{"topic"}),
		Ready: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "witaj_ready", Help: "1 while this replica is ready (FAQ loaded, Redis reachable, started), as /readyz.",
		}),
		CasesWaiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "witaj_cases_waiting", Help: "Consultant cases waiting unclaimed.",
		}),
		OldestWaiting: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "witaj_case_oldest_waiting_seconds", Help: "How long the oldest unclaimed case has waited (urgent: only urgent cases).",
		}, []string{"urgent"}),
	}
	reg.MustRegister(m.ByLanguage, m.Topics, m.CasesWaiting, m.OldestWaiting, m.Ready)
	reg.MustRegister(m.Updates, m.Decisions, m.Handling, m.Sent, m.PlatformErrs, m.OutboxDepth, m.FAQVersion, m.WebhookDenied, m.DeadLetters, m.Broadcasts, m.BroadcastLeft,
		m.Cases, m.TimeToClaim, m.TimeToResolve, m.Feedback, m.SlackQueue, m.SlackErrors, m.FAQRefused, m.TopicsOverdue, m.PollFailures, m.Outages, m.Down)
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

// CaseOpened counts a new case.
func (m *Metrics) CaseOpened(urgent bool) {
	if m == nil {
		return
	}
	m.Cases.WithLabelValues("opened").Inc()
	if urgent {
		m.Cases.WithLabelValues("urgent").Inc()
	}
}

// CaseClaimed counts a claim, wait after the case opened.
func (m *Metrics) CaseClaimed(wait time.Duration) {
	if m != nil {
		m.Cases.WithLabelValues("claimed").Inc()
		m.TimeToClaim.Observe(wait.Seconds())
	}
}

// CaseResolved counts a resolution, age after the case opened.
func (m *Metrics) CaseResolved(age time.Duration) {
	if m != nil {
		m.Cases.WithLabelValues("resolved").Inc()
		m.TimeToResolve.Observe(age.Seconds())
	}
}

// SlackError counts a failed Slack request.
func (m *Metrics) SlackError(kind string) {
	if m != nil {
		m.SlackErrors.WithLabelValues(kind).Inc()
	}
}

// Vote counts 👍 or 👎 on an answer of category c.
func (m *Metrics) Vote(c knowledge.Category, up bool) {
	if m == nil {
		return
	}
	vote := "down"
	if up {
		vote = "up"
	}
	m.Feedback.WithLabelValues(string(c), vote).Inc()
}

// ReloadRefused counts a refused FAQ reload.
func (m *Metrics) ReloadRefused() {
	if m != nil {
		m.FAQRefused.Inc()
	}
}

// Overdue shows how many served topics are past review_by.
func (m *Metrics) Overdue(n int) {
	if m != nil {
		m.TopicsOverdue.Set(float64(n))
	}
}

// PollFailed counts a failed getUpdates.
func (m *Metrics) PollFailed() {
	if m != nil {
		m.PollFailures.Inc()
	}
}

// Follow makes o report its state changes as witaj_outages_total and
// witaj_dependency_down under dependency.
func (m *Metrics) Follow(o *Outage, dependency string) *Outage {
	if m == nil {
		return o
	}
	m.Down.WithLabelValues(dependency).Set(0)
	o.OnChange = func(down bool) {
		if down {
			m.Outages.WithLabelValues(dependency).Inc()
			m.Down.WithLabelValues(dependency).Set(1)
			return
		}
		m.Down.WithLabelValues(dependency).Set(0)
	}
	return o
}

func (m *Metrics) handledIn(lang knowledge.Lang) {
	if m != nil && lang != "" {
		m.ByLanguage.WithLabelValues(string(lang)).Inc()
	}
}

func (m *Metrics) answered(topic string) {
	if m != nil {
		m.Topics.WithLabelValues(topic).Inc()
	}
}

// Waiting shows the unclaimed cases and how long the oldest waited.
func (m *Metrics) Waiting(n int, oldest, oldestUrgent time.Duration) {
	if m == nil {
		return
	}
	m.CasesWaiting.Set(float64(n))
	m.OldestWaiting.WithLabelValues("false").Set(oldest.Seconds())
	m.OldestWaiting.WithLabelValues("true").Set(oldestUrgent.Seconds())
}
