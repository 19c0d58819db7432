package merkle

import (
	"slices"

	"github.com/nextshare/nextshare/internal/bin"
)

// Uncles appends to dst the hashes a peer needs to verify chunk c, given
// known reporting which node hashes that peer already has (nil: none),
// largest subtree first: the top-down order libswift sends INTEGRITY
// messages in (RFC 7574 §5.4).
//
// From the leaf up to its peak it takes each sibling that the peer does not
// know and that is not an empty subtree (a peer derives those as zero), and
// stops early at a node the peer knows. If a needed sibling is not verified
// here, nothing is appended: the chunk cannot be proved from this tree.
// The returned hashes alias the tree's storage and must not be modified.
// It allocates only to grow dst.
func (t *Tree) Uncles(dst []Node, c uint64, known func(bin.Bin) bool) []Node {
	if !t.Known() || c >= t.n {
		return dst
	}
	start := len(dst)
	for b := bin.Chunk(c); !t.isPeak(b); {
		s := b.Sibling()
		if !t.empty(s) && (known == nil || !known(s)) {
			if !t.isVerified(s) {
				return dst[:start]
			}
			dst = append(dst, Node{Bin: s, Hash: t.slot(s)})
		}
		p := b.Parent()
		if known != nil && known(p) {
			break
		}
		b = p
	}
	slices.Reverse(dst[start:])
	return dst
}
