package bot

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
)

// Stats are day counts for coordinators' reports: conversations by
// language, decisions, topics shown, cases, ratings and times to claim.
// They hold no user identifier and no text.
type Stats interface {
	// CountDay adds to the day's counters.
	CountDay(ctx context.Context, day time.Time, counts map[string]int64) error
	// CountOnce adds to the day's counters unless the day has counted
	// under once already (a case id): a retry after a lost reply counts
	// nothing more. It reports whether this call counted.
	CountOnce(ctx context.Context, day time.Time, once string, counts map[string]int64) (bool, error)
	// RecordClaim keeps how long a case waited for a consultant, on the
	// day it was claimed.
	RecordClaim(ctx context.Context, day time.Time, wait time.Duration) error
	// Days sums the counters of the days from..to (inclusive) and returns
	// every recorded wait.
	Days(ctx context.Context, from, to time.Time) (map[string]int64, []time.Duration, error)
}

// statsOf returns what one handled update adds to the day's counters.
func statsOf(old, new flows.Session, sum summary, topics []string, now time.Time) map[string]int64 {
	out := map[string]int64{}
	if new.Lang != "" && (old.Updated.IsZero() || now.Sub(old.Updated) > conversationGap) {
		out["conv:"+string(new.Lang)]++
	}
	if sum.decision != "" {
		out["decision:"+sum.decision]++
	}
	for _, t := range topics {
		out["topic:"+t]++
	}
	return out
}

// conversationGap is the silence after which a message starts a new
// conversation, for the reports.
const conversationGap = 30 * time.Minute

// Report is a coordinators' summary of the last days.
type Report struct {
	From, To      time.Time
	Conversations map[knowledge.Lang]int64
	Decisions     map[string]int64 // answer, suggest, none …
	TopTopics     []Count
	Gaps          []GapCount
	CasesOpened   int64
	CasesUrgent   int64
	CasesResolved int64
	Claims        int
	MedianClaim   time.Duration
	Ratings       [6]int64 // by score 1–5
	DueForReview  []*knowledge.Entry
}

// Count is a name and how often.
type Count struct {
	Name string
	N    int64
}

// BuildReport sums the last days (today included) for a report.
func BuildReport(ctx context.Context, stats Stats, store Store, kb *knowledge.Base, now time.Time, days int) (Report, error) {
	from := now.AddDate(0, 0, -(days - 1))
	counts, claims, err := stats.Days(ctx, from, now)
	if err != nil {
		return Report{}, err
	}
	r := Report{From: from, To: now, Conversations: map[knowledge.Lang]int64{}, Decisions: map[string]int64{}}
	topics := map[string]int64{}
	for k, n := range counts {
		kind, name, _ := strings.Cut(k, ":")
		switch kind {
		case "conv":
			r.Conversations[knowledge.Lang(name)] += n
		case "decision":
			r.Decisions[name] += n
		case "topic":
			topics[name] += n
		case "cases":
			switch name {
			case "opened":
				r.CasesOpened += n
			case "urgent":
				r.CasesUrgent += n
			case "resolved":
				r.CasesResolved += n
			}
		case "rating":
			if s, err := strconv.Atoi(name); err == nil && s >= 1 && s <= 5 {
				r.Ratings[s] += n
			}
		}
	}
	for name, n := range topics {
		r.TopTopics = append(r.TopTopics, Count{name, n})
	}
	sort.Slice(r.TopTopics, func(i, j int) bool {
		a, b := r.TopTopics[i], r.TopTopics[j]
		return a.N > b.N || a.N == b.N && a.Name < b.Name
	})
	r.TopTopics = r.TopTopics[:min(10, len(r.TopTopics))]
	if r.Gaps, err = store.Gaps(ctx, now, days, 10); err != nil {
		return Report{}, err
	}
	r.Claims = len(claims)
	if len(claims) > 0 {
		slices.Sort(claims)
		r.MedianClaim = claims[len(claims)/2]
	}
	soon := knowledge.DateOf(now.AddDate(0, 0, 30))
	for _, e := range kb.Entries() {
		if !e.ReviewBy.IsZero() && e.ReviewBy.Before(soon) {
			r.DueForReview = append(r.DueForReview, e)
		}
	}
	return r, nil
}

// AnsweredShare is the share of questions answered directly.
func (r Report) AnsweredShare() float64 {
	var all int64
	for _, n := range r.Decisions {
		all += n
	}
	if all == 0 {
		return 0
	}
	return float64(r.Decisions["answer"]) / float64(all)
}

// Text is the report for a terminal.
func (r Report) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "witaj report %s – %s\n\n", r.From.Format(time.DateOnly), r.To.Format(time.DateOnly))
	fmt.Fprintf(&b, "Conversations by language:")
	for _, l := range knowledge.Langs() {
		fmt.Fprintf(&b, " %s %d", l, r.Conversations[l])
	}
	fmt.Fprintf(&b, "\nQuestions answered directly: %.0f%% (answered %d, did-you-mean %d, not sure %d)\n",
		100*r.AnsweredShare(), r.Decisions["answer"], r.Decisions["suggest"], r.Decisions["none"])
	b.WriteString("\nTop topics:\n")
	for i, t := range r.TopTopics {
		fmt.Fprintf(&b, "%3d. %-32s %d\n", i+1, t.Name, t.N)
	}
	b.WriteString("\nTop unanswered questions:\n")
	for _, g := range r.Gaps {
		fmt.Fprintf(&b, "  %3d  %s  %s\n", g.Count, g.Lang, g.Question)
	}
	fmt.Fprintf(&b, "\nCases: %d opened (%d urgent), %d resolved; median time to claim %s (%d claims)\n",
		r.CasesOpened, r.CasesUrgent, r.CasesResolved, r.MedianClaim.Round(time.Minute), r.Claims)
	b.WriteString("Ratings:")
	for s := 1; s <= 5; s++ {
		fmt.Fprintf(&b, " %d★ %d", s, r.Ratings[s])
	}
	b.WriteString("\n\nTopics due for review (within 30 days or overdue):\n")
	for _, e := range r.DueForReview {
		fmt.Fprintf(&b, "  %-32s review by %s\n", e.ID, e.ReviewBy)
	}
	return b.String()
}
