package dht

import (
	"bytes"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func mustID(s string) ID {
	var id ID
	copy(id[:], s)
	return id
}

// compactNode is the 26-byte compact form of id at addr.
func compactNode(id string, addr string) string {
	ap := netip.MustParseAddrPort(addr)
	return id + string(appendCompactAddr(nil, ap))
}

func TestCodecMessages(t *testing.T) {
	idA := mustID("abcdefghij0123456789")
	idB := mustID("mnopqrstuvwxyz123456")
	nodes := compactNode("0123456789abcdefghij", "1.2.3.4:6881") + compactNode("klmnopqrstuvwxyz0123", "5.6.7.8:258")
	tests := []struct {
		name string
		wire string
		want msg
	}{
		{"ping query", "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe",
			msg{T: []byte("aa"), Y: 'q', Q: "ping", ID: idA, Has: hasID}},
		{"ping response", "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re",
			msg{T: []byte("aa"), Y: 'r', ID: idB, Has: hasID}},
		{"error", "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
			msg{T: []byte("aa"), Y: 'e', ECode: 201, EMsg: []byte("A Generic Error Ocurred")}},
		{"error 204", "d1:eli204e14:Method Unknowne1:t2:aa1:y1:ee",
			msg{T: []byte("aa"), Y: 'e', ECode: 204, EMsg: []byte("Method Unknown")}},
		{"find_node query", "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe",
			msg{T: []byte("aa"), Y: 'q', Q: "find_node", ID: idA, Tgt: idB, Has: hasID | hasTarget}},
		{"find_node response", "d1:rd2:id20:0123456789abcdefghij5:nodes52:" + nodes + "e1:t2:aa1:y1:re",
			msg{T: []byte("aa"), Y: 'r', ID: mustID("0123456789abcdefghij"), Has: hasID | hasNodes, Nodes: []nodeInfo{
				{mustID("0123456789abcdefghij"), netip.MustParseAddrPort("1.2.3.4:6881")},
				{mustID("klmnopqrstuvwxyz0123"), netip.MustParseAddrPort("5.6.7.8:258")}}}},
		{"get_peers query", "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe",
			msg{T: []byte("aa"), Y: 'q', Q: "get_peers", ID: idA, IH: idB, Has: hasID | hasInfoHash}},
		{"get_peers values", "d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re",
			msg{T: []byte("aa"), Y: 'r', ID: idA, Tok: []byte("aoeusnth"), Has: hasID | hasToken | hasValues, Values: []netip.AddrPort{
				parseCompactAddr([]byte("axje.u")), parseCompactAddr([]byte("idhtnm"))}}},
		{"get_peers nodes", "d1:rd2:id20:abcdefghij01234567895:nodes52:" + nodes + "5:token8:aoeusnthe1:t2:aa1:y1:re",
			msg{T: []byte("aa"), Y: 'r', ID: idA, Tok: []byte("aoeusnth"), Has: hasID | hasToken | hasNodes, Nodes: []nodeInfo{
				{mustID("0123456789abcdefghij"), netip.MustParseAddrPort("1.2.3.4:6881")},
				{mustID("klmnopqrstuvwxyz0123"), netip.MustParseAddrPort("5.6.7.8:258")}}}},
		{"announce_peer query", "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe",
			msg{T: []byte("aa"), Y: 'q', Q: "announce_peer", ID: idA, IH: idB, Port: 6881, Impl: true, Tok: []byte("aoeusnth"),
				Has: hasID | hasInfoHash | hasPort | hasToken}},
		{"announce_peer response", "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re",
			msg{T: []byte("aa"), Y: 'r', ID: idB, Has: hasID}},
		{"read-only query with version", "d1:ad2:id20:abcdefghij0123456789e1:q4:ping2:roi1e1:t2:aa1:v4:NS011:y1:qe",
			msg{T: []byte("aa"), Y: 'q', Q: "ping", ID: idA, Has: hasID, RO: true, V: []byte("NS01")}},
		{"response with ip and nodes6", "d2:ip6:\x01\x02\x03\x04\x1a\xe11:rd2:id20:mnopqrstuvwxyz1234566:nodes638:0123456789abcdefghij" +
			"\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x1a\xe1e1:t4:abcd1:y1:re",
			msg{T: []byte("abcd"), Y: 'r', ID: idB, Has: hasID | hasNodes6, IP: netip.MustParseAddrPort("1.2.3.4:6881"),
				Nodes6: []nodeInfo{{mustID("0123456789abcdefghij"), netip.MustParseAddrPort("[2001:db8::1]:6881")}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := decodeMsg([]byte(tc.wire))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(m, tc.want) {
				t.Fatalf("decode:\n got %+v\nwant %+v", m, tc.want)
			}
			if got := encodeMsg(nil, &tc.want); string(got) != tc.wire {
				t.Fatalf("encode:\n got %q\nwant %q", got, tc.wire)
			}
		})
	}
}

func TestCodecUnknownKeysIgnored(t *testing.T) {
	// libtorrent-style extras: "v", "ip" at top level, "p" and an unknown
	// nested list in the arguments.
	wire := "d1:ad2:id20:abcdefghij01234567891:pi6881e3:zzzl1:xee1:q4:ping1:t2:aa1:v4:LT011:y1:q3:zzzi5ee"
	m, err := decodeMsg([]byte(wire))
	if err != nil {
		t.Fatal(err)
	}
	if m.Q != "ping" || m.ID != mustID("abcdefghij0123456789") || string(m.V) != "LT01" {
		t.Fatalf("got %+v", m)
	}
}

func TestCodecMalformed(t *testing.T) {
	bad := []string{
		"",
		"d",
		"de",              // no t, no y
		"d1:t2:aa1:y1:qe", // query without q/a
		"d1:t2:aa1:y1:re", // response without r
		"d1:t2:aa1:y1:xe", // bad y
		"d1:t0:1:y1:re",   // empty t
		"l1:ae",           // not a dict
		"i1e",             // not a dict
		"d1:rd2:id19:abcdefghij012345678e1:t2:aa1:y1:re",                                  // short id
		"d1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:reX",                                // trailing
		"d1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:ree",                                // trailing
		"d1:t2:aa1:rd2:id20:abcdefghij0123456789e1:y1:re",                                 // keys out of order
		"d1:rd2:id20:abcdefghij0123456789e1:t2:aa1:t2:aa1:y1:re",                          // duplicate key
		"d1:rd2:id20:abcdefghij01234567895:nodes3:abce1:t2:aa1:y1:re",                     // nodes not a multiple of 26
		"d1:eli201ee1:t2:aa1:y1:ee",                                                       // error without message
		"d1:eli-1e1:xe1:t2:aa1:y1:ee",                                                     // negative code
		"d1:rd2:id20:abcdefghij0123456789e1:t02:aa1:y1:re",                                // leading zero length
		"d1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:r2:zzi01ee",                         // leading zero int
		"d1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:r2:zzi-0ee",                         // minus zero
		"d1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:r2:zzie",                            // empty int
		"d1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:r2:zzi99999999999999999999ee",       // overflow
		"d1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:r2:zz99:xe",                         // length beyond datagram
		"d1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:r2:zzllllllllee" + "eeeeeee",        // too deep
		"d1:ad2:id20:abcdefghij01234567894:porti70000ee1:q13:announce_peer1:t2:aa1:y1:qe", // port out of range
		"d1:ad6:target20:abcdefghij0123456789e1:q9:find_node1:t2:aa1:y1:qe",               // query without id
		"di1ei2ee", // non-string key
		"d1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:r2:zzi9999999999999999999ee",  // beyond int64
		"d1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:r2:zzi-9223372036854775809ee", // beyond int64
	}
	for _, s := range bad {
		if m, err := decodeMsg([]byte(s)); err == nil {
			t.Errorf("decodeMsg(%q) = %+v, want error", s, m)
		}
	}
	if _, err := decodeMsg([]byte("d1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:r2:zz" + "1500:" + strings.Repeat("x", 1500) + "e")); err == nil {
		t.Error("oversized datagram accepted")
	}
}

func TestBencodeValueRoundTrip(t *testing.T) {
	for _, s := range []string{"i0e", "i-42e", "0:", "3:abc", "le", "de", "li1e3:abce", "d1:ai1e1:bl1:xee", "i9223372036854775807e"} {
		v, err := decodeValue([]byte(s))
		if err != nil {
			t.Fatalf("decodeValue(%q): %v", s, err)
		}
		if got := appendValue(nil, v); string(got) != s {
			t.Errorf("round trip %q -> %q", s, got)
		}
	}
}

func TestCodecCaps(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("d1:rd2:id20:abcdefghij01234567895:nodes")
	n := 40
	b.WriteString(itoa(n*26) + ":")
	for i := range n {
		b.WriteString(compactNode("0123456789abcdefghij", "1.2.3."+itoa(i)+":1"))
	}
	b.WriteString("e1:t2:aa1:y1:re")
	m, err := decodeMsg(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Nodes) != maxNodesPerMsg {
		t.Fatalf("took %d nodes, want cap %d", len(m.Nodes), maxNodesPerMsg)
	}
}

func itoa(i int) string { return string(appendInt(nil, int64(i))[1 : len(appendInt(nil, int64(i)))-1]) }
