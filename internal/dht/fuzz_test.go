package dht

import (
	"bytes"
	"net"
	"net/netip"
	"reflect"
	"sync/atomic"
	"testing"
	"time"
)

var fuzzSeeds = []string{
	"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe",
	"d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re",
	"d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
	"d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe",
	"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe",
	"d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re",
	"d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe",
	"d2:ip6:\x01\x02\x03\x04\x1a\xe11:rd2:id20:mnopqrstuvwxyz1234565:nodes26:0123456789abcdefghij\x01\x02\x03\x04\x1a\xe1e1:t4:abcd1:y1:re",
	"d1:ad2:id20:abcdefghij0123456789e1:q4:ping2:roi1e1:t2:aa1:v4:NS011:y1:qe",
	"d1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:r2:zzi-0ee",
	"li1ei-1e0:de",
}

// FuzzDecodeMsg checks that decoding never panics and that valid messages
// survive encode/decode unchanged.
func FuzzDecodeMsg(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMsg(b)
		if err != nil {
			return
		}
		enc := encodeMsg(nil, &m)
		m2, err := decodeMsg(enc)
		if err != nil {
			t.Fatalf("re-decode of %q (from %q): %v", enc, b, err)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip changed message:\n%+v\n%+v", m, m2)
		}
		if enc2 := encodeMsg(nil, &m2); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable: %q vs %q", enc, enc2)
		}
	})
}

// FuzzBencode checks that the strict decoder accepts only canonical
// encodings: anything it accepts re-encodes to the same bytes.
func FuzzBencode(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decodeValue(b)
		if err != nil {
			return
		}
		if got := appendValue(nil, v); !bytes.Equal(got, b) {
			t.Fatalf("decode/encode %q -> %q", b, got)
		}
	})
}

// discardConn is a net.PacketConn that drops writes and blocks no reader
// (the node under test is Shared, so nothing reads it).
type discardConn struct{ n atomic.Int64 }

func (c *discardConn) ReadFrom([]byte) (int, net.Addr, error) { return 0, nil, net.ErrClosed }
func (c *discardConn) WriteTo(b []byte, _ net.Addr) (int, error) {
	c.n.Add(1)
	return len(b), nil
}
func (c *discardConn) Close() error { return nil }
func (c *discardConn) LocalAddr() net.Addr {
	return net.UDPAddrFromAddrPort(netip.MustParseAddrPort("10.9.9.9:6881"))
}
func (c *discardConn) SetDeadline(time.Time) error      { return nil }
func (c *discardConn) SetReadDeadline(time.Time) error  { return nil }
func (c *discardConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzHandlePacket feeds arbitrary datagrams to a node: no panic, and the
// node's state stays bounded.
func FuzzHandlePacket(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	n, err := New(Config{Conn: &discardConn{}, Shared: true, Bootstrap: []string{}, ID: mustID("01234567890123456789")})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { n.Close() })
	from := netip.MustParseAddrPort("10.1.2.3:4000")
	f.Fuzz(func(t *testing.T, b []byte) {
		n.HandlePacket(b, from)
		if s := n.Stats(); s.PendingTx > maxVerifyPings || s.Nodes > 160*bucketK {
			t.Fatalf("state grew: %+v", s)
		}
	})
}
