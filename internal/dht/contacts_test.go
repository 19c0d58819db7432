package dht

import (
	"context"
	"math"
	"net/netip"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

func contactAt(i int, id ID) nodeInfo {
	return nodeInfo{ID: id, Addr: netip.AddrPortFrom(simAddr(i), simPort)}
}

func idWithFirstByte(b byte) ID {
	var id ID
	id[0] = b
	return id
}

func TestContacts(t *testing.T) {
	now := time.Unix(1000, 0)
	cs := newContacts()
	for i := range 8 {
		cs.add(contactAt(i, idWithFirstByte(byte(i*16))), now, false)
	}
	var target ID
	target[0] = 0x31
	got := cs.closest(target, 3)
	want := []ID{idWithFirstByte(0x30), idWithFirstByte(0x20), idWithFirstByte(0x10)}
	if len(got) != 3 || got[0].ID != want[0] || got[1].ID != want[1] || got[2].ID != want[2] {
		t.Fatalf("closest(%x): %v, want IDs %v", target[:1], got, want)
	}
	if len(cs.closest(target, 0)) != 0 || len(cs.closest(target, 100)) != 8 {
		t.Error("closest: wrong count")
	}

	// A verified ID is not replaced by a claim in someone's answer, but
	// is by the node's own answer.
	a := contactAt(3, idWithFirstByte(0x30))
	cs.add(a, now, true)
	cs.add(contactAt(3, idWithFirstByte(0xee)), now, false)
	if got := cs.closest(target, 1); got[0] != a {
		t.Errorf("unverified claim replaced a verified ID: %v", got[0])
	}
	cs.add(contactAt(3, idWithFirstByte(0xee)), now, true)
	if got := cs.closest(idWithFirstByte(0xee), 1); got[0].Addr != a.Addr || got[0].ID != idWithFirstByte(0xee) {
		t.Errorf("verified answer did not update the ID: %v", got[0])
	}

	// A node that timed out is forgotten; the index stays consistent.
	cs.failed(a.Addr)
	cs.failed(a.Addr)
	if cs.len() != 7 {
		t.Fatalf("len %d after failed, want 7", cs.len())
	}
	for addr, i := range cs.index {
		if cs.list[i].ni.Addr != addr {
			t.Fatalf("index of %v points at %v", addr, cs.list[i].ni.Addr)
		}
	}
}

// TestContactsBounded fills the cache beyond its size: it stays bounded,
// and nodes that answered outlive nodes only named in answers.
func TestContactsBounded(t *testing.T) {
	now := time.Unix(1000, 0)
	cs := newContacts()
	var verified []netip.AddrPort
	for i := range maxContacts / 2 {
		ni := contactAt(i, randomID())
		cs.add(ni, now, true)
		verified = append(verified, ni.Addr)
	}
	for i := range 2 * maxContacts {
		cs.add(contactAt(0x10000+i, randomID()), now.Add(time.Duration(i)), false)
	}
	if cs.len() != maxContacts || len(cs.index) != maxContacts {
		t.Fatalf("%d contacts (%d indexed), want %d", cs.len(), len(cs.index), maxContacts)
	}
	for _, a := range verified {
		if _, ok := cs.index[a]; !ok {
			t.Fatalf("verified contact %v evicted before unverified ones", a)
		}
	}
	for i := range 2 * maxContacts {
		cs.add(contactAt(0x20000+i, randomID()), now.Add(time.Hour), true)
	}
	if cs.len() != maxContacts || len(cs.index) != maxContacts {
		t.Fatalf("%d contacts (%d indexed), want %d", cs.len(), len(cs.index), maxContacts)
	}
}

func TestLogDist(t *testing.T) {
	var a ID
	for _, tc := range []struct {
		b    func() ID
		want float64
	}{
		{func() ID { return a }, -1},
		{func() ID { b := a; b[19] = 1; return b }, 0},
		{func() ID { b := a; b[19] = 3; return b }, math.Log2(3)},
		{func() ID { b := a; b[0] = 0x80; return b }, 159},
		{func() ID { b := a; b[0] = 0xc0; return b }, 159 + math.Log2(1.5)},
		{func() ID { b := a; b[2] = 0x01; b[3] = 0x80; return b }, 136 + math.Log2(1.5)},
	} {
		b := tc.b()
		if got := logDist(a, b); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("logDist(0, %x) = %v, want %v", b, got, tc.want)
		}
	}
}

