package bin

import (
	"fmt"
	"math/bits"
)

// Range is an inclusive range of chunk indices (RFC 7574 §4.3).
type Range struct {
	Start, End uint64
}

// Len returns the number of chunks in r, or 0 if r is empty (End < Start).
func (r Range) Len() uint64 {
	if r.End < r.Start {
		return 0
	}
	return r.End - r.Start + 1
}

// Contains reports whether chunk i is in r.
func (r Range) Contains(i uint64) bool { return i >= r.Start && i <= r.End }

// IsBin reports whether r is exactly one aligned bin, and returns it.
func (r Range) IsBin() (Bin, bool) {
	n := r.Len()
	if n == 0 || n&(n-1) != 0 || r.Start%n != 0 {
		return None, false
	}
	l := uint(bits.TrailingZeros64(n))
	return New(l, r.Start>>l), true
}

// AppendBins appends the minimal list of aligned bins that exactly cover r,
// in ascending chunk order.
func (r Range) AppendBins(dst []Bin) []Bin {
	if r.End < r.Start {
		return dst
	}
	s, e := r.Start, r.End
	for {
		// Largest aligned block starting at s that does not pass e.
		var l uint
		if s == 0 {
			l = 63
		} else {
			l = uint(bits.TrailingZeros64(s))
		}
		for l > 0 && (l >= 64 || s+(uint64(1)<<l)-1 > e || s+(uint64(1)<<l)-1 < s) {
			l--
		}
		dst = append(dst, New(l, s>>l))
		next := s + uint64(1)<<l
		if next-1 == e || next == 0 {
			return dst
		}
		s = next
	}
}

// Bins returns the minimal list of aligned bins that exactly cover r.
func (r Range) Bins() []Bin { return r.AppendBins(nil) }

func (r Range) String() string { return fmt.Sprintf("[%d..%d]", r.Start, r.End) }
