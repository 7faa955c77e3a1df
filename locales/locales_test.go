package locales

import (
	"slices"
	"strings"
	"testing"
)

func mustNew(t *testing.T) *Catalog {
	t.Helper()
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEveryLanguageHasEveryMessage(t *testing.T) {
	c := mustNew(t)
	if got, want := c.Langs(), []string{"en", "pl", "ru", "uk"}; !slices.Equal(got, want) {
		t.Fatalf("Langs() = %v, want %v", got, want)
	}
	en := c.IDs("en")
	for _, l := range c.Langs() {
		for _, id := range en {
			if !slices.Contains(c.IDs(l), id) {
				t.Errorf("%s.yaml lacks message %q that en.yaml has", l, id)
			}
		}
		for _, id := range c.IDs(l) {
			if !slices.Contains(en, id) {
				t.Errorf("%s.yaml has message %q that en.yaml lacks", l, id)
			}
		}
	}
}

// TestEveryMessageRenders renders every message in every language with
// representative data: no template errors, no missing plural forms, no
// leftover template syntax.
func TestEveryMessageRenders(t *testing.T) {
	c := mustNew(t)
	data := Data{"Count": 3, "Days": 30, "Date": "2026-11-23", "Category": "X", "Hours": "Mon–Fri 9–17", "When": "Mon 9:00",
		"Topic": "PESEL", "From": "Mon", "To": "Fri", "Open": "09:00", "Close": "17:00", "Day": "Monday", "Time": "09:00", "Month": "December",
		"Name": "PESEL", "List": "PESEL, Work", "Max": 30}
	for _, l := range c.Langs() {
		for _, id := range c.IDs(l) {
			for _, n := range []int{1, 2, 5, 11, 21, 22, 25} {
				data["Count"] = n
				s, err := c.Text(l, id, data)
				if err != nil {
					t.Errorf("%s %s (Count %d): %v", l, id, n, err)
				}
				if strings.Contains(s, "{{") || strings.Contains(s, "<no value>") || strings.TrimSpace(s) == "" {
					t.Errorf("%s %s: bad rendering %q", l, id, s)
				}
			}
		}
	}
}

// TestPlurals pins the CLDR plural forms of each language.
func TestPlurals(t *testing.T) {
	c := mustNew(t)
	tests := []struct {
		lang  string
		count int
		want  string
	}{
		{"en", 1, "in 1 minute"}, {"en", 5, "in 5 minutes"},
		{"pl", 1, "za 1 minutę"}, {"pl", 2, "za 2 minuty"}, {"pl", 5, "za 5 minut"},
		{"pl", 12, "za 12 minut"}, {"pl", 22, "za 22 minuty"}, {"pl", 21, "za 21 minut"},
		{"uk", 1, "через 1 хвилину"}, {"uk", 3, "через 3 хвилини"}, {"uk", 5, "через 5 хвилин"},
		{"uk", 11, "через 11 хвилин"}, {"uk", 21, "через 21 хвилину"}, {"uk", 24, "через 24 хвилини"},
		{"ru", 1, "через 1 минуту"}, {"ru", 2, "через 2 минуты"}, {"ru", 5, "через 5 минут"},
		{"ru", 14, "через 14 минут"}, {"ru", 31, "через 31 минуту"},
	}
	for _, tt := range tests {
		got, err := c.Text(tt.lang, "wait.minutes", Data{"Count": tt.count})
		if err != nil || got != tt.want {
			t.Errorf("Text(%s, wait.minutes, %d) = %q, %v; want %q", tt.lang, tt.count, got, err, tt.want)
		}
	}
}

func TestMissingMessageFallsBack(t *testing.T) {
	c := mustNew(t)
	if s, err := c.Text("de", "button.yes", nil); err != nil || s != "Yes" {
		t.Errorf("unknown language: %q, %v; want the English text", s, err)
	}
	if s, err := c.Text("pl", "no.such.key", nil); err == nil || s == "" {
		t.Errorf("missing key: %q, %v; want the key back and an error", s, err)
	}
}
