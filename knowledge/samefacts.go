package knowledge

import (
	"slices"
	"strings"
)

// sameFacts warns when the four languages of an answer (or of a facet)
// do not give the same figures: amounts, phone numbers, dates, ages. A
// translation that says 340 zł where the Polish says 440 zł misleads
// exactly the people who cannot check the Polish. Round-the-clock
// wording ("24/7", "24 hours", "całodobowo") differs between languages
// and is left out.
func (c entryCheck) sameFacts() {
	check := func(field string, texts map[Lang]string) {
		ref := factFigures(texts[PL])
		for _, l := range Langs()[1:] {
			text, ok := texts[l]
			if !ok {
				continue
			}
			got := factFigures(text)
			if slices.Equal(got, ref) {
				continue
			}
			missing, extra := setDiff(ref, got), setDiff(got, ref)
			var parts []string
			if len(missing) > 0 {
				parts = append(parts, "lacks "+strings.Join(missing, ", "))
			}
			if len(extra) > 0 {
				parts = append(parts, "adds "+strings.Join(extra, ", "))
			}
			c.r.warnAt(c.at(field+"."+string(l)), "%s.%s does not give the same figures as %s.pl: it %s", field, l, field, strings.Join(parts, " and "))
		}
	}
	if _, ok := c.e.Answer[PL]; ok {
		check("answer", c.e.Answer)
	}
	for _, f := range c.e.FacetNames() {
		check("facets."+string(f), c.e.Facets[f])
	}
}

// factFigures returns the distinct figures of text, sorted, without the
// round-the-clock ones.
func factFigures(text string) []string {
	var out []string
	for _, f := range figures(text) {
		if f == "247" || f == "24" {
			continue
		}
		out = append(out, f)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func setDiff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
