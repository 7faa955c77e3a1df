package knowledge

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// SocialKind names a kind of small talk.
type SocialKind string

// The kinds of small talk, in the order of precedence when a message has
// several ("ok, thanks, bye" is a goodbye).
const (
	SocialBot      SocialKind = "bot"      // "are you a bot?"
	SocialPresence SocialKind = "presence" // "hello? anyone there?"
	SocialSorry    SocialKind = "sorry"    // "sorry, wrong chat"
	SocialBye      SocialKind = "bye"
	SocialThanks   SocialKind = "thanks"
	SocialGreeting SocialKind = "greeting"
	SocialYes      SocialKind = "yes"
	SocialNo       SocialKind = "no"
	SocialAck      SocialKind = "ack" // "ok", "👍", "ясно"
)

// SocialKinds returns the kinds of small talk in order of precedence.
func SocialKinds() []SocialKind {
	return []SocialKind{SocialBot, SocialPresence, SocialSorry, SocialBye, SocialThanks, SocialGreeting, SocialYes, SocialNo, SocialAck}
}

// Phrasebook is what the bot understands besides FAQ topics: small talk,
// requests for a person, follow-up cues, how two questions are joined in
// one message, and places outside Poland. It is read from
// conversation.yaml in the FAQ folder, so editors extend it without code.
// It is immutable and safe for concurrent use.
type Phrasebook struct {
	social    phraseSet // tag: index into SocialKinds
	filler    phraseSet
	person    phraseSet
	contact   phraseSet
	humanFull phraseSet
	opening   phraseSet
	// conditional opens a follow-up with a condition ("а если …").
	conditional phraseSet
	pointing    phraseSet
	facets      phraseSet // tag: index into Facets
	joins       phraseSet
	starts      phraseSet
	places      phraseSet
	// placesRaw holds place names too short to survive folding ("США"
	// folds to "sa", as Polish "są" does); they are matched as written.
	placesRaw map[string]bool
	origin    phraseSet
	travel    phraseSet
	offtopic  phraseSet
	// stop are function words of all four languages, folded: they carry
	// no topic.
	stop map[string]bool
}

// Reading is what the phrasebook finds in one message.
type Reading struct {
	// Social is the kind of small talk when the whole message is small
	// talk, else "".
	Social SocialKind
	// Human reports words asking for a person: a person and a way to
	// reach them ("can I talk to a consultant"), or a whole phrase.
	Human bool
	// Reach reports a way to reach someone without naming them ("I want
	// to talk to one of them"): a request for a person right after the
	// bot explained its consultants.
	Reach bool
	// Opening reports a follow-up opener at the start ("and …", "а …");
	// Pointing a word that points back ("it", "tam", "це").
	Opening, Pointing bool
	// Conditional reports a follow-up that opens with a condition ("а
	// если у меня нет страховки?", "what if I'm only on umowa o
	// dzielo?"): what it names is the case asked about, not its subject.
	Conditional bool
	// Facets are the facets the message asks about, most specific first.
	Facets []Facet
	// Parts are the questions of a message that asks several, folded;
	// nil for a single question.
	Parts []string
	// Elsewhere reports a place outside Poland that is not only where the
	// writer comes from; Travel, words about travelling there; Offtopic, a
	// subject witaj never covers (weather, recipes, sport).
	Elsewhere, Travel, Offtopic bool
	// Rest is the folded message without small talk at its start ("hi,
	// where do I get a PESEL" → "where do i get a pesel").
	Rest string
	// Words counts the words of Rest that are not filler.
	Words int
	// Topical counts the words of Rest that name something: not function
	// words, filler, follow-up openers, words pointing back or facet cues.
	// "а це безкоштовно?" has none; "а прописку где сделать?" has one.
	Topical int
}

