package knowledge

import (
	"strings"
	"unicode"
)

// DetectLang guesses the language of text from its letters and a few
// very common words: Cyrillic is Ukrainian when it has і, ї, є or ґ (or
// typical Ukrainian words), Russian when it has ы, э, ё or ъ (or typical
// Russian words); Latin is Polish when it has Polish letters or words,
// otherwise English. It returns "" when the text has no letters.
func DetectLang(text string) Lang {
	var cyr, lat, uk, ru, pl int
	for _, r := range strings.ToLower(text) {
		switch {
		case strings.ContainsRune("іїєґ", r):
			uk += 3
			cyr++
		case strings.ContainsRune("ыэёъ", r):
			ru += 3
			cyr++
		case strings.ContainsRune("ąćęłńóśźż", r):
			pl += 3
			lat++
		case unicode.Is(unicode.Cyrillic, r):
			cyr++
		case unicode.Is(unicode.Latin, r):
			lat++
		}
	}
	if cyr == 0 && lat == 0 {
		return ""
	}
	var en, ukLat, ruLat int
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' && r != '’' }) {
		switch w {
		case "що", "як", "чи", "де", "це", "мені", "мене", "та", "або", "потрібно", "можна", "коли", "який", "яка":
			uk += 2
		case "что", "как", "где", "это", "мне", "меня", "или", "нужно", "можно", "когда", "какой", "какая", "если":
			ru += 2
		case "jak", "czy", "gdzie", "nie", "się", "sie", "mam", "jest", "co", "do", "na", "mnie", "moge", "mogę", "prosze", "proszę", "dla", "ile", "jaki", "jaka", "w", "z":
			pl += 2
		case "how", "what", "where", "the", "is", "my", "can", "i", "to", "for", "need", "get", "and", "of", "in", "with":
			en += 2
		case "shcho", "scho", "yak", "chy", "meni", "potribno", "mozhna", "koly":
			ukLat += 2
		case "kak", "chto", "gde", "mne", "nuzhno", "mozhno", "kogda", "eto", "kakoy":
			ruLat += 2
		}
	}
	switch {
	case cyr > lat && uk > ru:
		return UK
	case cyr > lat:
		return RU // Cyrillic without Ukrainian markers is more often Russian
	case pl > en && pl >= ukLat && pl >= ruLat:
		return PL
	case ukLat > en && ukLat >= ruLat:
		return UK // Ukrainian typed in Latin letters
	case ruLat > en:
		return RU
	}
	return EN
}
