package knowledge

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Karta pobytu", "karta pobitu"},
		{"карта побиту", "karta pobitu"},
		{"карта побыту", "karta pobitu"},
		{"KARTA POBYTU!!!", "karta pobitu"},
		{"zgubiłem kartę", "zgubilem karte"},
		{"zgubilem karte", "zgubilem karte"},
		{"zezwolenie na pracę", "zezwolenie na prace"},
		{"зезволенє на працє", "zezwolenie na pracie"},
		{"zaświadczenie", "zaswiadcenie"},
		{"urząd", "uzad"},
		{"уженд", "uzend"},
		{"Чи можу я", "ci mozu ia"},
		{"chi mozhu ya", "ci mozu ia"},
		{"б'є", "bie"},
		{"б’є", "bie"},
		{"бʼє", "bie"},
		{"бє", "bie"},
		{"kak poluchit pesel", "kak polucit pesel"},
		{"как получить песель", "kak polucit pesel"},
		{"PESEL 🙏🏻", "pesel"},
		{"ﬁle", "file"}, // NFKC ligature
		{"adress", "adres"},
		{"800+ na dziecko", "800 na dziecko"},
		{"tel. 112", "tel 112"},
		{"Wiza", "wiza"},
		{"visa", "wisa"},
		{"Ёлка", "iolka"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzFold(f *testing.F) {
	for _, s := range []string{"карта побиту", "zgubiłem kartę", "б'є", "🙏🏻 pesel", "\xff\xfe", "ﬁ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Fold(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Fold(%q) = %q: invalid UTF-8", s, got)
		}
		if got != strings.TrimSpace(got) || strings.Contains(got, "  ") {
			t.Fatalf("Fold(%q) = %q: untrimmed or double spaces", s, got)
		}
		if again := Fold(got); again != got {
			t.Fatalf("Fold is not idempotent: Fold(%q) = %q, Fold(that) = %q", s, got, again)
		}
		for _, r := range got {
			if r != ' ' && !isWordRune(r) {
				t.Fatalf("Fold(%q) = %q keeps %q", s, got, r)
			}
		}
	})
}

func isWordRune(r rune) bool { return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 0x7f }
