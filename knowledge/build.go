package knowledge

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unicode"
)

func newMatcher(b *Base, th Thresholds, t tuning) *Matcher {
	m := &Matcher{
		entries: b.Entries(),
		known:   map[string]prefixInfo{},
		stop:    map[string]struct{}{},
		th:      th,
		tune:    t,
		phrases: b.Phrases(),
	}
	for _, w := range stopwords() {
		m.stop[Fold(w)] = struct{}{}
	}
	raw, ids := m.collect()
	m.kwWords = m.keywordWords()
	n := float64(len(raw))
	for i := range m.byID {
		fi := &m.byID[i]
		fi.idf = float32(math.Log(1 + n/float64(max(fi.df, 1))))
		fi.common = t.commonDF > 0 && float64(fi.df) > min(t.commonDF*n, maxDocPostings)
	}
	m.unknownIDF = float32(math.Log(1 + n))
	m.indexDocs(raw)
	m.ids = ids
	m.lookup = newFeatTable(ids, m.byID)
	m.scratch = sync.Pool{New: func() any { return m.newScratch() }}
	return m
}

// collect turns every text of every entry into documents, in entry order,
// and gives every feature a dense id (returned by hash). Folding the texts
// into words is the larger half of indexing and parallelises well, so a
// few workers fold while one builder then numbers the features; the index
// does not depend on how the folding was split.
func (m *Matcher) collect() ([]rawDoc, map[uint32]int32) {
	texts, vocab, ready := m.foldAll()
	b := newBuilder(m, len(m.entries))
	count := map[string]int{}
	for i := range m.entries {
		<-ready[i] // numbering starts while later entries are still folded
		for _, t := range texts[i] {
			// Answers lend their vocabulary to the centroid; whole words
			// suffice there and keep indexing fast.
			wordsOnly := t.kind == kindAnswer && !m.tune.answerGrams
			b.raw = append(b.raw, rawDoc{docInfo{int32(i), t.kind}, b.doc(len(b.raw), i, t.words, wordsOnly)})
		}
		for p := range vocab[i] {
			count[p]++
		}
	}
	m.byID = make([]featIndex, len(b.hashes))
	for id := range m.byID {
		m.byID[id].df = b.df[id]
		m.byID[id].entries = b.entDF[id]
	}
	ne := float64(len(m.entries))
	m.unknownWordIDF = float32(m.tune.unknownWord * math.Log(1+ne))
	for p, c := range count {
		m.known[p] = prefixInfo{id: int32(len(m.known)), idf: float32(math.Log(1 + ne/float64(c)))}
	}
	m.vocab = make([]map[int32]struct{}, len(vocab))
	for i, v := range vocab {
		m.vocab[i] = make(map[int32]struct{}, len(v))
		for p := range v {
			m.vocab[i][m.known[p].id] = struct{}{}
		}
	}
	return b.raw, b.ids
}

// keywordWords returns the distinct folded words of every keyword,
// shortest first, then in byte order (see closestKeyword).
func (m *Matcher) keywordWords() []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range m.entries {
		for _, k := range e.Keywords {
			for _, w := range m.tokens(Fold(k), nil) {
				if len(w) >= typoMinLen && !seen[w] {
					seen[w] = true
					out = append(out, w)
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(a), len(b)), strings.Compare(a, b))
	})
	return out
}

// foldedText is one text of an entry, folded into words.
type foldedText struct {
	kind  docKind
	words []string
}

// foldAll folds every text of every entry, in parallel over entries, and
// returns the word prefixes each entry uses (see coverage).
// ready[i] is closed once entry i is folded; workers take entries in
// turn (0, 1, 2 … across workers), so the first entries are ready first.
func (m *Matcher) foldAll() (out [][]foldedText, vocab []map[string]struct{}, ready []chan struct{}) {
	n := len(m.entries)
	out = make([][]foldedText, n)
	ready = make([]chan struct{}, n)
	for i := range ready {
		ready[i] = make(chan struct{})
	}
	vocab = make([]map[string]struct{}, n)
	workers := max(1, min(runtime.GOMAXPROCS(0), 4, n/16))
	for w := range workers {
		go func() {
			f := folder{m: m, cache: make(map[string][]string, 400*n/workers)}
			for i := w; i < n; i += workers {
				out[i], vocab[i] = f.entry(m.entries[i])
				close(ready[i])
			}
		}()
	}
	return out, vocab, ready
}

// folder folds texts, remembering each distinct token's words: most
// tokens recur across questions, answers and languages.
type folder struct {
	m     *Matcher
	cache map[string][]string // raw token -> its folded words, stop words dropped
}

