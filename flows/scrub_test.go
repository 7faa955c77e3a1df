package flows

import "testing"

func TestScrub(t *testing.T) {
	tests := []struct{ in, name, want string }{
		{"mój numer 600 123 456, zadzwońcie", "", "mój numer #, zadzwońcie"},
		{"PESEL 90010112345 i sprawa WSC-II-S.6151.12345.2025", "", "PESEL # i sprawa WSC-II-S.#"},
		{"write to olena.k@gmail.com or +48-600-123-456", "", "write to [e-mail] or #"},
		{"see https://example.com/x?id=7 please", "", "see [link] please"},
		{"Olena here, where is my card? olena", "Olena", "[name] here, where is my card? [name]"},
		{"Олена питає про карту", "Олена", "[name] питає про карту"},
		{"Olenka is not Olena", "Olena", "Olenka is not [name]"},
	}
	for _, tt := range tests {
		if got := scrub(tt.in, tt.name); got != tt.want {
			t.Errorf("scrub(%q, %q) = %q, want %q", tt.in, tt.name, got, tt.want)
		}
	}
}
