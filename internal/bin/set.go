package bin

import (
	"encoding/binary"
	"errors"
	"math/bits"
)

// MaxChunks bounds the chunk indices a Set accepts, so that a remote peer's
// HAVE cannot make us allocate without limit. 2^32 chunks of 1 KiB is 4 TiB.
const MaxChunks = 1 << 32

// ErrTooLarge is returned when a chunk index is at or beyond a Set's limit.
var ErrTooLarge = errors.New("bin: chunk index beyond limit")

// Set is a bitmap of chunk indices. It grows as chunks are added, up to its
// limit. The zero value is an empty set with limit MaxChunks.
type Set struct {
	words []uint64
	count uint64
	limit uint64 // 0 means MaxChunks
}

// NewSet returns an empty set that accepts chunk indices below limit
// (MaxChunks if limit is 0), with room for n chunks preallocated.
func NewSet(n, limit uint64) *Set {
	if limit == 0 || limit > MaxChunks {
		limit = MaxChunks
	}
	if n > limit {
		n = limit
	}
	return &Set{words: make([]uint64, (n+63)/64), limit: limit}
}

// Limit returns the exclusive upper bound on chunk indices.
func (s *Set) Limit() uint64 {
	if s.limit == 0 {
		return MaxChunks
	}
	return s.limit
}

// SetLimit lowers or raises the limit. Chunks at or beyond the new limit
// are removed.
func (s *Set) SetLimit(limit uint64) {
	if limit == 0 || limit > MaxChunks {
		limit = MaxChunks
	}
	s.limit = limit
	w := (limit + 63) / 64
	if uint64(len(s.words)) > w {
		// Clear the dropped words: grow reslices into this capacity later.
		clear(s.words[w:])
		s.words = s.words[:w]
	}
	if rem := limit % 64; rem != 0 && uint64(len(s.words)) == w {
		s.words[w-1] &= (1 << rem) - 1
	}
	s.recount()
}

func (s *Set) recount() {
	var c uint64
	for _, w := range s.words {
		c += uint64(bits.OnesCount64(w))
	}
	s.count = c
}

func (s *Set) grow(i uint64) {
	need := i/64 + 1
	if need <= uint64(len(s.words)) {
		return
	}
	if need <= uint64(cap(s.words)) {
		s.words = s.words[:need]
		return
	}
	c := 2 * uint64(cap(s.words))
	if c < need {
		c = need
	}
	if max := (s.Limit() + 63) / 64; c > max {
		c = max
	}
	w := make([]uint64, need, c)
	copy(w, s.words)
	s.words = w
}

// Add adds chunk i and reports whether it was newly added.
func (s *Set) Add(i uint64) (bool, error) {
	if i >= s.Limit() {
		return false, ErrTooLarge
	}
	s.grow(i)
	m := uint64(1) << (i % 64)
	if s.words[i/64]&m != 0 {
		return false, nil
	}
	s.words[i/64] |= m
	s.count++
	return true, nil
}

// AddRange adds every chunk in r and returns how many were newly added.
func (s *Set) AddRange(r Range) (uint64, error) {
	if r.End < r.Start {
		return 0, nil
	}
	if r.End >= s.Limit() {
		return 0, ErrTooLarge
	}
	s.grow(r.End)
	var added uint64
	for i := r.Start; i <= r.End; {
		w := i / 64
		lo := i % 64
		hi := uint64(63)
		if w == r.End/64 {
			hi = r.End % 64
		}
		var m uint64
		if hi-lo == 63 {
			m = ^uint64(0)
		} else {
			m = ((uint64(1) << (hi - lo + 1)) - 1) << lo
		}
		added += uint64(bits.OnesCount64(m &^ s.words[w]))
		s.words[w] |= m
		i = (w + 1) * 64
		if i == 0 {
			break
		}
	}
	s.count += added
	return added, nil
}