func (f *folder) entry(e *Entry) ([]foldedText, map[string]struct{}) {
	var ts []foldedText
	vocab := map[string]struct{}{}
	add := func(kind docKind, text string) {
		ws := f.words(text, nil)
		if len(ws) == 0 {
			return
		}
		ts = append(ts, foldedText{kind, ws})
		for _, w := range ws {
			vocab[prefix(w)] = struct{}{}
		}
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
	return ts, vocab
}

// words folds text token by token. Folding each whitespace-separated token
// alone gives the same words as folding the whole text: Fold turns every
// separator into a space and never merges letters across one.
func (f *folder) words(text string, dst []string) []string {
	for text != "" {
		i := strings.IndexFunc(text, unicode.IsSpace)
		tok := text
		if i >= 0 {
			tok, text = text[:i], text[i+1:]
		} else {
			text = ""
		}
		if tok == "" {
			continue
		}
		ws, ok := f.cache[tok]
		if !ok {
			ws = f.m.tokens(Fold(tok), nil)
			f.cache[tok] = ws
		}
		dst = append(dst, ws...)
	}
	return dst
}

// builder numbers the features of folded texts densely, so that indexing
// works on slices, not maps, and computes each distinct word's features
// once.
type builder struct {
	m      *Matcher
	feats  map[string][]int32 // folded word -> ids of its features, the word itself first
	ids    map[uint32]int32   // feature hash -> id
	hashes []uint32           // per id: the feature's hash
	kindW  []float32          // per id: the weight of the feature's kind
	df     []int32            // per id: documents that have the feature
	mark   []int32            // per id: 1 + the last document that had the feature
	pos    []int32            // per id: its place in that document's feature list
	entDF  []int32            // per id: entries that have the feature
	entMk  []int32            // per id: 1 + the last entry that had the feature
	raw    []rawDoc

	scratch []feature
	arena   []feature
	idArena []int32
}

func newBuilder(m *Matcher, entries int) *builder {
	// Sizes seen on the shipped FAQ per entry, so that maps and lists
	// rarely grow while indexing.
	n := entries
	return &builder{
		m:      m,
		feats:  make(map[string][]int32, 250*n),
		ids:    make(map[uint32]int32, 600*n),
		hashes: make([]uint32, 0, 600*n),
		kindW:  make([]float32, 0, 600*n),
		df:     make([]int32, 0, 600*n),
		mark:   make([]int32, 0, 600*n),
		pos:    make([]int32, 0, 600*n),
		entDF:  make([]int32, 0, 600*n),
		entMk:  make([]int32, 0, 600*n),
	}
}

// doc returns the features of document number d of entry e: ids with kind
// weight × (1 + log term frequency).
func (b *builder) doc(d, e int, words []string, wordsOnly bool) []feature {
	// All documents' features share large blocks, which spares an
	// allocation per document.
	if cap(b.arena) < 4096 {
		b.arena = make([]feature, 0, 1<<16)
	}
	out := b.arena
	for _, w := range words {
		ids := b.wordFeatures(w)
		if wordsOnly {
			ids = ids[:1]
		}
		for _, id := range ids {
			if b.mark[id] == int32(d+1) {
				out[b.pos[id]].n++
				continue
			}
			b.mark[id], b.pos[id] = int32(d+1), int32(len(out))
			out = append(out, feature{h: uint32(id), w: b.kindW[id], n: 1})
		}
	}
	for i := range out {
		if out[i].n > 1 { // 1 + log 1 = 1: most features occur once
			out[i].w *= float32(1 + math.Log(float64(out[i].n)))
		}
		id := out[i].h
		b.df[id]++
		if b.entMk[id] != int32(e+1) {
			b.entMk[id] = int32(e + 1)
			b.entDF[id]++
		}
	}
	b.arena = out[len(out):]
	return out[:len(out):len(out)]
}

// wordFeatures returns the ids of a word's features, computing them the
// first time the word is seen.
func (b *builder) wordFeatures(w string) []int32 {
	if ids, ok := b.feats[w]; ok {
		return ids
	}
	b.scratch = b.m.tune.rawFeatures(w, b.scratch[:0])
	// Words' id lists share large blocks, like documents' features.
	if cap(b.idArena)-len(b.idArena) < len(b.scratch) {
		b.idArena = make([]int32, 0, max(1<<14, len(b.scratch)))
	}
	start := len(b.idArena)
	for _, f := range b.scratch {
		id, ok := b.ids[f.h]
		if !ok {
			id = int32(len(b.hashes))
			b.ids[f.h] = id
			b.hashes = append(b.hashes, f.h)
			b.kindW = append(b.kindW, f.w)
			b.df = append(b.df, 0)
			b.mark = append(b.mark, 0)
			b.pos = append(b.pos, 0)
			b.entDF = append(b.entDF, 0)
			b.entMk = append(b.entMk, 0)
		}
		b.idArena = append(b.idArena, id)
	}
	ids := b.idArena[start:len(b.idArena):len(b.idArena)]
	b.feats[w] = ids
	return ids
}
