package knowledge

import (
	"iter"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DetectLang guesses the language of text from its letters and a few
// very common words: Cyrillic is Ukrainian when it has і, ї, є or ґ (or
// typical Ukrainian words), Russian when it has ы, э, ё or ъ (or typical
// Russian words); Latin is Polish when it has Polish letters or words,
// otherwise English. It returns "" when the text has no letters.
func DetectLang(text string) Lang {
	l, _ := DetectLangSure(text)
	return l
}

// DetectLangSure is DetectLang that also reports whether the text is
// clearly in that language: several words, in the language's own script,
// with the evidence far ahead of every other language's. The bot switches
// a chat's language only on such text.
func DetectLangSure(text string) (Lang, bool) {
	var cyr, lat, uk, ru, pl int
	lower := strings.ToLower(text)
	for _, r := range lower {
		if r < utf8.RuneSelf {
			if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' {
				lat++
			}
			continue
		}
		switch r {
		case 'і', 'ї', 'є', 'ґ':
			uk += 3
			cyr++
		case 'ы', 'э', 'ё', 'ъ':
			ru += 3
			cyr++
		case 'ą', 'ć', 'ę', 'ł', 'ń', 'ó', 'ś', 'ź', 'ż':
			pl += 3
			lat++
		default:
			if unicode.Is(unicode.Cyrillic, r) {
				cyr++
			} else if unicode.Is(unicode.Latin, r) {
				lat++
			}
		}
	}
	if cyr == 0 && lat == 0 {
		return "", false
	}
	var en, ukLat, ruLat, words int
	for w := range langWords(lower) {
		words++
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
		case "kak", "chto", "gde", "mne", "nuzhno", "mozhno", "kogda", "eto", "kakoy", "kakaya", "kakie", "kakoe", "pogoda",
			"zavtra", "segodnya", "sejchas", "seychas", "spasibo", "privet", "pochemu", "skolko", "esli", "menya", "mozhet",
			"nado", "khochu", "hochu", "mogu", "budet", "ili", "tolko", "ochen", "horosho", "khorosho", "pozhaluysta",
			"dlya", "rabota", "rabotu", "poluchit", "zdravstvuyte", "kuda", "ne", "ya", "vy", "uzhe", "eshche", "tozhe":
			ruLat += 2
		case "dyakuyu", "diakuiu", "pryvit", "tse", "tsey", "yomu", "yiyi", "mozhu", "treba", "robyty",
			"skilky", "dniv", "bude", "ye", "bulo", "abo", "tezh", "vzhe", "dlia", "roboty", "shchob", "yakshcho":
			ukLat += 2
		}
		if len(w) > 3 && (strings.HasSuffix(w, "aya") || strings.HasSuffix(w, "yye") || strings.HasSuffix(w, "ogo") || strings.HasSuffix(w, "iye")) {
			ruLat++ // Russian adjective endings in English-style spelling
		}
	}
	// sure: the winner has at least min points and twice any rival's.
	sure := func(win int, rivals ...int) bool {
		if words < 3 || win < 4 {
			return false
		}
		for _, r := range rivals {
			if win < 2*r {
				return false
			}
		}
		return true
	}
	switch {
	case cyr > lat && uk > ru:
		return UK, cyr > 3*lat && sure(uk, ru)
	case cyr > lat:
		// Cyrillic without Ukrainian markers is more often Russian.
		return RU, cyr > 3*lat && sure(ru, uk) && ru > 0
	case pl > en && pl >= ukLat && pl >= ruLat:
		return PL, lat > 3*cyr && ukLat == 0 && ruLat == 0 && sure(pl, en)
	case ukLat > en && ukLat >= ruLat:
		return UK, false // Ukrainian typed in Latin letters: never sure
	case ruLat > en:
		return RU, false
	}
	return EN, lat > 3*cyr && ukLat == 0 && ruLat == 0 && sure(en, pl)
}

// langWords yields the words of folded-case text: runs of letters and
// apostrophes (as strings.FieldsFunc would split them, without the slice:
// every message passes here).
func langWords(text string) iter.Seq[string] {
	return func(yield func(string) bool) {
		start := -1
		for i, r := range text {
			if unicode.IsLetter(r) || r == '\'' || r == '’' {
				if start < 0 {
					start = i
				}
				continue
			}
			if start >= 0 {
				if !yield(text[start:i]) {
					return
				}
				start = -1
			}
		}
		if start >= 0 {
			yield(text[start:])
		}
	}
}
