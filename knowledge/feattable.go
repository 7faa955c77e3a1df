package knowledge

import "math/bits"

// featTable finds a feature's index in byID by its hash. Matching looks
// up some 70 features per message; a Go map spent a sixth of matching on
// it. The hashes are hashes already, so an open-addressing table with
// linear probing needs no hashing of its own, only a multiply to spread
// FNV's weak low bits.
type featTable struct {
	slots []featSlot
	shift uint8 // 32 - log2(len(slots))
}

type featSlot struct {
	h  uint32
	id int32 // -1: empty
}

// newFeatTable holds the features of ids that some document has: a
// feature known only from answers' n-grams, which are not indexed, is as
// unknown to matching as a new one.
func newFeatTable(ids map[uint32]int32, byID []featIndex) featTable {
	n := 0
	for _, id := range ids {
		if byID[id].df > 0 {
			n++
		}
	}
	// At most half full: probes stay short.
	size := 1 << bits.Len(uint(2*n))
	t := featTable{slots: make([]featSlot, size), shift: uint8(32 - bits.TrailingZeros(uint(size)))}
	for i := range t.slots {
		t.slots[i].id = -1
	}
	mask := uint32(size - 1)
	for h, id := range ids {
		if byID[id].df == 0 {
			continue
		}
		i := t.slot(h)
		for t.slots[i].id >= 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = featSlot{h, id}
	}
	return t
}

func (t featTable) slot(h uint32) uint32 {
	return (h * 0x9E3779B1) >> t.shift
}

// get returns the index of the feature with hash h, or -1.
func (t featTable) get(h uint32) int32 {
	if len(t.slots) == 0 {
		return -1
	}
	mask := uint32(len(t.slots) - 1)
	for i := t.slot(h); ; i = (i + 1) & mask {
		s := t.slots[i]
		if s.id < 0 || s.h == h {
			return s.id
		}
	}
}
