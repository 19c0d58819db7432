package merkle

import (
	"bytes"
	"fmt"

	"github.com/nextshare/nextshare/internal/bin"
)

// VerifyLeaf checks that leafHash is the hash of chunk c (RFC 7574 §5.2,
// §5.4). It walks up from the leaf: while the current node is not
// verified, it takes the sibling's hash (verified, zero for an empty
// subtree, or else from cand, which may be nil) and hashes the pair, until
// it reaches a verified node, which the result must equal. Every peak is
// verified, so the walk ends at a peak at the latest.
//
// On success every node on the path and every uncle taken from cand become
// verified; each newly verified node is passed to added (which may be nil)
// so it can be persisted, and the uncles used are removed from cand.
//
// It returns an error wrapping ErrMissingHashes if an uncle is unavailable,
// ErrMismatch if the computed hash differs from a verified one,
// ErrUnknownSize if the peaks are unknown, ErrOutOfRange if c is beyond the
// content. On error nothing becomes verified. It does not allocate on
// success.
func (t *Tree) VerifyLeaf(c uint64, leafHash []byte, cand *Candidates, added func(Node)) error {
	if !t.Known() {
		return fmt.Errorf("merkle: verify chunk %d: %w", c, ErrUnknownSize)
	}
	if c >= t.n {
		return fmt.Errorf("merkle: verify chunk %d of %d: %w", c, t.n, ErrOutOfRange)
	}
	if len(leafHash) != t.hs {
		return fmt.Errorf("merkle: verify chunk %d: leaf hash is %d bytes, want %d", c, len(leafHash), t.hs)
	}
	b := bin.Chunk(c)
	if t.isVerified(b) {
		if !bytes.Equal(t.slot(b), leafHash) {
			return fmt.Errorf("merkle: verify chunk %d: differs from verified leaf hash: %w", c, ErrMismatch)
		}
		return nil
	}

	// Unverified slots are free, so the path is computed in place; only the
	// verified bits are withheld until the whole path checks out.
	copy(t.slot(b), leafHash)
	depth := 0
	for {
		if depth == len(t.path) {
			// Unreachable while the peaks are verified; guards the array.
			return fmt.Errorf("merkle: verify chunk %d: path longer than %d: %w", c, len(t.path), ErrMismatch)
		}
		s := b.Sibling()
		sibNew := false
		if !t.isVerified(s) {
			h, ok := cand.get(s, t.hs)
			if !ok {
				return fmt.Errorf("merkle: verify chunk %d: uncle %v: %w", c, s, ErrMissingHashes)
			}
			copy(t.slot(s), h)
			sibNew = true
		}
		t.path[depth] = step{b: b, sibNew: sibNew}
		depth++

		l, r := b, s
		if !b.IsLeft() {
			l, r = s, b
		}
		sum := t.sum[:t.hs]
		hashPair(t.f, sum, t.pair[:], t.slot(l), t.slot(r))
		p := b.Parent()
		if t.isVerified(p) {
			if !bytes.Equal(sum, t.slot(p)) {
				return fmt.Errorf("merkle: verify chunk %d: computed hash of %v differs from verified one: %w", c, p, ErrMismatch)
			}
			break
		}
		copy(t.slot(p), sum)
		b = p
	}

	for _, st := range t.path[:depth] {
		t.markVerified(st.b)
		if added != nil {
			added(Node{Bin: st.b, Hash: t.slot(st.b)})
		}
		if st.sibNew {
			s := st.b.Sibling()
			t.markVerified(s)
			cand.Delete(s)
			if added != nil {
				added(Node{Bin: s, Hash: t.slot(s)})
			}
		}
	}
	return nil
}

// VerifyChunk hashes data and verifies it as chunk c (see VerifyLeaf). It
// first checks the length: chunkSize for every chunk but the last, 1 to
// chunkSize for the last, and exactly the remainder if Size is known.
func (t *Tree) VerifyChunk(c uint64, data []byte, cand *Candidates, added func(Node)) error {
	if !t.Known() {
		return fmt.Errorf("merkle: verify chunk %d: %w", c, ErrUnknownSize)
	}
	if c >= t.n {
		return fmt.Errorf("merkle: verify chunk %d of %d: %w", c, t.n, ErrOutOfRange)
	}
	if want, ok := t.chunkLen(c); len(data) != want && (ok || len(data) == 0 || len(data) > want) {
		return fmt.Errorf("merkle: verify chunk %d: %d bytes, want %d: %w", c, len(data), want, ErrMismatch)
	}
	return t.VerifyLeaf(c, LeafHash(t.f, t.leaf[:0], data), cand, added)
}

// chunkLen returns the length of chunk c and whether it is exact; when it
// is not (last chunk, size unknown) it is the upper bound.
func (t *Tree) chunkLen(c uint64) (int, bool) {
	if c+1 < t.n {
		return t.chunkSize, true
	}
	if t.size < 0 {
		return t.chunkSize, false
	}
	return int(t.size - int64(c)*int64(t.chunkSize)), true
}