// Read analyses one message.
func (p *Phrasebook) Read(text string) Reading {
	var r Reading
	folded := Fold(text)
	toks := strings.Fields(folded)
	if len(toks) == 0 {
		if hasSymbols(text) {
			r.Social = SocialAck // "👍", "🙏", "?!"
		}
		return r
	}
	r.Social = p.socialKind(toks)
	// Strip small talk at the start: "Dzień dobry, gdzie…" asks "gdzie…".
	start := 0
	for start < len(toks) {
		if n, _ := p.social.longestAt(toks, start); n > 0 {
			start += n
			continue
		}
		break
	}
	if r.Social != "" || start == len(toks) {
		start = 0
	}
	rest := toks[start:]
	r.Rest = strings.Join(rest, " ")
	for i := 0; i < len(rest); {
		if n, _ := p.filler.longestAt(rest, i); n > 0 {
			i += n
			continue
		}
		r.Words++
		i++
	}
	r.Reach = p.contact.any(rest)
	r.Human = p.humanFull.any(rest) || (p.person.any(rest) && r.Reach)
	if n, _ := p.opening.longestAt(rest, 0); n > 0 {
		r.Opening = true
	}
	if n, _ := p.conditional.longestAt(rest, 0); n > 0 {
		r.Conditional = true
	}
	r.Pointing = p.pointing.any(rest)
	r.Topical = p.topical(rest)
	r.Facets = p.facetCues(rest)
	r.Parts = p.split(text)
	r.Elsewhere = p.elsewhere(rest) || p.elsewhereRaw(text)
	r.Travel = p.travel.any(rest)
	r.Offtopic = p.offtopic.any(rest)
	return r
}

// topical counts the words no cue phrase or function word accounts for.
func (p *Phrasebook) topical(toks []string) int {
	covered := make([]bool, len(toks))
	for _, set := range []*phraseSet{&p.filler, &p.opening, &p.conditional, &p.pointing, &p.facets, &p.social} {
		for i := range toks {
			if n, _ := set.longestAt(toks, i); n > 0 {
				for j := i; j < i+n; j++ {
					covered[j] = true
				}
			}
		}
	}
	n := 0
	for i, t := range toks {
		if !covered[i] && !p.stop[t] {
			n++
		}
	}
	return n
}

// socialKind returns the kind of small talk when every word of the
// message is small talk or filler and at least one is small talk.
func (p *Phrasebook) socialKind(toks []string) SocialKind {
	best := -1
	for i := 0; i < len(toks); {
		if n, tag := p.social.longestAt(toks, i); n > 0 {
			if best < 0 || tag < best {
				best = tag
			}
			i += n
			continue
		}
		if n, _ := p.filler.longestAt(toks, i); n > 0 {
			i += n
			continue
		}
		return ""
	}
	if best < 0 {
		return ""
	}
	return SocialKinds()[best]
}

// facetCues returns the facets whose cues the message has, the one with
// the longest cue first (ties in the order of Facets).
func (p *Phrasebook) facetCues(toks []string) []Facet {
	longest := make([]int, len(Facets()))
	for i := range toks {
		for _, m := range p.facets.allAt(toks, i) {
			longest[m.tag] = max(longest[m.tag], m.n)
		}
	}
	var out []Facet
	for n := len(toks); n > 0; n-- {
		for f, l := range longest {
			if l == n {
				out = append(out, Facets()[f])
			}
		}
	}
	return out
}

// elsewhere reports a place outside Poland named as where something
// happens, not as where the writer comes from.
func (p *Phrasebook) elsewhere(toks []string) bool {
	for i := range toks {
		n, _ := p.places.longestAt(toks, i)
		if n == 0 || p.origin.endsAt(toks, i) {
			continue
		}
		return true
	}
	return false
}

// elsewhereRaw finds the place names kept as written.
func (p *Phrasebook) elsewhereRaw(text string) bool {
	if len(p.placesRaw) == 0 {
		return false
	}
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) })
	for i, w := range words {
		if !p.placesRaw[w] {
			continue
		}
		if i > 0 {
			if m, _ := p.origin.longestAt([]string{Fold(words[i-1])}, 0); m > 0 {
				continue
			}
		}
		return true
	}
	return false
}

