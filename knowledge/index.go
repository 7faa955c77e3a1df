package knowledge

import (
	"math"
	"sync"
)

// tuning holds the weights of the scoring model. They were set on the
// development set and the extra labelled questions in testdata; the
// package documentation explains each.
type tuning struct {
	// Feature weights: a whole word is stronger evidence than one of its
	// character n-grams, which carry inflections ("karty"/"kartę") and
	// typos ("zameldowanei") that whole words miss.
	word, gram3, gram4 float32
	knn, cent          float64 // weights of the best example and of the centroid
	answerWeight       float64 // weight of an answer's text in its entry's centroid
	kwFull             float64 // containment from which a keyword counts as present
	kwBonus            float64 // score added to an entry whose keyword is present
	answerGrams        bool    // index the n-grams of answers too
	rerank             float64 // weight of coverage when re-ranking the best candidates
	unknownWord        float64 // weight of a word no topic knows, relative to the rarest known word
}

func defaultTuning() tuning {
	return tuning{word: 1, gram3: 0.5, gram4: 0.7, knn: 0.35, cent: 0.65, answerWeight: 4, kwFull: 0.8, kwBonus: 0.08, rerank: 0.8, unknownWord: 1.5}
}

// docKind tells what a document of the index is.
type docKind uint8

const (
	kindQuestion docKind = iota
	kindKeyword
	kindTitle
	kindAnswer // answers feed centroids only
)

type docInfo struct {
	entry int32
	kind  docKind
}

type posting struct {
	doc int32   // a document, or an entry in the centroid list
	w   float32 // the feature's weight in the normalised vector
}

// featIndex is everything the matcher knows about one feature, found with
// a single map lookup per feature of a message.
type featIndex struct {
	df   int32
	idf  float32
	docs []posting // example documents that have the feature
	ents []posting // entry centroids that have the feature
}

// rawDoc is a document during indexing.
type rawDoc struct {
	info  docInfo
	feats []feature
}

// NewMatcher indexes every example question, keyword and title of the
// base, in all languages, so that a question in any language and script
// meets every entry; answers add their words to their entry's centroid.
func NewMatcher(b *Base, th Thresholds) *Matcher {
	return newMatcher(b, th, defaultTuning())
}

func newMatcher(b *Base, th Thresholds, t tuning) *Matcher {
	m := &Matcher{
		entries: b.Entries(),
		feats:   map[uint32]*featIndex{},
		known:   map[string]float32{},
		stop:    map[string]struct{}{},
		th:      th,
		tune:    t,
	}
	for _, w := range stopwords() {
		m.stop[Fold(w)] = struct{}{}
	}
	raw := m.collect()
	// Give every feature a dense id: indexing then works on slices, and
	// rawDoc features carry the id in h from here on.
	ids := map[uint32]int32{}
	for _, d := range raw {
		for i, f := range d.feats {
			id, ok := ids[f.h]
			if !ok {
				id = int32(len(m.byID))
				ids[f.h] = id
				m.byID = append(m.byID, featIndex{})
			}
			m.byID[id].df++
			d.feats[i].h = uint32(id)
		}
	}
	n := float64(len(raw))
	for i := range m.byID {
		m.byID[i].idf = float32(math.Log(1 + n/float64(m.byID[i].df)))
	}
	m.unknownIDF = float32(math.Log(1 + n))
	m.indexDocs(raw)
	m.feats = make(map[uint32]*featIndex, len(ids))
	for h, id := range ids {
		m.feats[h] = &m.byID[id]
	}
	m.scratch = sync.Pool{New: func() any { return m.newScratch() }}
	return m
}

// collect turns every text of every entry into a document and records the
// word prefixes each entry uses (see coverage).
func (m *Matcher) collect() []rawDoc {
	var (
		raw       []rawDoc
		words     []string
		count     = map[string]int{}
		cache     = map[string][]feature{}
		wordsOnly = map[string][]feature{}
	)
	m.vocab = make([]map[string]struct{}, len(m.entries))
	for i, e := range m.entries {
		v := map[string]struct{}{}
		add := func(kind docKind, text string) {
			words = m.tokens(Fold(text), words[:0])
			if len(words) == 0 {
				return
			}
			for _, w := range words {
				v[prefix(w)] = struct{}{}
			}
			t, c := m.tune, cache
			if kind == kindAnswer && !m.tune.answerGrams {
				// Answers lend their vocabulary to the centroid; whole
				// words suffice and keep indexing fast.
				t.gram3, t.gram4, c = 0, 0, wordsOnly
			}
			raw = append(raw, rawDoc{docInfo{int32(i), kind}, t.featuresCached(words, nil, c)})
		}
		for _, l := range Langs() {
			for _, q := range e.Questions[l] {
				add(kindQuestion, q)
			}
			add(kindTitle, e.Title[l])
			add(kindAnswer, e.Answer[l])
		}
		for _, k := range e.Keywords {
			add(kindKeyword, k)
		}
		for p := range v {
			count[p]++
		}
		m.vocab[i] = v
	}
	ne := float64(len(m.entries))
	m.unknownWordIDF = float32(m.tune.unknownWord * math.Log(1+ne))
	for p, c := range count {
		m.known[p] = float32(math.Log(1 + ne/float64(c)))
	}
	return raw
}

// indexDocs weights and normalises every document, posts the examples in
// the document lists and sums each entry's documents into its centroid.
// Documents arrive grouped by entry, so one centroid is built at a time.
func (m *Matcher) indexDocs(raw []rawDoc) {
	cent := make([]float64, len(m.byID))
	var touched []int32
	flush := func(e int32) {
		var norm float64
		for _, id := range touched {
			norm += cent[id] * cent[id]
		}
		norm = math.Sqrt(norm)
		for _, id := range touched {
			fi := &m.byID[id]
			fi.ents = append(fi.ents, posting{e, float32(cent[id] / norm)})
			cent[id] = 0
		}
		touched = touched[:0]
	}
	for i, rd := range raw {
		if i > 0 && raw[i-1].info.entry != rd.info.entry {
			flush(raw[i-1].info.entry)
		}
		var norm float64
		for j := range rd.feats {
			rd.feats[j].w *= m.byID[rd.feats[j].h].idf
			norm += float64(rd.feats[j].w) * float64(rd.feats[j].w)
		}
		norm = math.Sqrt(norm)
		share := 1.0
		if rd.info.kind == kindAnswer {
			share = m.tune.answerWeight
		}
		for _, f := range rd.feats {
			if cent[f.h] == 0 {
				touched = append(touched, int32(f.h))
			}
			cent[f.h] += share * float64(f.w) / norm
		}
		if rd.info.kind == kindAnswer {
			continue
		}
		doc := int32(len(m.docs))
		m.docs = append(m.docs, rd.info)
		for _, f := range rd.feats {
			fi := &m.byID[f.h]
			fi.docs = append(fi.docs, posting{doc, float32(float64(f.w) / norm)})
		}
	}
	if len(raw) > 0 {
		flush(raw[len(raw)-1].info.entry)
	}
}

func (m *Matcher) newScratch() *scratch {
	return &scratch{
		cos:    make([]float32, len(m.docs)),
		cont:   make([]float32, len(m.docs)),
		seen:   make([]bool, len(m.docs)),
		best:   make([]float32, len(m.entries)),
		bestKw: make([]float32, len(m.entries)),
		cent:   make([]float32, len(m.entries)),
		hit:    make([]bool, len(m.entries)),
	}
}
