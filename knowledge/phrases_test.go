package knowledge

import "testing"

// TestSmallTalk: whole messages of small talk, in every language and in
// Latin-typed Ukrainian and Russian, are recognised with their kind; a
// question that starts with a greeting is not small talk.
func TestSmallTalk(t *testing.T) {
	pb := DefaultPhrasebook()
	tests := []struct {
		text string
		want SocialKind
	}{
		{"Dzień dobry", SocialGreeting},
		{"cześć!", SocialGreeting},
		{"hello", SocialGreeting},
		{"привіт", SocialGreeting},
		{"pryvit", SocialGreeting},
		{"privet", SocialGreeting},
		{"здравствуйте", SocialGreeting},
		{"thanks a lot!", SocialThanks},
		{"thank you so much for the help", SocialThanks},
		{"ok dzięki", SocialThanks},
		{"dziekuje bardzo", SocialThanks},
		{"дякую, дуже допомогли", SocialThanks},
		{"yasno, diakuiu", SocialThanks},
		{"спс", SocialThanks},
		{"spasibo", SocialThanks},
		{"ok bye", SocialBye},
		{"do widzenia", SocialBye},
		{"бувайте", SocialBye},
		{"спасибо, до свидания", SocialBye},
		{"ok", SocialAck},
		{"👍", SocialAck},
		{"👌", SocialAck},
		{"ясно", SocialAck},
		{"dobra", SocialAck},
		{"ок, чекаю", SocialAck},
		{"are you a bot?", SocialBot},
		{"вы бот?", SocialBot},
		{"hello?", SocialGreeting},
		{"halo? jest tam ktoś?", SocialPresence},
		{"is anyone there", SocialPresence},
		{"ой, вибачте, не той чат 😅", SocialSorry},
		{"sorry wrong chat", SocialSorry},
		{"tak", SocialYes},
		{"нет", SocialNo},
		// Not small talk.
		{"Dzień dobry, gdzie dostanę PESEL?", ""},
		{"thanks, and how much does it cost?", ""},
		{"ok what documents do I need", ""},
		{"a to?", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := pb.Read(tt.text).Social; got != tt.want {
			t.Errorf("Read(%q).Social = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestGreetingIsStrippedFromAQuestion(t *testing.T) {
	rd := DefaultPhrasebook().Read("Dzień dobry, gdzie dostanę PESEL?")
	if rd.Rest != Fold("gdzie dostanę PESEL") {
		t.Errorf("Rest = %q", rd.Rest)
	}
}

func TestHumanRequest(t *testing.T) {
	pb := DefaultPhrasebook()
	tests := []struct {
		text string
		want bool
	}{
		{"chcę porozmawiać z człowiekiem", true},
		{"proszę przełączyć mnie na konsultanta", true},
		{"czy mogę napisać do kogoś prawdziwego?", true},
		{"it's urgent, is there a human I can talk to?", true},
		{"can I speak with a consultant about my case?", true},
		{"можна поговорити з людиною? мені страшно", true},
		{"передайте мене живому консультанту, будь ласка", true},
		{"хочу поговорить с консультантом", true},
		{"а можно с живым человеком поговорить?", true},
		{"с чем могут помочь ваши консультанты?", false},
		{"how do I get a PESEL?", false},
	}
	for _, tt := range tests {
		if got := pb.Read(tt.text).Human; got != tt.want {
			t.Errorf("Read(%q).Human = %v, want %v", tt.text, got, tt.want)
		}
	}
}

func TestFacetCues(t *testing.T) {
	pb := DefaultPhrasebook()
	tests := []struct {
		text string
		want Facet
	}{
		{"and how much does it cost?", FacetCost},
		{"а скільки це коштує?", FacetCost},
		{"сколько стоит?", FacetCost},
		{"це платно?", FacetCost},
		{"a jakie dokumenty trzeba mieć?", FacetDocuments},
		{"and what documents do I need?", FacetDocuments},
		{"які документи брати?", FacetDocuments},
		{"ile trwa taka kontrola?", FacetTime},
		{"how long does it usually take?", FacetTime},
		{"и сколько это рассматривают?", FacetTime},
		{"w ile dni musi to zrobić?", FacetDeadline},
		{"а если опоздаю?", FacetDeadline},
		{"what's the deadline?", FacetDeadline},
		{"a jak dostanę odmowę, to co wtedy?", FacetAfterRefusal},
		{"куди саме скаржитись?", FacetWhere},
		{"is there a phone number we can call first?", FacetContact},
		{"українською можна?", FacetLanguage},
		{"will the police take it seriously if I don't speak polish?", FacetLanguage},
		{"а кто его подает, я или работодатель?", FacetWho},
	}
	for _, tt := range tests {
		got := pb.Read(tt.text).Facets
		if len(got) == 0 || got[0] != tt.want {
			t.Errorf("Read(%q).Facets = %v, want %s first", tt.text, got, tt.want)
		}
	}
}

func TestSplit(t *testing.T) {
	pb := DefaultPhrasebook()
	tests := []struct {
		text string
		n    int
	}{
		{"gdzie mogę uczyć się polskiego za darmo w Gdyni? i jak zapisać syna do szkoły?", 2},
		{"a jeszcze dwie sprawy: jak wykupić e-receptę i gdzie iść w nocy, jak przychodnia zamknięta?", 2},
		{"jak założyć firmę jako cudzoziemiec i jak potem płacić ZUS?", 2},
		{"also where do I do zameldowanie in Gdynia, and how do I get a PESEL?", 2},
		{"мені треба дві речі: як зробити zameldowanie і як знайти роботу через urząd pracy?", 2},
		{"и еще: какая сейчас минималка? и как вернуть налог за прошлый год?", 2},
		// A question closed with "?" needs one word of its own.
		{"як записати дитину в школу в Гдині? і чи потрібні їй щеплення?", 2},
		{"jak zapisać dziecko do szkoły? a szczepienia?", 2},
		{"ok? thanks?", 0},
		// One question.
		{"how can I bring my wife and kids to Poland?", 0},
		{"also is there a course about everyday life and laws in poland?", 0},
		// A statement after a question is a part too; the conversation
		// keeps only parts that match a topic.
		{"Jak się zameldować? Właściciel się zgadza.", 2},
		{"ok? thanks", 0},
		// Where the writer comes from is context, not a question.
		{"як отримати песель у Слупську? я з Грузії", 0},
		{"I'm from India. Do I need a work permit?", 0},
		{"jestem z Ukrainy. Jak dostać PESEL? I gdzie szukać pracy?", 2},
	}
	for _, tt := range tests {
		if got := pb.Read(tt.text).Parts; len(got) != tt.n {
			t.Errorf("Read(%q).Parts = %q, want %d parts", tt.text, got, tt.n)
		}
	}
}

// TestElsewhere: another country's rules are out of scope; where someone
// comes from, and travel from Poland with a Polish document, are not.
func TestElsewhere(t *testing.T) {
	pb := DefaultPhrasebook()
	tests := []struct {
		text      string
		elsewhere bool
		travel    bool
	}{
		{"how much is minimum wage in germany", true, false},
		{"a w Niemczech jest coś jak pesel?", true, false},
		{"податкова декларація в Україні", true, false},
		{"а німецьке громадянство через скільки років дають?", true, false},
		{"сколько стоит виза в США для граждан Казахстана?", true, false},
		{"is it the same process for studying in the Netherlands?", true, false},
		{"I'm from India, how do I get a work permit?", false, false},
		{"A company wants to hire me from the Philippines", false, false},
		{"я з України, маю статус УКР", false, false},
		{"cholovik z Moldovy, yomu treba pesel", false, false},
		{"can I travel to Spain with my residence card?", true, true},
		{"czy są w Gdyni punkty pomocy prawnej?", false, false},
		{"how do i check my ZUS contributions", false, false},
	}
	for _, tt := range tests {
		rd := pb.Read(tt.text)
		if rd.Elsewhere != tt.elsewhere || rd.Travel != tt.travel {
			t.Errorf("Read(%q): elsewhere %v travel %v, want %v %v", tt.text, rd.Elsewhere, rd.Travel, tt.elsewhere, tt.travel)
		}
	}
}

func TestStemsMatchInflections(t *testing.T) {
	var s phraseSet
	s.add("document*", 0)
	s.add("dokument*", 1)
	for _, w := range []string{"documents", "document", "dokumentów", "документи", "документы"} {
		if n, _ := s.longestAt([]string{Fold(w)}, 0); n != 1 {
			t.Errorf("%q: stem did not match", w)
		}
	}
	if n, _ := s.longestAt([]string{Fold("doc")}, 0); n != 0 {
		t.Error(`"doc" matched a longer stem`)
	}
}

func TestOffTopic(t *testing.T) {
	pb := DefaultPhrasebook()
	for _, q := range []string{"jaka jutro pogoda w Gdańsku?", "розкажи анекдот", "who won the champions league last year?", "где купить телевизор",
		"какой лучший мобильный оператор в Польше?", "как оформить страховку OC на машину в Польше", "ile kosztuje ubezpieczenie OC samochodu?"} {
		if !pb.Read(q).Offtopic {
			t.Errorf("Read(%q) is not off topic", q)
		}
	}
	for _, q := range []string{"Jak się zameldować? co trzeba mieć ze sobą?", "Власник квартири каже, що домовимося на словах", "с чем могут помочь ваши консультанты через этот чат?",
		"а без польской симки до 112 дозвонюсь?", "хочу поговорить с оператором"} {
		if pb.Read(q).Offtopic {
			t.Errorf("Read(%q) is off topic", q)
		}
	}
}
