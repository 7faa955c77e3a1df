package slack

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/knowledge"
)

// Weekly is a time of the week: the weekday and the minute of the day,
// in Loc.
type Weekly struct {
	Day    time.Weekday
	Minute int
	Loc    *time.Location
}

// ParseWeekly reads "Mon 09:00".
func ParseWeekly(s string, loc *time.Location) (Weekly, error) {
	day, clock, ok := strings.Cut(strings.TrimSpace(s), " ")
	days := map[string]time.Weekday{"mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday, "sun": time.Sunday}
	wd, known := days[strings.ToLower(day)]
	t, err := time.Parse("15:04", strings.TrimSpace(clock))
	if !ok || !known || err != nil {
		return Weekly{}, fmt.Errorf("%q: want a weekday and a time, such as Mon 09:00", s)
	}
	return Weekly{Day: wd, Minute: t.Hour()*60 + t.Minute(), Loc: loc}, nil
}

// Next returns the first time at or after now.
func (w Weekly) Next(now time.Time) time.Time {
	local := now.In(w.Loc)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, w.Loc)
	for i := 0; i < 8; i++ {
		d := day.AddDate(0, 0, i)
		t := time.Date(d.Year(), d.Month(), d.Day(), w.Minute/60, w.Minute%60, 0, 0, w.Loc)
		if d.Weekday() == w.Day && !t.Before(local) {
			return t
		}
	}
	return now // unreachable: every weekday comes within 8 days
}

// DigestBlocks is the weekly digest as Block Kit: figures, topics and
// topic ids; the unanswered questions (stored without names or numbers)
// are plain text, so nothing in them can mention or link.
func DigestBlocks(r bot.Report) []slack.Block {
	head := fmt.Sprintf("*witaj: the week %s – %s*", r.From.Format("2 Jan"), r.To.Format("2 Jan 2006"))
	var langs []string
	for _, l := range knowledge.Langs() {
		langs = append(langs, fmt.Sprintf("%s %d", l, r.Conversations[l]))
	}
	var topics []string
	for i, t := range r.TopTopics {
		topics = append(topics, fmt.Sprintf("%d. %s (%d)", i+1, t.Name, t.N))
	}
	var ratings []string
	for s := 1; s <= 5; s++ {
		ratings = append(ratings, fmt.Sprintf("%d★ %d", s, r.Ratings[s]))
	}
	blocks := []slack.Block{
		slack.NewSectionBlock(mrkdwn(head), nil, nil),
		slack.NewSectionBlock(nil, []*slack.TextBlockObject{
			mrkdwn("*Conversations*\n" + strings.Join(langs, " · ")),
			mrkdwn(fmt.Sprintf("*Answered directly*\n%.0f%%", 100*r.AnsweredShare())),
			mrkdwn(fmt.Sprintf("*Cases*\n%d opened (%d urgent), %d resolved", r.CasesOpened, r.CasesUrgent, r.CasesResolved)),
			mrkdwn(fmt.Sprintf("*Median time to claim*\n%s (%d claims)", r.MedianClaim.Round(time.Minute), r.Claims)),
			mrkdwn("*Ratings*\n" + strings.Join(ratings, " · ")),
		}, nil),
		slack.NewSectionBlock(mrkdwn("*Top topics*\n"+or(strings.Join(topics, "\n"), "none")), nil, nil),
	}
	if len(r.Gaps) > 0 {
		var qs []string
		for _, g := range r.Gaps {
			qs = append(qs, fmt.Sprintf("%d× [%s] %s", g.Count, g.Lang, g.Question))
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn("*Top unanswered questions* (for the FAQ editors)"), nil, nil),
			slack.NewSectionBlock(plain(strings.Join(qs, "\n")), nil, nil))
	}
	if len(r.DueForReview) > 0 {
		var due []string
		for _, e := range r.DueForReview {
			due = append(due, fmt.Sprintf("%s (review by %s)", e.ID, e.ReviewBy))
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn("*Topics due for review*\n"+strings.Join(due, "\n")), nil, nil))
	}
	return blocks
}

// PostDigest queues the digest in the consultants' main channel. Its id
// is the week's, so a digest queued twice is posted once.
func (d *Desk) PostDigest(ctx context.Context, r bot.Report) error {
	return d.push(ctx, d.cfg.Channel, bot.SlackItem{ID: "digest-" + r.To.Format(time.DateOnly), Kind: bot.SlackNotice,
		Text: "witaj weekly digest", Blocks: encodeBlocks(DigestBlocks(r))})
}

// RunDigest posts the digest every week at w until ctx ends. lead
// reports whether this replica won the week's digest (one replica
// posts); build makes the report.
func (d *Desk) RunDigest(ctx context.Context, w Weekly, lead func(ctx context.Context, week string) bool, build func(ctx context.Context) (bot.Report, error)) {
	for {
		next := w.Next(d.now().Add(time.Second))
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
		year, week := next.ISOWeek()
		if !lead(ctx, fmt.Sprintf("%d-%02d", year, week)) {
			continue
		}
		r, err := build(ctx)
		if err != nil {
			d.log.Error("weekly digest", "err", err)
			continue
		}
		if err := d.PostDigest(ctx, r); err != nil {
			d.log.Error("weekly digest", "err", err)
			continue
		}
		d.log.Info("weekly digest queued", "week", fmt.Sprintf("%d-%02d", year, week))
	}
}
