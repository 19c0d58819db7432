package dht

import (
	"net/netip"
	"time"
)

const (
	maxContacts   = 4096 // nodes remembered beyond the routing table
	evictSample   = 16   // verified entries looked at to choose one to evict
	contactsTaken = 2 * bucketK
)

// contact is a node seen recently: one that answered us (verified) or one
// that an answer named.
type contact struct {
	ni       nodeInfo
	seen     time.Time
	verified bool
}

// contacts remembers up to maxContacts nodes seen recently, so that a
// lookup can start from the closest nodes ever seen rather than only from
// the routing table, which keeps 8 nodes per bucket and so knows little of
// the ID space far from the own ID. Nodes that fail to answer are
// forgotten; when full, an unverified node makes room, or else one long
// unseen.
type contacts struct {
	list  []contact
	index map[netip.AddrPort]int // into list
	next  int                    // where the next eviction search starts
}

func newContacts() *contacts {
	return &contacts{index: make(map[netip.AddrPort]int)}
}

func (cs *contacts) len() int { return len(cs.list) }

// add records ni. An entry that answered keeps its ID against unverified
// claims; a verified sighting replaces the ID.
func (cs *contacts) add(ni nodeInfo, now time.Time, verified bool) {
	if i, ok := cs.index[ni.Addr]; ok {
		c := &cs.list[i]
		if c.ni.ID != ni.ID {
			if !verified && c.verified {
				return
			}
			c.ni.ID = ni.ID
		}
		c.seen = now
		c.verified = c.verified || verified
		return
	}
	if len(cs.list) >= maxContacts {
		cs.evict()
	}
	cs.index[ni.Addr] = len(cs.list)
	cs.list = append(cs.list, contact{ni: ni, seen: now, verified: verified})
}

// evict removes an unverified entry, the first found from where the last
// search stopped, or else the one seen longest ago among a few.
func (cs *contacts) evict() {
	n := len(cs.list)
	oldest := -1
	for k := range n {
		i := (cs.next + k) % n
		c := &cs.list[i]
		if !c.verified {
			cs.next = i
			cs.remove(i)
			return
		}
		if k < evictSample && (oldest < 0 || c.seen.Before(cs.list[oldest].seen)) {
			oldest = i
		}
	}
	if oldest >= 0 {
		cs.next = oldest
		cs.remove(oldest)
	}
}

// failed forgets the node at addr: it did not answer.
func (cs *contacts) failed(addr netip.AddrPort) {
	if i, ok := cs.index[addr]; ok {
		cs.remove(i)
	}
}

func (cs *contacts) remove(i int) {
	delete(cs.index, cs.list[i].ni.Addr)
	last := len(cs.list) - 1
	if i != last {
		cs.list[i] = cs.list[last]
		cs.index[cs.list[i].ni.Addr] = i
	}
	cs.list = cs.list[:last]
}

// closest returns up to n contacts closest to target, closest first.
func (cs *contacts) closest(target ID, n int) []nodeInfo {
	near := newNearest(target, n)
	for i := range cs.list {
		near.add(cs.list[i].ni)
	}
	return near.out
}
