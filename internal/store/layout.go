package store

import "math/bits"

// State file layout once the number of chunks N is known. Every area starts
// on a 4 KiB boundary so it can be synced on its own:
//
//	header    one 4 KiB page (see header.go)
//	live      chunk bitmap, ceil(N/64) little-endian uint64 words
//	slot 0    checkpoint slot (see checkpoint.go)
//	slot 1    checkpoint slot
//	hash bits presence bitmap of the tree nodes, one bit per bin
//	hashes    HashSize bytes per bin, at offset bin*HashSize
//
// The tree has W leaves, W the smallest power of two >= N, so its bins are
// 0..2W-2 (RFC 7574 §4.2, §5.1) and a bin number indexes the hash area
// directly. The hash area stays sparse until hashes are put.
const areaAlign = 4096

// slotFixed is the part of a checkpoint slot before the bitmap words:
// generation (8), CRC32C (4), flags (4), bitmap limit (8).
const slotFixed = 24

type layout struct {
	chunks   uint64 // N
	words    int64  // uint64 words in a chunk bitmap
	bins     uint64 // 2W-1
	binWords int64  // uint64 words in the hash presence bitmap
	live     int64
	slots    [2]int64
	slotLen  int64
	hashBits int64
	hashes   int64
	hashLen  int64
	total    int64
}

func alignUp(n int64) int64 { return (n + areaAlign - 1) &^ (areaAlign - 1) }

// newLayout computes the layout for n >= 1 chunks. n <= bin.MaxChunks and
// hashSize <= 64 keep every offset far below 2^63.
func newLayout(n uint64, hashSize int) layout {
	w := uint64(1) << bits.Len64(n-1)
	l := layout{
		chunks: n,
		words:  int64((n + 63) / 64),
		bins:   2*w - 1,
	}
	l.binWords = int64((l.bins + 63) / 64)
	l.slotLen = slotFixed + 8*l.words
	l.live = areaAlign
	l.slots[0] = l.live + alignUp(8*l.words)
	l.slots[1] = l.slots[0] + alignUp(l.slotLen)
	l.hashBits = l.slots[1] + alignUp(l.slotLen)
	l.hashes = l.hashBits + alignUp(8*l.binWords)
	l.hashLen = int64(l.bins) * int64(hashSize)
	l.total = l.hashes + alignUp(l.hashLen)
	return l
}
