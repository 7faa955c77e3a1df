package knowledge

import (
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Decision is what the bot should do with a message.
type Decision int

// Decisions, from least to most confident.
const (
	// NoMatch: no topic fits; say so and offer rephrasing or a person.
	NoMatch Decision = iota
	// Suggest: show up to three topics as "did you mean".
	Suggest
	// Direct: one topic is a clear winner; answer it.
	Direct
)

func (d Decision) String() string {
	switch d {
	case Direct:
		return "answer"
	case Suggest:
		return "suggest"
	}
	return "none"
}

// Candidate is a topic with its score for a message.
type Candidate struct {
	Entry *Entry
	Score float64
	// keyword is set when one of the entry's keywords is in the message.
	keyword bool
}

// Named reports whether one of the entry's keywords is in the message:
// the message names the topic rather than only sharing words with it.
func (c Candidate) Named() bool { return c.keyword }

// Result is the matcher's verdict on one message.
type Result struct {
	Decision Decision
	// Candidates are the three best topics, best first, whatever the
	// decision: for logs, evaluation and consultants.
	Candidates []Candidate
	// Suggested are the topics to offer as "did you mean" when the
	// decision is Suggest.
	Suggested []Candidate
	// Confidence is the top candidate's score, already discounted by how
	// much of the message the topic does not explain; the decision rests
	// on it.
	Confidence float64
	// Lang is the language the message is written in, as detected.
	Lang Lang
	// Danger reports that the message speaks of danger: the top candidate
	// is then an urgent topic, answered directly.
	Danger bool
}

// Thresholds turn scores into decisions. DefaultThresholds were set on the
// development set; `witaj faq eval` measures the effect of a change.
type Thresholds struct {
	// Answer is the least confidence for a direct answer.
	Answer float64
	// Margin is the least lead of the top topic over the runner-up, as a
	// share of the top score, for a direct answer.
	Margin float64
	// Suggest is the least score for a topic to be suggested.
	Suggest float64
	// SureAnswer and SureMargin are a second band for a direct answer: a
	// lower confidence suffices when the top topic leads by far.
	SureAnswer, SureMargin float64
	// CloseMargin: a direct answer that leads the runner-up by less than
	// this also offers the runner-up.
	CloseMargin float64
}

// DefaultThresholds are the thresholds set on all labelled sets: see
// the package documentation for how.
func DefaultThresholds() Thresholds {
	return Thresholds{Answer: 0.12, Margin: 0.25, Suggest: 0.1, SureAnswer: 0.10, SureMargin: 0.5, CloseMargin: 0.4}
}

// Matcher ranks FAQ entries for a message. It is immutable once built and
// safe for concurrent use.
type Matcher struct {
	entries        []*Entry
	docEntry       []int32          // per document: its entry
	ids            map[uint32]int32 // feature hash -> its index in byID
	byID           []featIndex
	lookup         featTable             // the features of byID found in some document, for matching
	unknownIDF     float32               // idf of a feature no document has
	vocab          []map[int32]struct{}  // per entry: the word prefixes of all its text
	known          map[string]prefixInfo // word prefix -> its id and idf over entries
	unknownWordIDF float32
	stop           map[string]struct{}
	kwWords        []string // distinct folded words of all keywords, for typo repair
	th             Thresholds
	tune           tuning
	phrases        *Phrasebook
	scratch        sync.Pool
}

// prefixInfo is what the matcher knows of a word prefix (see coverage).
type prefixInfo struct {
	id  int32   // its key in vocab
	idf float32 // its rarity over entries
}

// scratch holds per-query buffers so that matching allocates little.
type scratch struct {
	fold  strings.Builder
	words []string
	feats []feature
	fidx  []*featIndex
	// Per document: the cosine with the message, and the share of the
	// document (a keyword) found in it. Two arrays, not one of pairs:
	// examples, most of the work, use only the cosine, and half the
	// memory keeps them in the fastest cache.
	cos, cont []float32
	touch     []int32   // documents with a non-zero cosine
	best      []float32 // per entry: best example cosine
	bestKw    []float32 // per entry: best keyword containment
	cent      []float32 // per entry: centroid cosine
	hit       []bool
	tEnt      []int32
	ranked    []Candidate
	// Per word of the message, for coverage.
	prefixes []int32
	rarity   []float32
}

// OutOfScope reports a message the bot does not answer from the FAQ
// whatever the matcher finds: a subject witaj never covers, or another
// country's rules (see Phrasebook).
func (m *Matcher) OutOfScope(text string) bool {
	rd := m.phrases.Read(text)
	return rd.Offtopic || (rd.Elsewhere && !rd.Travel)
}

// Entries returns the entries the matcher ranks.
func (m *Matcher) Entries() []*Entry { return m.entries }

// Match ranks the entries for text. lang is the user's chosen language; the
// answer language is always the caller's choice, whatever the text's.
func (m *Matcher) Match(text string, lang Lang) Result {
	return m.match(text, -1, 0)
}

// MatchContext is Match with the conversation's topic at hand given a
// head start: bonus is added to its score before ranking. A follow-up
// ("сколько стоит?") carries few words of its own, and the topic just
// answered is what it most likely means; a message that names another
// topic clearly still wins.
func (m *Matcher) MatchContext(text string, lang Lang, id string, bonus float64) Result {
	i := sort.Search(len(m.entries), func(i int) bool { return m.entries[i].ID >= id })
	if i == len(m.entries) || m.entries[i].ID != id {
		return m.Match(text, lang)
	}
	return m.match(text, int32(i), bonus)
}

// match ranks the entries for text, entry ctx (or -1) getting bonus.
func (m *Matcher) match(text string, ctx int32, bonus float64) Result {
	s := m.scratch.Get().(*scratch)
	defer m.scratch.Put(s)
	text = truncate(text, maxQueryRunes)
	res := Result{Lang: DetectLang(text)}
	s.fold.Reset()
	foldInto(&s.fold, text)
	s.words = m.tokens(s.fold.String(), s.words[:0])
	if len(s.words) == 0 {
		return res
	}
	m.repairTypos(s.words)
	s.feats = m.tune.features(s.words, s.feats[:0])
	m.score(s)
	base := m.rank(s, ctx)
	if ctx >= 0 && !slices.ContainsFunc(s.ranked, func(c Candidate) bool { return c.Entry == m.entries[ctx] }) {
		// The topic at hand competes even when it is not among the best.
		s.ranked = append(s.ranked, Candidate{Entry: m.entries[ctx], Score: base})
	}
	if len(s.ranked) == 0 {
		return res
	}
	m.rerank(s)
	if ctx >= 0 {
		m.boost(s, m.entries[ctx], bonus)
	}
	return m.decide(s, res)
}

// boost gives the topic at hand its head start, after re-ranking so that
// coverage does not scale it.
func (m *Matcher) boost(s *scratch, e *Entry, bonus float64) {
	for i := range s.ranked {
		if s.ranked[i].Entry == e {
			s.ranked[i].Score += bonus
		}
	}
	sort.SliceStable(s.ranked, func(i, j int) bool { return s.ranked[i].Score > s.ranked[j].Score })
}

// feature returns what the index knows of a feature, or nil. A feature in
// no document (an n-gram of a word seen only in an answer, whose n-grams
// are not indexed) is as unknown as a new one.
func (m *Matcher) feature(h uint32) *featIndex {
	id := m.lookup.get(h)
	if id < 0 {
		return nil
	}
	return &m.byID[id]
}

// score accumulates the cosine of the message with every example document
// and every entry centroid, and the share of each document found in the
// message (containment: a keyword inside a long message).
func (m *Matcher) score(s *scratch) {
	var qnorm float64
	s.fidx = s.fidx[:0]
	for i := range s.feats {
		fi := m.feature(s.feats[i].h)
		idf := m.unknownIDF
		if fi != nil {
			idf = fi.idf
		}
		s.fidx = append(s.fidx, fi)
		s.feats[i].w *= idf
		qnorm += float64(s.feats[i].w) * float64(s.feats[i].w)
	}
	qnorm = math.Sqrt(qnorm)
	s.tEnt = s.tEnt[:0]
	// Every document is written to touch, and the count moves on only
	// for one not touched before (weights are positive: its cosine is
	// still zero). Half the postings are a document's first, at random:
	// a branch there was mispredicted so often that it cost more than
	// the sums.
	touch, n := s.touch[:len(m.docEntry)+1], 0
	for i, f := range s.feats {
		fi := s.fidx[i]
		if fi == nil {
			continue
		}
		qw := float32(float64(f.w) / qnorm)
		if !fi.common {
			for _, p := range fi.docs {
				c := s.cos[p.doc]
				touch[n] = p.doc
				n += untouched(c)
				s.cos[p.doc] = c + qw*p.w
			}
		}
		for _, p := range fi.kws {
			c := s.cos[p.doc]
			touch[n] = p.doc
			n += untouched(c)
			s.cos[p.doc] = c + qw*p.w
			s.cont[p.doc] += p.w * p.w
		}
		if fi.commonEnt {
			continue
		}
		for _, p := range fi.ents {
			if !s.hit[p.doc] {
				s.hit[p.doc] = true
				s.tEnt = append(s.tEnt, p.doc)
			}
			s.cent[p.doc] += qw * p.w
		}
	}
	s.touch = touch[:n]
}

// untouched is 1 for a document's zero cosine, else 0, without a branch.
func untouched(cos float32) int {
	b := math.Float32bits(cos)
	return int((b|-b)>>31 ^ 1)
}

// rank combines document and centroid scores into entry scores, keeps the
// best rerankDepth of them, best first, in s.ranked, and clears the
// per-query buffers.
func (m *Matcher) rank(s *scratch, ctx int32) (ctxScore float64) {
	for _, d := range s.touch {
		e := m.docEntry[d]
		// max, not if: which document is its entry's best is random,
		// and a branch on it mispredicted.
		s.bestKw[e] = max(s.bestKw[e], s.cont[d])
		s.best[e] = max(s.best[e], s.cos[d])
		s.cos[d], s.cont[d] = 0, 0
	}
	s.ranked = s.ranked[:0]
	t := m.tune
	for _, e := range s.tEnt {
		score := t.knn*float64(s.best[e]) + t.cent*float64(s.cent[e])
		kw := float64(s.bestKw[e]) >= t.kwFull
		if kw {
			score += t.kwBonus
		}
		if e == ctx {
			ctxScore = score
		}
		s.best[e], s.bestKw[e], s.cent[e], s.hit[e] = 0, 0, 0, false
		s.ranked = keepBest(s.ranked, Candidate{Entry: m.entries[e], Score: score, keyword: kw}, rerankDepth)
	}
	return ctxScore
}

// keepBest inserts c into ranked, which is sorted best first and holds at
// most n candidates: only the best few are ever needed, and a full sort of
// every touched entry would dominate matching on a large FAQ.
func keepBest(ranked []Candidate, c Candidate, n int) []Candidate {
	better := func(a, b Candidate) bool {
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		return a.Entry.ID < b.Entry.ID
	}
	if len(ranked) == n && !better(c, ranked[n-1]) {
		return ranked
	}
	if len(ranked) < n {
		ranked = append(ranked, c)
	}
	i := len(ranked) - 1
	for ; i > 0 && better(c, ranked[i-1]); i-- {
		ranked[i] = ranked[i-1]
	}
	ranked[i] = c
	return ranked
}

// danger reports whether the message speaks of danger: an urgent topic
// (violence, trafficking) is among the best three with one of its keywords
// in the message, or close enough to the best score. The urgent topic is
// then moved to the front: a person in danger gets emergency numbers even
// when an ordinary topic scored a little higher.
func (m *Matcher) danger(s *scratch) bool {
	ranked := s.ranked
	top := ranked[0].Score
	for i := 0; i < len(ranked) && i < 3; i++ {
		c := ranked[i]
		if !c.Entry.Urgent || c.Score < m.th.Suggest {
			continue
		}
		// Without one of its keywords, an urgent topic must be a confident
		// match: "how can I contact them?" is no cry for help, and a
		// false alarm opens an urgent case.
		if c.keyword || (c.Score >= dangerScore && (i == 0 || c.Score >= dangerReach*top) && m.namesSomething(s)) {
			copy(ranked[1:i+1], ranked[:i])
			ranked[0] = c
			return true
		}
	}
	return false
}

// namesSomething reports whether the message has a word that names
// something: "what can they help me with?" is no cry for help, however
// close an urgent topic scores. Only asked for an alarm without a keyword.
func (m *Matcher) namesSomething(s *scratch) bool {
	return m.phrases.topical(strings.Fields(s.fold.String())) > 0
}

// dangerScore is the least score of an urgent topic without one of its
// keywords: higher than a direct answer needs, since a false alarm opens
// an urgent case.
const dangerScore = 0.15

// dangerReach is how close to the best score an urgent topic must come to
// win without one of its keywords in the message.
const dangerReach = 0.85

// rerankDepth is how many of the best candidates coverage re-ranks.
const rerankDepth = 8

// rerank scales the best candidates' scores by how much of the message
// each topic's own text explains, so that a topic sharing one frequent
// phrase with the message loses to one that knows its other words.
func (m *Matcher) rerank(s *scratch) {
	w := m.tune.rerank
	if w == 0 {
		return
	}
	top := s.ranked[:min(rerankDepth+1, len(s.ranked))]
	m.wordWeights(s)
	for i := range top {
		top[i].Score *= 1 - w + w*m.coverage(s, top[i].Entry)
	}
	sort.SliceStable(top, func(i, j int) bool { return top[i].Score > top[j].Score })
}

// suggestSpread lets a runner-up slightly below the suggestion threshold
// join a suggestion that the top topic has already earned.
const suggestSpread = 0.8

// wordWeights finds each word's prefix and rarity once per message, for
// the coverage of every candidate.
func (m *Matcher) wordWeights(s *scratch) {
	s.prefixes, s.rarity = s.prefixes[:0], s.rarity[:0]
	for _, w := range s.words {
		p, ok := m.known[prefix(w)]
		if !ok {
			// In no entry's text: covered by none.
			p = prefixInfo{id: -1, idf: m.unknownWordIDF}
		}
		s.prefixes = append(s.prefixes, p.id)
		s.rarity = append(s.rarity, p.idf)
	}
}

// coverage is the share of the message's words, weighted by rarity, that
// the entry's text knows. A message about a German course shares "free
// course in Gdańsk" with the Polish-course topic, but not "German".
// wordWeights must have run for the message.
func (m *Matcher) coverage(s *scratch, e *Entry) float64 {
	i := sort.Search(len(m.entries), func(i int) bool { return m.entries[i].ID >= e.ID })
	var all, covered float64
	v := m.vocab[i]
	for j, p := range s.prefixes {
		idf := float64(s.rarity[j])
		all += idf
		if _, ok := v[p]; ok {
			covered += idf
		}
	}
	if all == 0 {
		return 0
	}
	return covered / all
}

func (m *Matcher) decide(s *scratch, res Result) Result {
	if m.danger(s) {
		res.Danger = true
	}
	ranked := s.ranked
	top := ranked[0]
	res.Confidence = top.Score
	second := 0.0
	if len(ranked) > 1 {
		second = ranked[1].Score
	}
	margin := (top.Score - second) / top.Score
	res.Candidates = append([]Candidate(nil), ranked[:min(3, len(ranked))]...)
	switch {
	case res.Danger:
		res.Decision = Direct
	case res.Confidence >= m.th.Answer && margin >= m.th.Margin,
		m.th.SureMargin > 0 && res.Confidence >= m.th.SureAnswer && margin >= m.th.SureMargin:
		res.Decision = Direct
		if len(ranked) > 1 && margin < m.th.CloseMargin && second >= m.th.Suggest {
			// A direct answer that only just won: the runner-up is offered
			// too ("or did you mean …?").
			res.Suggested = append(res.Suggested, ranked[1])
		}
	case top.Score >= m.th.Suggest:
		res.Decision = Suggest
		for _, c := range res.Candidates {
			if c.Score >= m.th.Suggest*suggestSpread {
				res.Suggested = append(res.Suggested, c)
			}
		}
	}
	return res
}

// Coverage returns the share of text's words, weighted by rarity, that
// the entry's own text (examples, keywords, title, answers) knows; 0 for
// an unknown id. The conversation uses it to tell whether a follow-up is
// about the topic at hand: "a do kardiologa mogę iść od razu?" is, after
// the answer on family doctors, which speaks of referrals to specialists.
func (m *Matcher) Coverage(text, id string) float64 {
	i := sort.Search(len(m.entries), func(i int) bool { return m.entries[i].ID >= id })
	if i == len(m.entries) || m.entries[i].ID != id {
		return 0
	}
	s := m.scratch.Get().(*scratch)
	defer m.scratch.Put(s)
	s.fold.Reset()
	foldInto(&s.fold, truncate(text, maxQueryRunes))
	s.words = m.tokens(s.fold.String(), s.words[:0])
	m.repairTypos(s.words)
	m.wordWeights(s)
	return m.coverage(s, m.entries[i])
}