// Remove removes chunk i and reports whether it was present.
func (s *Set) Remove(i uint64) bool {
	if i/64 >= uint64(len(s.words)) {
		return false
	}
	m := uint64(1) << (i % 64)
	if s.words[i/64]&m == 0 {
		return false
	}
	s.words[i/64] &^= m
	s.count--
	return true
}

// Has reports whether chunk i is in the set.
func (s *Set) Has(i uint64) bool {
	return i/64 < uint64(len(s.words)) && s.words[i/64]&(1<<(i%64)) != 0
}

// HasRange reports whether every chunk of r is in the set.
func (s *Set) HasRange(r Range) bool {
	if r.End < r.Start {
		return true
	}
	n, ok := s.NextMissing(r.Start)
	return !ok || n > r.End
}

// Count returns the number of chunks in the set.
func (s *Set) Count() uint64 { return s.count }

// NextMissing returns the first chunk index >= from that is not in the set
// and is below the limit.
func (s *Set) NextMissing(from uint64) (uint64, bool) {
	lim := s.Limit()
	for i := from; i < lim; {
		w := i / 64
		if w >= uint64(len(s.words)) {
			return i, true
		}
		x := ^s.words[w] >> (i % 64)
		if x != 0 {
			j := i + uint64(bits.TrailingZeros64(x))
			if j < lim {
				return j, true
			}
			return 0, false
		}
		i = (w + 1) * 64
	}
	return 0, false
}

// Word returns chunks [64w, 64w+64) as a bitmap, chunk 64w in bit 0.
func (s *Set) Word(w uint64) uint64 {
	if w < uint64(len(s.words)) {
		return s.words[w]
	}
	return 0
}

// NextPresent returns the first chunk index >= from that is in the set.
func (s *Set) NextPresent(from uint64) (uint64, bool) {
	for i := from; i/64 < uint64(len(s.words)); {
		w := i / 64
		x := s.words[w] >> (i % 64)
		if x != 0 {
			return i + uint64(bits.TrailingZeros64(x)), true
		}
		i = (w + 1) * 64
	}
	return 0, false
}

// Ranges calls fn for each maximal run of present chunks, in order, until fn
// returns false.
func (s *Set) Ranges(fn func(Range) bool) {
	var i uint64
	for {
		start, ok := s.NextPresent(i)
		if !ok {
			return
		}
		end, ok := s.NextMissing(start)
		if !ok {
			end = s.Limit()
		}
		if end > uint64(len(s.words))*64 {
			end = uint64(len(s.words)) * 64
		}
		if !fn(Range{start, end - 1}) {
			return
		}
		i = end
	}
}

// Clone returns a deep copy of s.
func (s *Set) Clone() *Set {
	c := *s
	c.words = append([]uint64(nil), s.words...)
	return &c
}

// MarshalBinary encodes the set as its limit followed by its words, little
// endian.
func (s *Set) MarshalBinary() ([]byte, error) {
	b := make([]byte, 8, 8+8*len(s.words))
	binary.LittleEndian.PutUint64(b, s.Limit())
	for _, w := range s.words {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary produced.
func (s *Set) UnmarshalBinary(b []byte) error {
	if len(b) < 8 || len(b)%8 != 0 {
		return errors.New("bin: malformed set encoding")
	}
	limit := binary.LittleEndian.Uint64(b)
	if limit == 0 || limit > MaxChunks || uint64(len(b)-8)/8 > (limit+63)/64 {
		return errors.New("bin: malformed set limit")
	}
	s.limit = limit
	s.words = make([]uint64, (len(b)-8)/8)
	for i := range s.words {
		s.words[i] = binary.LittleEndian.Uint64(b[8+8*i:])
	}
	if rem := limit % 64; rem != 0 && uint64(len(s.words)) == (limit+63)/64 {
		s.words[len(s.words)-1] &= (1 << rem) - 1
	}
	s.recount()
	return nil
}
