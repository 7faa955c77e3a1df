package slack

import "testing"

func TestEscape(t *testing.T) {
	tests := map[string]string{
		"<!channel> help":              "&lt;!channel&gt; help",
		"<@U123> & <!here>":            "&lt;@U123&gt; &amp; &lt;!here&gt;",
		"<https://evil.example|click>": "&lt;https://evil.example|click&gt;",
		"@channel plain *bold* _x_":    "@channel plain *bold* _x_",
		"Tom &amp; Jerry":              "Tom &amp;amp; Jerry",
		"Привіт, <b>жирний</b>":        "Привіт, &lt;b&gt;жирний&lt;/b&gt;",
	}
	for in, want := range tests {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestToPlain(t *testing.T) {
	tests := map[string]string{
		"Tom &amp; Jerry &lt;3":                           "Tom & Jerry <3",
		"ask <@U123> or <@U9|anna>":                       "ask @consultant or @anna",
		"see <https://www.gov.pl/web/udsc|the UdSC page>": "see the UdSC page (https://www.gov.pl/web/udsc)",
		"see <https://www.gov.pl>":                        "see https://www.gov.pl",
		"<!here> everyone":                                "@here everyone",
		"<#C123|consultants>":                             "#consultants",
		"write to <mailto:a@b.pl|a@b.pl>":                 "write to a@b.pl",
		"this is *very* important, _really_":              "this is very important, really",
		"Привіт! Подайте *wniosek* до 30.11":              "Привіт! Подайте wniosek до 30.11",
		"5 * 3 = 15 and a_b_c":                            "5 * 3 = 15 and a_b_c",
	}
	for in, want := range tests {
		if got := ToPlain(in); got != want {
			t.Errorf("ToPlain(%q) = %q, want %q", in, got, want)
		}
	}
}
