package dht

import (
	"net/netip"
	"slices"
	"time"
)

const (
	bucketK      = 8                // nodes per bucket (Kademlia k)
	goodWindow   = 15 * time.Minute // BEP 5: good if heard from within this
	badFailures  = 2                // consecutive failures that make a node bad
	refreshAfter = 15 * time.Minute // stale-bucket refresh interval
)

// tnode is a routing-table entry.
type tnode struct {
	ni        nodeInfo
	lastReply time.Time // last response to one of our queries
	lastQuery time.Time // last query received from it
	fails     int       // consecutive unanswered queries
}

func (t *tnode) bad() bool { return t.fails >= badFailures }

// good follows BEP 5: it answered within 15 minutes, or it has answered
// once and queried us within 15 minutes.
func (t *tnode) good(now time.Time) bool {
	if t.bad() || t.lastReply.IsZero() {
		return false
	}
	return now.Sub(t.lastReply) < goodWindow || now.Sub(t.lastQuery) < goodWindow
}

type bucket struct {
	nodes   []*tnode
	repl    []*tnode // replacement cache: nodes that answered but did not fit, newest last
	changed time.Time
}

// table is a Kademlia routing table with bucket splitting: bucket i holds
// the nodes whose common prefix with self is i bits, except the last
// bucket, which holds all nodes with a longer common prefix (and so covers
// self) and is the only one that splits.
type table struct {
	self    ID
	buckets []*bucket
	byAddr  map[netip.AddrPort]*tnode
}

func newTable(self ID, now time.Time) *table {
	return &table{self: self, buckets: []*bucket{{changed: now}}, byAddr: make(map[netip.AddrPort]*tnode)}
}

func (t *table) index(id ID) int {
	return min(cpl(t.self, id), len(t.buckets)-1)
}

func (t *table) len() int {
	n := 0
	for _, b := range t.buckets {
		n += len(b.nodes)
	}
	return n
}

// find returns the entry with addr, whether in a bucket or a replacement
// cache, and whether it is in a bucket.
func (t *table) find(addr netip.AddrPort) *tnode { return t.byAddr[addr] }

// insertResult tells the caller what to do after an insertion.
type insertResult struct {
	added bool
	ping  *tnode // a questionable node to ping before it may be replaced
}

// insert records that ni is alive. verified means it answered one of our
// queries; unverified entries (loaded from a saved state) are only added
// where there is room.
func (t *table) insert(ni nodeInfo, now time.Time, verified bool) insertResult {
	if ni.ID == t.self || !ni.Addr.IsValid() || ni.Addr.Port() == 0 {
		return insertResult{}
	}
	if e := t.byAddr[ni.Addr]; e != nil {
		if e.ni.ID == ni.ID {
			if verified {
				e.lastReply, e.fails = now, 0
				t.promote(e, now)
			}
			return insertResult{}
		}
		if !verified {
			return insertResult{}
		}
		t.remove(ni.Addr) // the node at this address has a new ID
	}
	b := t.buckets[t.index(ni.ID)]
	for _, e := range b.nodes {
		if e.ni.ID == ni.ID { // same ID at another address: keep the first unless it went bad
			if !e.bad() || !verified {
				return insertResult{}
			}
			t.remove(e.ni.Addr)
			b = t.buckets[t.index(ni.ID)]
			break
		}
	}
	e := &tnode{ni: ni}
	if verified {
		e.lastReply = now
	}
	for {
		if len(b.nodes) < bucketK {
			b.nodes = append(b.nodes, e)
			b.changed = now
			t.byAddr[ni.Addr] = e
			return insertResult{added: true}
		}
		last := len(t.buckets) - 1
		if t.buckets[last] == b && last < 159 {
			t.split()
			b = t.buckets[t.index(ni.ID)]
			continue
		}
		break
	}
	if !verified {
		return insertResult{}
	}
	for i, old := range b.nodes {
		if old.bad() {
			delete(t.byAddr, old.ni.Addr)
			b.nodes[i] = e
			b.changed = now
			t.byAddr[ni.Addr] = e
			return insertResult{added: true}
		}
	}
	// Full of good or questionable nodes: keep ni as a replacement and ask
	// the caller to ping the stalest questionable node.
	if len(b.repl) >= bucketK {
		delete(t.byAddr, b.repl[0].ni.Addr)
		b.repl = slices.Delete(b.repl, 0, 1)
	}
	b.repl = append(b.repl, e)
	t.byAddr[ni.Addr] = e
	var stale *tnode
	for _, old := range b.nodes {
		if !old.good(now) && (stale == nil || old.lastReply.Before(stale.lastReply)) {
			stale = old
		}
	}
	return insertResult{ping: stale}
}

// promote moves a replacement-cache entry that just answered into its
// bucket if the bucket has room or a bad node.
func (t *table) promote(e *tnode, now time.Time) {
	b := t.buckets[t.index(e.ni.ID)]
	i := slices.Index(b.repl, e)
	if i < 0 {
		return
	}
	if len(b.nodes) < bucketK {
		b.repl = slices.Delete(b.repl, i, i+1)
		b.nodes = append(b.nodes, e)
		b.changed = now
		return
	}
	for j, old := range b.nodes {
		if old.bad() {
			delete(t.byAddr, old.ni.Addr)
			b.repl = slices.Delete(b.repl, i, i+1)
			b.nodes[j] = e
			b.changed = now
			return
		}
	}
}

