package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/witaj/witaj/bot"
)

// TestReport: what users did reaches the report as counts (no ids, no
// text besides the scrubbed unanswered questions): conversations by
// language, decisions, top topics, cases, time to claim, ratings.
func TestReport(t *testing.T) {
	h := newHarness(t)
	svc := h.service(nil)
	updates := []bot.Update{
		command(1, 1, "start", "en"), text(2, 1, "what is the minimum wage"), text(3, 1, "zxqv wibble"),
		command(1, 2, "start", "uk"), text(2, 2, "мінімальна зарплата"),
	}
	for _, u := range updates {
		if err := svc.Handle(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	h.store.CountDay(ctx, now, map[string]int64{"cases:opened": 2, "cases:urgent": 1, "cases:resolved": 1, "rating:5": 1})
	h.store.RecordClaim(ctx, now, 4*time.Minute)
	h.store.RecordClaim(ctx, now, 20*time.Minute)
	h.store.RecordClaim(ctx, now, 9*time.Minute)
	r, err := bot.BuildReport(ctx, h.store, h.store, h.faq.Engine.KB(), now, 7)
	if err != nil {
		t.Fatal(err)
	}
	if r.Conversations["en"] != 1 || r.Conversations["uk"] != 1 {
		t.Errorf("conversations = %v, want en 1, uk 1", r.Conversations)
	}
	if r.Decisions["answer"] != 2 || r.Decisions["none"] != 1 {
		t.Errorf("decisions = %v, want 2 answers and 1 none", r.Decisions)
	}
	if len(r.TopTopics) == 0 || r.TopTopics[0] != (bot.Count{Name: "work.wage", N: 2}) {
		t.Errorf("top topics = %v", r.TopTopics)
	}
	if r.CasesOpened != 2 || r.CasesUrgent != 1 || r.CasesResolved != 1 || r.Ratings[5] != 1 {
		t.Errorf("cases %d/%d/%d ratings %v", r.CasesOpened, r.CasesUrgent, r.CasesResolved, r.Ratings)
	}
	if r.Claims != 3 || r.MedianClaim != 9*time.Minute {
		t.Errorf("claims %d, median %v; want 3 and 9m", r.Claims, r.MedianClaim)
	}
	text := r.Text()
	for _, want := range []string{"Conversations by language: pl 0 en 1 uk 1 ru 0", "answered directly: 67%", "1. work.wage", "zxqv wibble", "median time to claim 9m0s"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
}
