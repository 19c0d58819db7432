package merkle

import (
	"bytes"
	"fmt"

	"github.com/nextshare/nextshare/internal/bin"
)

// SetPeaks accepts the peak hashes of the content (RFC 7574 §5.6.2: a
// seeder sends them first, as INTEGRITY messages, so that a downloader
// learns the content size) if their bins are exactly bin.Peaks(n) for some
// n and they combine, padded with empty subtrees, to the root hash. This
// fixes NumChunks and marks the peaks and every node above them verified.
//
// Giving the same peaks again is a no-op; anything else after the peaks are
// known, or anything that does not combine to the root, is refused with an
// error wrapping ErrRootMismatch.
func (t *Tree) SetPeaks(peaks []Node) error {
	n, err := t.checkPeakShape(peaks)
	if err != nil {
		return err
	}
	if t.Known() {
		if n != t.n {
			return fmt.Errorf("merkle: set peaks: %d chunks, tree already has %d: %w", n, t.n, ErrRootMismatch)
		}
		for _, p := range peaks {
			if !bytes.Equal(p.Hash, t.slot(p.Bin)) {
				return fmt.Errorf("merkle: set peaks: peak %v differs from the verified one: %w", p.Bin, ErrRootMismatch)
			}
		}
		return nil
	}

	// Combine the peaks up to the root before allocating anything, so that
	// wrong peaks cost no memory. above collects the nodes over the peaks.
	above := make(map[bin.Bin][]byte)
	got := t.combinePeaks(bin.Root(n), n, peaks, above)
	if !bytes.Equal(got, t.root) {
		return fmt.Errorf("merkle: set peaks: %d peaks for %d chunks give root %x, want %x: %w",
			len(peaks), n, got, t.root, ErrRootMismatch)
	}

	t.alloc(n)
	for _, p := range peaks {
		copy(t.slot(p.Bin), p.Hash)
		t.markVerified(p.Bin)
	}
	for b, h := range above {
		copy(t.slot(b), h)
		t.markVerified(b)
	}
	return nil
}

// checkPeakShape checks that peaks are, left to right, exactly the peaks of
// some number of chunks n within bin.MaxChunks, with hashes of the right
// length, and returns n.
func (t *Tree) checkPeakShape(peaks []Node) (uint64, error) {
	if len(peaks) == 0 {
		return 0, fmt.Errorf("merkle: set peaks: no peaks: %w", ErrRootMismatch)
	}
	var n uint64
	for i, p := range peaks {
		if len(p.Hash) != t.hs {
			return 0, fmt.Errorf("merkle: set peaks: peak %d hash is %d bytes, want %d: %w", i, len(p.Hash), t.hs, ErrRootMismatch)
		}
		// Peaks are contiguous, strictly shrinking, aligned bins: the
		// binary digits of n from the top (§5.6.2).
		if p.Bin == bin.None || p.Bin.Layer() > 32 || p.Bin.FirstChunk() != n ||
			(i > 0 && p.Bin.Layer() >= peaks[i-1].Bin.Layer()) {
			return 0, fmt.Errorf("merkle: set peaks: bin %v at position %d is not a peak of a content starting at chunk 0: %w",
				p.Bin, i, ErrRootMismatch)
		}
		n += p.Bin.Chunks()
		if n > bin.MaxChunks {
			return 0, fmt.Errorf("merkle: set peaks: more than %d chunks: %w", uint64(bin.MaxChunks), ErrRootMismatch)
		}
	}
	want := bin.Peaks(n)
	if len(want) != len(peaks) {
		return 0, fmt.Errorf("merkle: set peaks: %d peaks, %d chunks have %d: %w", len(peaks), n, len(want), ErrRootMismatch)
	}
	for i, b := range want {
		if peaks[i].Bin != b {
			return 0, fmt.Errorf("merkle: set peaks: peak %d is %v, want %v: %w", i, peaks[i].Bin, b, ErrRootMismatch)
		}
	}
	return n, nil
}

// combinePeaks returns the hash of b in the tree over n chunks with the
// given peaks, recording every computed node (those above the peaks) in
// above. Recursion depth is at most the root's layer.
func (t *Tree) combinePeaks(b bin.Bin, n uint64, peaks []Node, above map[bin.Bin][]byte) []byte {
	if b.FirstChunk() >= n {
		return make([]byte, t.hs)
	}
	for _, p := range peaks {
		if p.Bin == b {
			return p.Hash
		}
	}
	l := t.combinePeaks(b.Left(), n, peaks, above)
	r := t.combinePeaks(b.Right(), n, peaks, above)
	h := make([]byte, t.hs)
	hashPair(t.f, h, t.pair[:], l, r)
	above[b] = h
	return h
}
