package knowledge

import (
	"math"
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
	commonDF           float64 // share of documents above which a feature is common (0: none)
}

func defaultTuning() tuning {
	return tuning{word: 1, gram3: 0.5, gram4: 0.7, knn: 0.35, cent: 0.65, answerWeight: 4, kwFull: 0.8, kwBonus: 0.08, rerank: 0.8, unknownWord: 1.5, commonDF: 0.05}
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
	df      int32
	entries int32 // entries whose text has the feature (centroid postings)
	idf     float32
	docs    []posting // example questions and titles that have the feature
	kws     []posting // keywords that have the feature
	ents    []posting // entry centroids that have the feature
	// common features (in a large share of documents) add little to a
	// document's cosine but cost the most to score: only centroids and
	// keywords use them.
	common bool
	// commonEnt: the feature is in so many entries' centroids that it
	// cannot tell them apart; skipped for centroids (large FAQs only).
	commonEnt bool
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

// indexDocs weights and normalises every document, posts the examples in
// the document lists and sums each entry's documents into its centroid.
// Documents arrive grouped by entry, so one centroid is built at a time.
// Each kind of posting list is cut from one shared array (counted first),
// which spares tens of thousands of small allocations.
func (m *Matcher) indexDocs(raw []rawDoc) {
	m.allocPostings(raw)
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
		doc := int32(len(m.docEntry))
		m.docEntry = append(m.docEntry, rd.info.entry)
		for _, f := range rd.feats {
			fi := &m.byID[f.h]
			p := posting{doc, float32(float64(f.w) / norm)}
			if rd.info.kind == kindKeyword {
				fi.kws = append(fi.kws, p)
			} else {
				fi.docs = append(fi.docs, p)
			}
		}
	}
	if len(raw) > 0 {
		flush(raw[len(raw)-1].info.entry)
	}
	limit := max(minCommonEnts, int(m.tune.commonDF*float64(len(m.entries))))
	for i := range m.byID {
		m.byID[i].commonEnt = m.tune.commonDF > 0 && len(m.byID[i].ents) > limit
	}
}

// allocPostings gives every feature empty document, keyword and centroid
// lists with room for exactly the postings it will get.
func (m *Matcher) allocPostings(raw []rawDoc) {
	nDocs, nKws := make([]int32, len(m.byID)), make([]int32, len(m.byID))
	var totalDocs, totalKws int
	for _, rd := range raw {
		switch rd.info.kind {
		case kindAnswer:
		case kindKeyword:
			for _, f := range rd.feats {
				nKws[f.h]++
			}
			totalKws += len(rd.feats)
		default:
			for _, f := range rd.feats {
				nDocs[f.h]++
			}
			totalDocs += len(rd.feats)
		}
	}
	var totalEnts int
	for i := range m.byID {
		totalEnts += int(m.byID[i].entries)
	}
	docs, kws, ents := make([]posting, totalDocs), make([]posting, totalKws), make([]posting, totalEnts)
	for i := range m.byID {
		fi := &m.byID[i]
		fi.docs, docs = docs[:0:nDocs[i]], docs[nDocs[i]:]
		fi.kws, kws = kws[:0:nKws[i]], kws[nKws[i]:]
		fi.ents, ents = ents[:0:fi.entries], ents[fi.entries:]
	}
}

// maxDocPostings bounds the documents one feature of a message may touch,
// which bounds the work per message on a very large FAQ: a feature in more
// documents than this is too common to tell them apart anyway.
const maxDocPostings = 3000

// minCommonEnts keeps centroid pruning away from small FAQs, where every
// centroid is cheap to score and each one matters.
const minCommonEnts = 100

func (m *Matcher) newScratch() *scratch {
	return &scratch{
		cos:  make([]float32, len(m.docEntry)),
		cont: make([]float32, len(m.docEntry)),
		// One more than the documents: score writes a document before
		// it knows whether to count it.
		touch:  make([]int32, len(m.docEntry)+1),
		best:   make([]float32, len(m.entries)),
		bestKw: make([]float32, len(m.entries)),
		cent:   make([]float32, len(m.entries)),
		hit:    make([]bool, len(m.entries)),
	}
}