// minPart is the fewest words each question of a split message must
// have; a shorter piece belongs to its neighbour.
const minPart = 2

// split cuts a message holding several questions into folded parts: after
// a question mark, and before a joining word followed by a question word
// ("… i jak zapisać syna do szkoły?").
func (p *Phrasebook) split(text string) []string {
	var parts [][]string
	var asked []bool // the part ends with a question mark
	for _, piece := range splitQuestions(text) {
		toks := strings.Fields(Fold(piece))
		from := 0
		for i := 1; i < len(toks); i++ {
			n, langs := p.joins.langsAt(toks, i)
			if n == 0 || i+n >= len(toks) {
				continue
			}
			if m, l := p.starts.langsAt(toks, i+n); m == 0 || l&langs == 0 {
				continue // no question word of the same language follows
			}
			if i-from >= minPart && len(toks)-(i+n) >= minPart {
				parts = append(parts, toks[from:i])
				asked = append(asked, false)
				from = i
			}
		}
		if from < len(toks) {
			parts = append(parts, toks[from:])
			asked = append(asked, strings.ContainsAny(piece, "?？"))
		}
	}
	// Pieces too short to be a question ("i jeszcze:") join the next. A
	// question the writer ended with "?" needs only one word that names
	// something: "і чи потрібні їй щеплення?" is one ("потрібні" is
	// filler, "їй" folds like the joining "і"), "ok?" is not.
	var out []string
	var carry []string
	for i, part := range parts {
		part = append(carry, part...)
		carry = nil
		short := p.contentWords(part) < minPart && !(asked[i] && p.topical(part) > 0)
		if short || p.introduction(part) {
			carry = part
			continue
		}
		out = append(out, strings.Join(part, " "))
	}
	if len(carry) > 0 && len(out) > 0 {
		out[len(out)-1] += " " + strings.Join(carry, " ")
	}
	if len(out) < 2 {
		return nil
	}
	return out
}

// introduction reports a piece that only says where the writer comes
// from ("я з Грузії", "I'm from India"): context for the question next
// to it, not a question.
func (p *Phrasebook) introduction(toks []string) bool {
	if len(toks) > 4 || len(toks) < 2 {
		return false
	}
	return p.origin.endsAt(toks, len(toks)-1)
}

func (p *Phrasebook) contentWords(toks []string) int {
	n := 0
	for i := 0; i < len(toks); {
		if m, _ := p.filler.longestAt(toks, i); m > 0 {
			i += m
			continue
		}
		if m, _ := p.joins.longestAt(toks, i); m > 0 {
			i += m
			continue
		}
		n++
		i++
	}
	return n
}

// splitQuestions cuts text after each "?" that more text follows.
func splitQuestions(text string) []string {
	var out []string
	for {
		i := strings.IndexAny(text, "?？")
		if i < 0 {
			break
		}
		_, size := utf8.DecodeRuneInString(text[i:])
		head, tail := text[:i+size], text[i+size:]
		if !hasLetters(tail) {
			break
		}
		out = append(out, head)
		text = tail
	}
	return append(out, text)
}

func hasLetters(s string) bool {
	return strings.IndexFunc(s, unicode.IsLetter) >= 0
}

// hasSymbols reports text that is not only spaces and punctuation: an
// emoji or another symbol.
func hasSymbols(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsSymbol(r) || unicode.Is(unicode.So, r) }) >= 0
}

// phraseSet finds phrases in folded words. A phrase is a run of words;
// a word ending in * matches every word it begins.
type phraseSet struct {
	phrases []phrase
	exact   map[string][]int32 // first word -> phrases
	prefix  map[string][]int32 // stem of a first word ending in * -> phrases
}

type phrase struct {
	words  []string
	prefix []bool
	tag    int
}

type phraseMatch struct{ n, tag int }