// TestNextPrefersEarliest checks the choice of the next query: near the
// target, a node known to be fast goes before one without an estimate,
// and that one before a slow node; a fast node a hop farther away comes
// after all of them.
func TestNextPrefersEarliest(t *testing.T) {
	var target ID
	l := &lookup{target: target, lgK: 150, typRTT: 100 * time.Millisecond}
	near := func(b byte, ert time.Duration) *cand {
		id := target
		id[2] = b // distance about 2^(143..136), well within 2^150
		return &cand{ni: nodeInfo{ID: id}, known: true, ert: ert}
	}
	far := &cand{ni: nodeInfo{ID: idWithFirstByte(0x01)}, known: true, ert: 10 * time.Millisecond} // 2^152: one hop
	slow, unknown, fast := near(0x01, 300*time.Millisecond), near(0x10, 100*time.Millisecond), near(0x80, 50*time.Millisecond)
	l.cands = []*cand{slow, unknown, fast, far}
	l.sort()
	var order []*cand
	for c := l.next(); c != nil; c = l.next() {
		c.state = stInflight
		order = append(order, c)
	}
	if want := []*cand{fast, unknown, far, slow}; !slices.Equal(order, want) {
		t.Errorf("query order %v, want fast, unknown, far, slow", order)
	}
	if d := l.cost(far); d != 110*time.Millisecond {
		t.Errorf("cost of a node one hop away: %v", d)
	}
}

// TestBootstrapSamples checks that a fresh node comes out of Bootstrap
// knowing nodes spread over the ID space, for a bounded number of
// queries, and that a node that already knows enough does not sample.
func TestBootstrapSamples(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newSimCluster(t, 5)
		defer c.close()
		c.build(300, 4)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		n := c.add(1000, Config{})
		if err := n.Bootstrap(ctx); err != nil {
			t.Fatal(err)
		}
		s := n.Stats()
		t.Logf("after bootstrap: %d nodes in the table, %d contacts, %d find_node queries", s.Nodes, s.Contacts, s.FindNode.QueriesSent)
		if s.Contacts < 150 || s.Contacts < 2*s.Nodes {
			t.Errorf("only %d contacts (table %d)", s.Contacts, s.Nodes)
		}
		if s.FindNode.QueriesSent > 200 {
			t.Errorf("bootstrap sent %d find_node queries", s.FindNode.QueriesSent)
		}
		// Every eighth of the space is covered.
		n.mu.Lock()
		var parts [8]int
		for _, ct := range n.contacts.list {
			parts[ct.ni.ID[0]>>5]++
		}
		n.mu.Unlock()
		if slices.Contains(parts[:], 0) {
			t.Errorf("contacts per eighth of the ID space: %v", parts)
		}
		before := s.FindNode.QueriesSent
		if err := n.Bootstrap(ctx); err != nil {
			t.Fatal(err)
		}
		if sent := n.Stats().FindNode.QueriesSent - before; sent > 60 {
			t.Errorf("second bootstrap sent %d find_node queries: sampled again", sent)
		}
	})
}

// TestNearest checks the selection of the closest nodes against a full
// sort.
func TestNearest(t *testing.T) {
	for _, size := range []int{0, 1, 5, 16, 100} {
		var all []nodeInfo
		for i := range size {
			all = append(all, contactAt(i, randomID()))
		}
		if size > 2 {
			all[1].ID = all[0].ID // equal IDs: ordered by address
		}
		target := randomID()
		for _, n := range []int{0, 1, 8, 16, 200} {
			near := newNearest(target, n)
			for _, ni := range all {
				near.add(ni)
			}
			want := slices.Clone(all)
			slices.SortFunc(want, func(a, b nodeInfo) int {
				if near.before(a, b) {
					return -1
				}
				return 1
			})
			want = want[:min(n, len(want))]
			if !slices.Equal(near.out, want) {
				t.Fatalf("%d of %d nodes: got %v, want %v", n, size, near.out, want)
			}
		}
	}
}
