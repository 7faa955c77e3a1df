package slack

import (
	"testing"
	"time"
)

func TestHours(t *testing.T) {
	warsaw, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		t.Skip("no time zone data")
	}
	h, err := ParseHours("Mon-Thu 09:00-17:00, Fri 09:00-14:00", warsaw)
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, warsaw)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		now  string
		open bool
		next string
	}{
		{"2026-11-23 10:00", true, "2026-11-23 10:00"},  // Monday
		{"2026-11-23 17:00", false, "2026-11-24 09:00"}, // Monday after hours
		{"2026-11-27 15:00", false, "2026-11-30 09:00"}, // Friday after 14:00 → Monday
		{"2026-11-28 12:00", false, "2026-11-30 09:00"}, // Saturday
		{"2026-11-24 08:59", false, "2026-11-24 09:00"},
	}
	for _, tt := range tests {
		now := at(tt.now)
		if got := h.OpenAt(now); got != tt.open {
			t.Errorf("OpenAt(%s) = %v", tt.now, got)
		}
		if got := h.NextOpen(now); !got.Equal(at(tt.next)) {
			t.Errorf("NextOpen(%s) = %s, want %s", tt.now, got, tt.next)
		}
	}
	for _, bad := range []string{"Mon-Fri", "Mon-Fri 9-17", "Xyz 09:00-10:00", "Mon 10:00-09:00"} {
		if _, err := ParseHours(bad, warsaw); err == nil {
			t.Errorf("ParseHours(%q) succeeded", bad)
		}
	}
	if always, _ := ParseHours("", warsaw); !always.OpenAt(at("2026-11-29 03:00")) {
		t.Error("empty hours are not always open")
	}
}
