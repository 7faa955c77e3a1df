package knowledge

import (
	"os"
	"strings"
	"testing"
)

func TestParseAnnouncement(t *testing.T) {
	kb, _, err := Load(DefaultFS(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	good := "id: courses-2027-01\naudience:\n  everyone: true\nbuttons: [lang.free-courses]\ntext:\n  pl: |\n    **Nowe kursy**\n  en: |\n    **New courses**\n"
	tests := []struct {
		name, src string
		want      []string // problems, as path:line:col: message fragments
	}{
		{"good", good, nil},
		{"bad id", strings.Replace(good, "courses-2027-01", "Courses 2027", 1), []string{"a.yaml:1:", "id \"Courses 2027\""}},
		{"no audience", strings.Replace(good, "audience:\n  everyone: true\n", "", 1), []string{"audience: say who gets it"}},
		{"unknown category", strings.Replace(good, "everyone: true", "categories: [sport]", 1), []string{"unknown category \"sport\""}},
		{"unknown topic button", strings.Replace(good, "lang.free-courses", "lang.nothing", 1), []string{"buttons: no FAQ topic \"lang.nothing\""}},
		{"broken markup", strings.Replace(good, "**New courses**", "**New courses", 1), []string{"a.yaml:9:", "text.en: \"**\" opens bold text"}},
		{"bad time", good + "not_before: tomorrow\n", []string{"not_before \"tomorrow\""}},
		{"unknown field", good + "color: red\n", []string{"a.yaml:10:"}},
		{"language without text", strings.Replace(good, "everyone: true", "everyone: true\n  languages: [uk]", 1), []string{"language uk has no text"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, probs := ParseAnnouncement("a.yaml", []byte(tt.src), kb)
			got := joinProblems(probs)
			if tt.want == nil {
				if a == nil || got != "" {
					t.Fatalf("problems:\n%s", got)
				}
				if a.ID != "courses-2027-01" || !a.Everyone || len(a.Langs) != 2 || a.Text[EN] == "" {
					t.Errorf("parsed %+v", a)
				}
				return
			}
			if a != nil {
				t.Errorf("a broken file was accepted: %+v", a)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("problems lack %q:\n%s", w, got)
				}
			}
		})
	}
}

// TestShippedAnnouncementExample: the example in cmd/witaj/testdata is
// valid against the shipped FAQ.
func TestShippedAnnouncementExample(t *testing.T) {
	kb, _, _ := Load(DefaultFS(), Options{})
	src, err := os.ReadFile("../cmd/witaj/testdata/announce/courses.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, probs := ParseAnnouncement("courses.yaml", src, kb); len(probs) > 0 {
		t.Errorf("%s", joinProblems(probs))
	}
}
