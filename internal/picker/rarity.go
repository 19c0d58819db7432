package picker

import (
	"math/bits"

	"github.com/nextshare/nextshare/internal/bin"
)

// levels is the number of rarity levels the window index distinguishes.
// Level l holds chunks that exactly l peers have, except the top level,
// which holds every chunk at least levels-1 peers have: beyond that many
// copies a chunk is in no danger of disappearing, so finer ordering buys
// nothing. Level 0 (no peer has the chunk) is never indexed: nobody could
// serve it. levels must not exceed 32 (levels are masked in a uint32).
const levels = 32

// level returns the rarity level of a chunk that c peers have.
func level(c uint16) int {
	if c >= levels-1 {
		return levels - 1
	}
	return int(c)
}

// rarity indexes the chunks of the in-order window by rarity level, so that
// Next finds the rarest chunks a peer has by scanning 64 chunks per word
// operation instead of reading one availability counter per chunk.
//
// It is a ring: chunk i lives in bit i%64 of word (i/64)&mask of its level.
// The picker keeps the window [lo, hi) no longer than the ring, so no two
// chunks of the window share a slot, and it clears a chunk's bit before the
// window moves past it (chunks leave the window only once verified).
//
// Invariant (with the Picker's window [lo, hi)): bit i is set in level l
// iff lo <= i < hi, chunk i is neither verified nor requested, and
// level(avail[i]) == l >= 1.
type rarity struct {
	bits     []uint64       // levels × words; level l starts at l*words
	words    uint64         // ring size in words, a power of two
	count    [levels]uint64 // bits set per level
	nonEmpty uint32         // bit l set iff count[l] > 0
}

// newRarity returns an index whose ring holds at least window chunks.
func newRarity(window uint64) rarity {
	words := uint64(1)
	for words*64 < window {
		words <<= 1
	}
	return rarity{bits: make([]uint64, levels*words), words: words}
}

// size returns the number of chunks the ring holds.
func (r *rarity) size() uint64 { return r.words * 64 }

func (r *rarity) word(l int, i uint64) *uint64 {
	return &r.bits[uint64(l)*r.words+(i>>6)&(r.words-1)]
}

// add sets chunk i in level l (l >= 1).
func (r *rarity) add(l int, i uint64) {
	w := r.word(l, i)
	m := uint64(1) << (i & 63)
	if *w&m != 0 {
		return
	}
	*w |= m
	r.count[l]++
	r.nonEmpty |= 1 << l
}

// remove clears chunk i from level l (l >= 1).
func (r *rarity) remove(l int, i uint64) {
	w := r.word(l, i)
	m := uint64(1) << (i & 63)
	if *w&m == 0 {
		return
	}
	*w &^= m
	r.count[l]--
	if r.count[l] == 0 {
		r.nonEmpty &^= 1 << l
	}
}

// has reports whether chunk i is set in level l.
func (r *rarity) has(l int, i uint64) bool {
	return *r.word(l, i)&(1<<(i&63)) != 0
}

// reset clears every level.
func (r *rarity) reset() {
	clear(r.bits)
	r.count = [levels]uint64{}
	r.nonEmpty = 0
}

// next returns the first chunk in [from, to) set in any level of mask and
// in has. to-from must not exceed the ring size. It costs one pass over
// the words of [from, to) per level, however the chunks of has and of the
// levels interleave.
func (r *rarity) next(mask uint32, from, to uint64, has *bin.Set) (uint64, bool) {
	mask &= r.nonEmpty
	if mask == 0 {
		return 0, false
	}
	for from < to {
		slot := (from >> 6) & (r.words - 1)
		var x uint64
		for m := mask; m != 0; m &= m - 1 {
			x |= r.bits[uint64(bits.TrailingZeros32(m))*r.words+slot]
		}
		x &= has.Word(from >> 6)
		x >>= from & 63
		if x != 0 {
			c := from + uint64(bits.TrailingZeros64(x))
			if c < to {
				return c, true
			}
			return 0, false
		}
		from = (from | 63) + 1
	}
	return 0, false
}
