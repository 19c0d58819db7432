package dht

import (
	"encoding/hex"
	"net/netip"
	"testing"
	"time"
)

// BEP 42 test vectors.
func TestBEP42Vectors(t *testing.T) {
	for _, tc := range []struct {
		ip   string
		rnd  byte
		want string // first three bytes (top 21 bits meaningful) and last byte
	}{
		{"124.31.75.21", 1, "5fbfbf"},
		{"21.75.31.124", 86, "5a3ce9"},
		{"65.23.51.170", 22, "a5d432"},
		{"84.124.73.14", 65, "1b0321"},
		{"43.213.53.83", 90, "e56f6c"},
	} {
		ip := netip.MustParseAddr(tc.ip)
		var fill ID
		want, _ := hex.DecodeString(tc.want)
		fill[2] = want[2] & 7
		id := bep42ID(ip, tc.rnd, fill)
		if got := hex.EncodeToString(id[:3]); got != tc.want || id[19] != tc.rnd {
			t.Errorf("%s rnd %d: id %s, want prefix %s and last byte %02x", tc.ip, tc.rnd, id, tc.want, tc.rnd)
		}
		if !ValidID(id, ip) {
			t.Errorf("ValidID(%s, %s) = false", id, ip)
		}
		id[0] ^= 1
		if ValidID(id, ip) {
			t.Errorf("ValidID accepted a corrupted ID for %s", ip)
		}
	}
	if !ValidID(ID{}, netip.MustParseAddr("127.0.0.1")) || !ValidID(ID{}, netip.MustParseAddr("192.168.1.5")) {
		t.Error("local addresses must be exempt")
	}
	ip := netip.MustParseAddr("8.8.4.4")
	for range 20 {
		if id := newIDFor(ip); !ValidID(id, ip) {
			t.Fatalf("newIDFor(%s) = %s, not valid", ip, id)
		}
	}
	ip6 := netip.MustParseAddr("2a00:1450:4001::1")
	if id := newIDFor(ip6); !ValidID(id, ip6) {
		t.Fatalf("newIDFor(%s) not valid", ip6)
	}
}

func TestParseID(t *testing.T) {
	s := "0123456789abcdef0123456789abcdef01234567"
	id, err := ParseID(s)
	if err != nil || id.String() != s {
		t.Fatalf("ParseID(%q) = %v, %v", s, id, err)
	}
	for _, bad := range []string{"", "01", s + "0", "zz23456789abcdef0123456789abcdef01234567"} {
		if _, err := ParseID(bad); err == nil {
			t.Errorf("ParseID(%q) succeeded", bad)
		}
	}
}

func TestTableSplitAndClosest(t *testing.T) {
	var self ID
	tbl := newTable(self, time.Now())
	// Nodes sharing 0..9 prefix bits with self, 8 per prefix length.
	for p := range 10 {
		for i := range 10 {
			id := randomIDWithPrefix(self, p)
			id[p/8] |= 0x80 >> (p % 8)
			tbl.insert(nodeInfo{id, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(p), byte(i)}), 1000)}, time.Now(), true)
		}
	}
	if got := tbl.len(); got != 80 {
		t.Fatalf("table holds %d nodes, want 80 (8 per bucket)", got)
	}
	for i, b := range tbl.buckets {
		if len(b.nodes) > bucketK {
			t.Fatalf("bucket %d has %d nodes", i, len(b.nodes))
		}
	}
	target := randomID()
	c := tbl.closest(target, 8)
	for i := 1; i < len(c); i++ {
		if closer(target, c[i].ID, c[i-1].ID) {
			t.Fatal("closest not sorted by distance")
		}
	}
	// A bad node is replaced from the replacement cache.
	b := tbl.buckets[0]
	victim := b.nodes[0].ni.Addr
	if len(b.repl) == 0 {
		t.Fatal("no replacement cached")
	}
	tbl.failed(victim)
	tbl.failed(victim)
	if tbl.find(victim) != nil || len(b.nodes) != bucketK {
		t.Fatal("bad node not replaced")
	}
}