// failed records an unanswered query to addr. A node that becomes bad is
// replaced at once by the newest replacement, if any.
func (t *table) failed(addr netip.AddrPort) {
	e := t.byAddr[addr]
	if e == nil {
		return
	}
	e.fails++
	if !e.bad() {
		return
	}
	b := t.buckets[t.index(e.ni.ID)]
	if i := slices.Index(b.repl, e); i >= 0 {
		b.repl = slices.Delete(b.repl, i, i+1)
		delete(t.byAddr, addr)
		return
	}
	if i := slices.Index(b.nodes, e); i >= 0 && len(b.repl) > 0 {
		r := b.repl[len(b.repl)-1]
		b.repl = b.repl[:len(b.repl)-1]
		b.nodes[i] = r
		delete(t.byAddr, addr)
	}
}

// seenQuery records a query from a node already in the table.
func (t *table) seenQuery(ni nodeInfo, now time.Time) bool {
	e := t.byAddr[ni.Addr]
	if e == nil || e.ni.ID != ni.ID {
		return false
	}
	e.lastQuery = now
	return true
}

// wants reports whether an unknown node with id could enter the table.
func (t *table) wants(id ID, now time.Time) bool {
	if id == t.self {
		return false
	}
	i := t.index(id)
	b := t.buckets[i]
	if len(b.nodes) < bucketK || (i == len(t.buckets)-1 && i < 159) {
		return true
	}
	for _, e := range b.nodes {
		if !e.good(now) {
			return true
		}
	}
	return false
}

func (t *table) remove(addr netip.AddrPort) {
	e := t.byAddr[addr]
	if e == nil {
		return
	}
	delete(t.byAddr, addr)
	b := t.buckets[t.index(e.ni.ID)]
	if i := slices.Index(b.nodes, e); i >= 0 {
		b.nodes = slices.Delete(b.nodes, i, i+1)
	}
	if i := slices.Index(b.repl, e); i >= 0 {
		b.repl = slices.Delete(b.repl, i, i+1)
	}
}

// split divides the last bucket into the nodes sharing exactly len-1 bits
// with self and those sharing more.
func (t *table) split() {
	last := len(t.buckets) - 1
	old := t.buckets[last]
	nb := &bucket{changed: old.changed}
	keep := &bucket{changed: old.changed}
	for _, e := range old.nodes {
		if cpl(t.self, e.ni.ID) > last {
			nb.nodes = append(nb.nodes, e)
		} else {
			keep.nodes = append(keep.nodes, e)
		}
	}
	for _, e := range old.repl {
		if cpl(t.self, e.ni.ID) > last {
			nb.repl = append(nb.repl, e)
		} else {
			keep.repl = append(keep.repl, e)
		}
	}
	t.buckets[last] = keep
	t.buckets = append(t.buckets, nb)
}

// closest returns up to n non-bad nodes closest to target, taken from the
// buckets and the replacement caches (recently seen nodes).
func (t *table) closest(target ID, n int) []nodeInfo {
	near := newNearest(target, n)
	for _, e := range t.byAddr {
		if !e.bad() {
			near.add(e.ni)
		}
	}
	return near.out
}

// nearest collects the n nodes closest to a target, closest first (by
// address among equal IDs), without sorting all the candidates.
type nearest struct {
	target ID
	n      int
	out    []nodeInfo
}

func newNearest(target ID, n int) *nearest {
	return &nearest{target: target, n: max(n, 0), out: make([]nodeInfo, 0, max(n, 0)+1)}
}

func (s *nearest) before(a, b nodeInfo) bool {
	switch {
	case closer(s.target, a.ID, b.ID):
		return true
	case closer(s.target, b.ID, a.ID):
		return false
	}
	return a.Addr.Compare(b.Addr) < 0
}

func (s *nearest) add(ni nodeInfo) {
	if s.n == 0 || (len(s.out) == s.n && !s.before(ni, s.out[s.n-1])) {
		return
	}
	i := len(s.out)
	for i > 0 && s.before(ni, s.out[i-1]) {
		i--
	}
	s.out = slices.Insert(s.out, i, ni)
	s.out = s.out[:min(len(s.out), s.n)]
}

// nodes returns the contacts of all bucket entries.
func (t *table) nodes() []nodeInfo {
	var out []nodeInfo
	for _, b := range t.buckets {
		for _, e := range b.nodes {
			out = append(out, e.ni)
		}
	}
	return out
}

// staleBucket returns a random target in the range of a bucket not changed
// for refreshAfter, marking it as refreshed.
func (t *table) staleBucket(now time.Time) (ID, bool) {
	for i, b := range t.buckets {
		if now.Sub(b.changed) < refreshAfter {
			continue
		}
		b.changed = now
		id := randomIDWithPrefix(t.self, i)
		if i < len(t.buckets)-1 {
			id[i/8] ^= 0x80 >> (i % 8) // differ from self exactly at bit i
		}
		return id, true
	}
	return ID{}, false
}

// questionable returns up to n nodes in buckets that are not good.
func (t *table) questionable(now time.Time, n int) []nodeInfo {
	var out []nodeInfo
	for _, b := range t.buckets {
		for _, e := range b.nodes {
			if len(out) < n && !e.good(now) {
				out = append(out, e.ni)
			}
		}
	}
	return out
}

// rehome rebuilds the table around a new own ID.
func (t *table) rehome(self ID, now time.Time) {
	old := t.byAddr
	*t = *newTable(self, now)
	for _, e := range old {
		if r := t.insert(e.ni, now, !e.lastReply.IsZero()); r.added {
			if n := t.byAddr[e.ni.Addr]; n != nil {
				n.lastReply, n.lastQuery, n.fails = e.lastReply, e.lastQuery, e.fails
			}
		}
	}
}
