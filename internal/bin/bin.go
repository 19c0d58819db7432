package bin

import (
	"fmt"
	"math/bits"
)

// Bin is a bin number (RFC 7574 §4.2). Layer 0 bins are single chunks
// (bin 2i is chunk i); a bin at layer l covers 2^l chunks.
type Bin uint64

// None is the invalid bin. It is also the bin whose 64-bit encoding is all
// ones, which RFC 7574 reserves.
const None Bin = ^Bin(0)

// New returns the bin at the given layer and offset within that layer.
func New(layer uint, offset uint64) Bin {
	return Bin((2*offset+1)<<layer - 1)
}

// Chunk returns the layer-0 bin of chunk i.
func Chunk(i uint64) Bin { return Bin(2 * i) }

// Layer returns the height of b above the chunks: the number of trailing
// one bits.
func (b Bin) Layer() uint { return uint(bits.TrailingZeros64(^uint64(b))) }

// Offset returns b's index within its layer.
func (b Bin) Offset() uint64 { return uint64(b) >> (b.Layer() + 1) }

// Chunks returns the number of chunks b covers.
func (b Bin) Chunks() uint64 { return 1 << b.Layer() }

// FirstChunk returns the index of the first chunk b covers.
func (b Bin) FirstChunk() uint64 { return b.Offset() << b.Layer() }

// LastChunk returns the index of the last chunk b covers.
func (b Bin) LastChunk() uint64 { return b.FirstChunk() + b.Chunks() - 1 }

// Range returns the chunk range b covers.
func (b Bin) Range() Range { return Range{b.FirstChunk(), b.LastChunk()} }

// BaseLeft returns the leftmost layer-0 bin under b.
func (b Bin) BaseLeft() Bin { return Chunk(b.FirstChunk()) }

// BaseRight returns the rightmost layer-0 bin under b.
func (b Bin) BaseRight() Bin { return Chunk(b.LastChunk()) }

// Parent returns the bin one layer up that covers b.
func (b Bin) Parent() Bin {
	l := b.Layer()
	return New(l+1, b.Offset()>>1)
}

// IsLeft reports whether b is the left child of its parent.
func (b Bin) IsLeft() bool { return b.Offset()&1 == 0 }

// Sibling returns the other child of b's parent.
func (b Bin) Sibling() Bin { return b ^ Bin(uint64(2)<<b.Layer()) }

// Left returns b's left child. It must not be called on a layer-0 bin.
func (b Bin) Left() Bin { return b - Bin(uint64(1)<<(b.Layer()-1)) }

// Right returns b's right child. It must not be called on a layer-0 bin.
func (b Bin) Right() Bin { return b + Bin(uint64(1)<<(b.Layer()-1)) }

// Contains reports whether c lies in the subtree rooted at b (b contains
// itself).
func (b Bin) Contains(c Bin) bool {
	if b == None || c == None {
		return false
	}
	return c.Layer() <= b.Layer() && c.FirstChunk() >= b.FirstChunk() && c.LastChunk() <= b.LastChunk()
}

func (b Bin) String() string {
	if b == None {
		return "bin(none)"
	}
	return fmt.Sprintf("bin(%d: layer %d, chunks %d..%d)", uint64(b), b.Layer(), b.FirstChunk(), b.LastChunk())
}

// Root returns the smallest bin that covers chunks [0, n). It returns the
// chunk-0 bin when n is 0 or 1.
func Root(n uint64) Bin {
	if n <= 1 {
		return 0
	}
	l := uint(bits.Len64(n - 1))
	return New(l, 0)
}

// Peaks returns the peaks of a content of n chunks (RFC 7574 §5.6.2): the
// largest aligned bins that together cover exactly chunks [0, n), left to
// right.
func Peaks(n uint64) []Bin {
	var out []Bin
	var start uint64
	for l := 63; l >= 0; l-- {
		if n&(1<<uint(l)) != 0 {
			out = append(out, New(uint(l), start>>uint(l)))
			start += 1 << uint(l)
		}
	}
	return out
}
