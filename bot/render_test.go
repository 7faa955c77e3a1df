package bot

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
	"github.com/witaj/witaj/locales"
)

// TestAfterHoursInUsersLanguage: the notice that consultants are off
// duty names days, dates and times in the user's language.
func TestAfterHoursInUsersLanguage(t *testing.T) {
	cat, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	r := NewRenderer(nil, cat)
	data := flows.Data{
		"Hours": flows.Hours{{From: time.Monday, To: time.Thursday, Open: 9 * 60, Close: 17 * 60}, {From: time.Friday, To: time.Friday, Open: 9 * 60, Close: 14 * 60}},
		"When":  time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC), // a Monday
	}
	tests := []struct {
		lang knowledge.Lang
		want string
	}{
		{knowledge.EN, "Consultants work Mon–Thu 09:00–17:00, Fri 09:00–14:00. They will answer when they are back, Monday 7 December, 09:00."},
		{knowledge.PL, "pn–czw 09:00–17:00, pt 09:00–14:00"},
		{knowledge.PL, "w poniedziałek 7 grudnia, 09:00"},
		{knowledge.UK, "пн–чт 09:00–17:00, пт 09:00–14:00"},
		{knowledge.UK, "у понеділок 7 грудня, 09:00"},
		{knowledge.RU, "в понедельник 7 декабря, 09:00"},
	}
	for _, tt := range tests {
		got := r.Text(tt.lang, "escalate.after_hours", data)
		if !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q lacks %q", tt.lang, got, tt.want)
		}
	}
}

// TestMissingTranslationIsReported: a message missing in the user's
// language falls back to English (never its id) and is reported.
func TestMissingTranslationIsReported(t *testing.T) {
	fsys := fstest.MapFS{
		"en.yaml": {Data: []byte("hello: \"Hello\"\nonly_en: \"Only in English\"\n")},
		"pl.yaml": {Data: []byte("hello: \"Cześć\"\n")},
	}
	cat, err := locales.Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRenderer(nil, cat)
	var missing []string
	r.Missing = func(lang knowledge.Lang, key string, _ error) { missing = append(missing, string(lang)+" "+key) }
	if got := r.Text(knowledge.PL, "hello", nil); got != "Cześć" {
		t.Errorf("hello = %q", got)
	}
	if got := r.Text(knowledge.PL, "only_en", nil); got != "Only in English" {
		t.Errorf("only_en in Polish = %q, want the English text", got)
	}
	if len(missing) != 1 || missing[0] != "pl only_en" {
		t.Errorf("reported %v, want [pl only_en]", missing)
	}
}