// digraphSafe drops a stem's last letter when the next letter of a word
// could merge with it into another letter: "document*" must match
// "documents", which folds to "documenc" (t+s → c; likewise r+z → z).
// The other merges keep the first letter (s+z → s, c+h → c), and k+h → h
// is too rare at a stem's end to cost "slovak*" its k.
func digraphSafe(stem string) string {
	if len(stem) > 4 && strings.IndexByte("tr", stem[len(stem)-1]) >= 0 {
		return stem[:len(stem)-1]
	}
	return stem
}

// add compiles a phrase as editors write it; it returns false when the
// phrase folds to nothing.
func (s *phraseSet) add(raw string, tag int) bool {
	var ph phrase
	for _, w := range strings.Fields(raw) {
		star := strings.HasSuffix(w, "*")
		for _, fw := range strings.Fields(Fold(strings.TrimSuffix(w, "*"))) {
			ph.words = append(ph.words, fw)
			ph.prefix = append(ph.prefix, false)
		}
		if star && len(ph.prefix) > 0 {
			last := len(ph.words) - 1
			ph.prefix[last] = true
			ph.words[last] = digraphSafe(ph.words[last])
		}
	}
	if len(ph.words) == 0 {
		return false
	}
	ph.tag = tag
	if s.exact == nil {
		s.exact, s.prefix = map[string][]int32{}, map[string][]int32{}
	}
	id := int32(len(s.phrases))
	s.phrases = append(s.phrases, ph)
	if ph.prefix[0] {
		s.prefix[ph.words[0]] = append(s.prefix[ph.words[0]], id)
	} else {
		s.exact[ph.words[0]] = append(s.exact[ph.words[0]], id)
	}
	return true
}

// allAt returns every phrase that matches at toks[i].
func (s *phraseSet) allAt(toks []string, i int) []phraseMatch {
	var out []phraseMatch
	s.each(toks, i, func(n, tag int) { out = append(out, phraseMatch{n, tag}) })
	return out
}

// longestAt returns the length in words and the tag of the longest phrase
// matching at toks[i]; a tie goes to the lower tag. n is 0 when none does.
func (s *phraseSet) longestAt(toks []string, i int) (n, tag int) {
	s.each(toks, i, func(m, t int) {
		if m > n || (m == n && t < tag) {
			n, tag = m, t
		}
	})
	return n, tag
}

// langsAt returns the length of the longest phrase at toks[i] and the
// union of the tags (language bits) of the phrases of that length.
func (s *phraseSet) langsAt(toks []string, i int) (n, langs int) {
	s.each(toks, i, func(m, t int) {
		switch {
		case m > n:
			n, langs = m, t
		case m == n:
			langs |= t
		}
	})
	return n, langs
}

// endsAt reports whether a phrase ends right before toks[i].
func (s *phraseSet) endsAt(toks []string, i int) bool {
	for j := max(0, i-3); j < i; j++ {
		found := false
		s.each(toks, j, func(n, _ int) {
			if j+n == i {
				found = true
			}
		})
		if found {
			return true
		}
	}
	return false
}

// any reports whether some phrase matches anywhere in toks.
func (s *phraseSet) any(toks []string) bool {
	for i := range toks {
		if n, _ := s.longestAt(toks, i); n > 0 {
			return true
		}
	}
	return false
}

func (s *phraseSet) each(toks []string, i int, fn func(n, tag int)) {
	if len(s.phrases) == 0 {
		return
	}
	try := func(ids []int32) {
		for _, id := range ids {
			if ph := &s.phrases[id]; ph.matches(toks[i:]) {
				fn(len(ph.words), ph.tag)
			}
		}
	}
	t := toks[i]
	try(s.exact[t])
	for j := range t {
		if j > 0 {
			try(s.prefix[t[:j]])
		}
	}
	try(s.prefix[t])
}

func (ph *phrase) matches(toks []string) bool {
	if len(toks) < len(ph.words) {
		return false
	}
	for k, w := range ph.words {
		if ph.prefix[k] {
			if !strings.HasPrefix(toks[k], w) {
				return false
			}
		} else if toks[k] != w {
			return false
		}
	}
	return true
}
