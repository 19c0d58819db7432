package store

import (
	"encoding/binary"
	"math/bits"
	"sync/atomic"
	"unsafe"
)

// The bitmaps in the state file are little-endian uint64 words, bit i%64 of
// word i/64 standing for chunk (or bin) i, the same encoding bin.Set's
// MarshalBinary uses. They are updated in place with atomic operations on
// the mapped words, so the masks are converted to host order.

var littleEndianHost = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// hostMask returns, in host byte order, the mask selecting bit i%64 of a
// little-endian word.
func hostMask(i uint64) uint64 {
	m := uint64(1) << (i % 64)
	if !littleEndianHost {
		m = bits.ReverseBytes64(m)
	}
	return m
}

// fromLE converts a word read from the mapping to its little-endian value.
func fromLE(w uint64) uint64 {
	if !littleEndianHost {
		return bits.ReverseBytes64(w)
	}
	return w
}

// words views b[off:off+8*n] as uint64 words. off must be a multiple of 8
// inside a page-aligned mapping, which the layout guarantees.
func words(b []byte, off, n int64) []uint64 {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*uint64)(unsafe.Pointer(&b[off])), n)
}

func setBit(w []uint64, i uint64) { atomic.OrUint64(&w[i/64], hostMask(i)) }

func clearBit(w []uint64, i uint64) { atomic.AndUint64(&w[i/64], ^hostMask(i)) }

func hasBit(w []uint64, i uint64) bool { return atomic.LoadUint64(&w[i/64])&hostMask(i) != 0 }

// forEachBit calls fn for every set bit below limit, in order.
func forEachBit(w []uint64, limit uint64, fn func(i uint64)) {
	for k := range w {
		x := fromLE(atomic.LoadUint64(&w[k]))
		for x != 0 {
			i := uint64(k)*64 + uint64(bits.TrailingZeros64(x))
			if i >= limit {
				return
			}
			fn(i)
			x &= x - 1
		}
	}
}
