package merkle

import (
	"bytes"
	"slices"

	"github.com/nextshare/nextshare/internal/bin"
)

// Restore re-adds persisted nodes (the ones VerifyLeaf reported, saved by
// a previous run) to a tree whose peaks are known, and returns how many it
// accepted. A node is accepted only when its parent is verified and it and
// its sibling (verified, empty, or also given) hash to the parent, so a
// tampered or stale node is never trusted. Nodes are considered top-down
// (highest layer first), so a node accepted on one layer lets its children
// be checked on the next.
func (t *Tree) Restore(nodes []Node) int {
	if !t.Known() {
		return 0
	}
	given := make(map[bin.Bin][]byte, len(nodes))
	order := make([]bin.Bin, 0, len(nodes))
	for _, nd := range nodes {
		b := nd.Bin
		if !t.inTree(b) || len(nd.Hash) != t.hs || t.isVerified(b) {
			continue
		}
		if _, dup := given[b]; dup {
			continue
		}
		given[b] = nd.Hash
		order = append(order, b)
	}
	slices.SortFunc(order, func(a, b bin.Bin) int {
		if la, lb := a.Layer(), b.Layer(); la != lb {
			return int(lb) - int(la)
		}
		if a < b {
			return -1
		}
		return 1
	})

	accepted := 0
	for _, b := range order {
		p := b.Parent()
		if t.isVerified(b) || !t.isVerified(p) {
			continue
		}
		s := b.Sibling()
		sh, ok := given[s]
		if t.isVerified(s) {
			sh, ok = t.slot(s), true
		}
		if !ok {
			continue
		}
		l, r := given[b], sh
		if !b.IsLeft() {
			l, r = r, l
		}
		sum := t.sum[:t.hs]
		hashPair(t.f, sum, t.pair[:], l, r)
		if !bytes.Equal(sum, t.slot(p)) {
			continue
		}
		for _, x := range [2]bin.Bin{b, s} {
			if !t.isVerified(x) {
				copy(t.slot(x), given[x])
				t.markVerified(x)
				accepted++
			}
		}
	}
	return accepted
}
