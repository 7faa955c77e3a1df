package slack

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/knowledge"
)

func TestWeeklyNext(t *testing.T) {
	waw, _ := time.LoadLocation("Europe/Warsaw")
	w, err := ParseWeekly("Mon 09:00", waw)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ now, want string }{
		{"2026-12-05T10:00:00+01:00", "2026-12-07T09:00:00+01:00"}, // Saturday → Monday
		{"2026-12-07T08:59:00+01:00", "2026-12-07T09:00:00+01:00"}, // Monday, just before
		{"2026-12-07T09:00:01+01:00", "2026-12-14T09:00:00+01:00"}, // Monday, just after
		{"2027-03-27T12:00:00+01:00", "2027-03-29T09:00:00+02:00"}, // across the change to summer time
	}
	for _, tt := range tests {
		now, _ := time.Parse(time.RFC3339, tt.now)
		if got := w.Next(now).Format(time.RFC3339); got != tt.want {
			t.Errorf("Next(%s) = %s, want %s", tt.now, got, tt.want)
		}
	}
	for _, bad := range []string{"", "Monday 9", "Mon 25:00", "Xyz 09:00"} {
		if _, err := ParseWeekly(bad, waw); err == nil {
			t.Errorf("ParseWeekly(%q) accepted", bad)
		}
	}
}

// TestDigestBlocks: the digest shows the figures, and the unanswered
// questions only as plain text (no mention or link can come from them).
func TestDigestBlocks(t *testing.T) {
	r := bot.Report{
		From: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC),
		Conversations: map[knowledge.Lang]int64{knowledge.UK: 40, knowledge.PL: 3},
		Decisions:     map[string]int64{"answer": 3, "none": 1},
		TopTopics:     []bot.Count{{Name: "legal.pesel", N: 12}},
		Gaps:          []bot.GapCount{{Lang: knowledge.EN, Question: "<!channel> how do i", Count: 2}},
		CasesOpened:   5, CasesUrgent: 1, CasesResolved: 4, Claims: 4, MedianClaim: 12 * time.Minute,
	}
	b, err := json.Marshal(DigestBlocks(r))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"uk 40", "75%", "5 opened (1 urgent), 4 resolved", "12m0s (4 claims)", "1. legal.pesel (12)"} {
		if !strings.Contains(s, want) {
			t.Errorf("digest lacks %q: %s", want, s)
		}
	}
	if !strings.Contains(s, `{"type":"plain_text","text":"2× [en] \u003c!channel\u003e how do i"`) {
		t.Errorf("an unanswered question is not plain text: %s", s)
	}
}
