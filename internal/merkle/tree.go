package merkle

import (
	"fmt"
	"math/bits"

	"github.com/nextshare/nextshare/internal/bin"
)

// Node is one node of a tree: its bin and its hash.
type Node struct {
	Bin  bin.Bin
	Hash []byte
}

// maxDepth bounds the length of a leaf-to-peak path. With at most
// bin.MaxChunks (2^32) chunks a path has at most 33 nodes.
const maxDepth = 64

// step is one node on a leaf-to-peak path being verified.
type step struct {
	b      bin.Bin
	sibNew bool // b's sibling came from candidates and is verified by this step
}

// Tree is a Merkle hash tree (RFC 7574 §5). It is not safe for concurrent
// use: one goroutine owns it.
//
// Invariants once the peaks are known:
//   - hashes holds the hash of bin b at [b*hs, (b+1)*hs) for b in
//     [0, 2w-1); the slot is meaningful only if b is verified.
//   - Slots of empty subtrees (first chunk >= n) are never written and stay
//     zero, which is their hash; empty subtrees count as verified.
//   - Every peak and every node above the peaks is verified.
type Tree struct {
	f         Func
	hs        int // hash size in bytes
	chunkSize int
	root      []byte

	// Zero until the peaks are known.
	n        uint64    // number of chunks
	w        uint64    // leaves of the padded tree: next power of two >= n
	size     int64     // exact content size in bytes, -1 if unknown
	peaks    []bin.Bin // bin.Peaks(n)
	hashes   []byte
	verified []uint64 // bit b: the hash of bin b is verified

	// Scratch for VerifyLeaf, so it does not allocate.
	pair [2 * maxHashSize]byte
	sum  [maxHashSize]byte
	leaf [maxHashSize]byte
	path [maxDepth]step
}

// New returns a tree known only by its root hash: a downloader's view. Its
// size is unknown until SetPeaks.
func New(root []byte, f Func, chunkSize int) (*Tree, error) {
	if !f.Valid() {
		return nil, fmt.Errorf("merkle: new tree: invalid hash function %v", f)
	}
	if len(root) != f.Size() {
		return nil, fmt.Errorf("merkle: new tree: root hash is %d bytes, %v needs %d", len(root), f, f.Size())
	}
	if chunkSize <= 0 {
		return nil, fmt.Errorf("merkle: new tree: invalid chunk size %d", chunkSize)
	}
	return &Tree{
		f:         f,
		hs:        f.Size(),
		chunkSize: chunkSize,
		root:      append([]byte(nil), root...),
		size:      -1,
	}, nil
}

// Root returns the root hash. The caller must not modify it.
func (t *Tree) Root() []byte { return t.root }

// Func returns the hash function.
func (t *Tree) Func() Func { return t.f }

// ChunkSize returns the chunk size in bytes.
func (t *Tree) ChunkSize() int { return t.chunkSize }

// NumChunks returns the number of chunks, or 0 while the peaks are unknown.
func (t *Tree) NumChunks() uint64 { return t.n }

// Known reports whether the peaks, and so the number of chunks, are known.
func (t *Tree) Known() bool { return t.hashes != nil }

// Size returns the exact content size in bytes if known (Build or
// SetSize), else -1.
func (t *Tree) Size() int64 { return t.size }

// SetSize records the exact content size, typically once the last chunk's
// length is known. It must agree with NumChunks and with any size set
// before.
func (t *Tree) SetSize(size int64) error {
	if !t.Known() {
		return fmt.Errorf("merkle: set size %d: %w", size, ErrUnknownSize)
	}
	if size <= 0 || chunksFor(size, t.chunkSize) != t.n {
		return fmt.Errorf("merkle: set size %d: does not fit %d chunks of %d bytes", size, t.n, t.chunkSize)
	}
	if t.size >= 0 && t.size != size {
		return fmt.Errorf("merkle: set size %d: size already known as %d", size, t.size)
	}
	t.size = size
	return nil
}

// Peaks returns copies of the verified peak nodes, left to right, or nil
// while they are unknown.
func (t *Tree) Peaks() []Node {
	if !t.Known() {
		return nil
	}
	out := make([]Node, len(t.peaks))
	for i, p := range t.peaks {
		out[i] = Node{Bin: p, Hash: append([]byte(nil), t.slot(p)...)}
	}
	return out
}

// Hash returns the verified hash of node b, or false if b is outside the
// tree or not verified. Empty subtrees inside the tree are verified and
// all zero. The returned slice aliases the tree's storage: the caller must
// not modify it, and it stays valid (verified hashes never change).
func (t *Tree) Hash(b bin.Bin) ([]byte, bool) {
	if !t.isVerified(b) {
		return nil, false
	}
	return t.slot(b), true
}

// Verified reports whether the hash of node b is verified.
func (t *Tree) Verified(b bin.Bin) bool { return t.isVerified(b) }

// NodeCount returns the number of bins in the padded tree (2W-1), or 0
// while unknown.
func (t *Tree) NodeCount() uint64 {
	if !t.Known() {
		return 0
	}
	return 2*t.w - 1
}

// BinIndex maps a bin of the tree to its index in [0, NodeCount()). For a
// tree over W leaves the bins are exactly 0..2W-2, so the index is the bin
// number itself.
func (t *Tree) BinIndex(b bin.Bin) (uint64, bool) {
	if !t.inTree(b) {
		return 0, false
	}
	return uint64(b), true
}

// chunksFor returns the number of chunkSize chunks in size bytes.
func chunksFor(size int64, chunkSize int) uint64 {
	return (uint64(size) + uint64(chunkSize) - 1) / uint64(chunkSize)
}

// nextPow2 returns the smallest power of two >= n (1 for n <= 1).
func nextPow2(n uint64) uint64 {
	if n <= 1 {
		return 1
	}
	return 1 << bits.Len64(n-1)
}

// alloc sizes the storage for n chunks. The caller has checked n.
func (t *Tree) alloc(n uint64) {
	t.n = n
	t.w = nextPow2(n)
	t.peaks = bin.Peaks(n)
	nodes := 2*t.w - 1
	t.hashes = make([]byte, nodes*uint64(t.hs))
	t.verified = make([]uint64, (nodes+63)/64)
}

func (t *Tree) inTree(b bin.Bin) bool { return t.hashes != nil && uint64(b) < 2*t.w-1 }

// empty reports whether every leaf under b lies beyond the content.
func (t *Tree) empty(b bin.Bin) bool { return b.FirstChunk() >= t.n }

func (t *Tree) isVerified(b bin.Bin) bool {
	if !t.inTree(b) {
		return false
	}
	return t.verified[b/64]&(1<<(b%64)) != 0 || t.empty(b)
}

func (t *Tree) markVerified(b bin.Bin) { t.verified[b/64] |= 1 << (b % 64) }

// isPeak reports whether b is one of the peaks: a full subtree whose parent
// is not full.
func (t *Tree) isPeak(b bin.Bin) bool {
	return b.LastChunk() < t.n && b.Parent().LastChunk() >= t.n
}

// slot returns the storage of bin b, which must be in the tree.
func (t *Tree) slot(b bin.Bin) []byte {
	i := int(b) * t.hs
	return t.hashes[i : i+t.hs : i+t.hs]
}
