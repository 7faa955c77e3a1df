package knowledge

import (
	"slices"
	"testing"
)

func TestRepairTypos(t *testing.T) {
	m := shippedMatcher(t)
	tests := []struct{ in, want []string }{
		{[]string{"pesl"}, []string{"pesel"}},
		{[]string{"zamldowanie"}, []string{"zameldowanie"}},
		{[]string{"karta", "pobtu"}, []string{"karta", "pobitu"}},
		{[]string{"pesel"}, []string{"pesel"}},                             // known: untouched
		{[]string{"xyzw"}, []string{"xyzw"}},                               // nothing close: untouched
		{[]string{"a", "b", "c", "pesl"}, []string{"a", "b", "c", "pesl"}}, // long message: untouched
	}
	for _, tt := range tests {
		got := slices.Clone(tt.in)
		m.repairTypos(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("repairTypos(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
