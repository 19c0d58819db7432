package udpio

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// hidden hides the *net.UDPConn behind a plain net.PacketConn, the way an
// in-process simulated network looks to New.
type hidden struct{ net.PacketConn }

// mode is one way of driving a socket.
type mode struct {
	name string
	wrap bool // hide the UDP socket: generic ReadFrom/WriteTo
	f    features
}

var modes = []mode{
	{name: "portable", wrap: true},
	{name: "udp-plain"},
	{name: "mmsg", f: features{mmsg: true}},
	{name: "gso-gro", f: features{mmsg: true, gso: true, gro: true}},
}

// hangGuard bounds how long a test waits for datagrams that should already
// be queued on loopback; it only keeps a broken build from hanging.
const hangGuard = 20 * time.Second

// listen opens a loopback UDP socket ("udp4" on 127.0.0.1 or "udp6" on ::1)
// with a receive buffer large enough for every batch a test sends.
func listen(t testing.TB, network string) *net.UDPConn {
	t.Helper()
	host := "127.0.0.1"
	if network == "udp6" {
		host = "::1"
	}
	uc, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(host), 0)))
	if err != nil {
		if network == "udp6" {
			t.Skipf("no IPv6 loopback: %v", err)
		}
		t.Fatalf("listen %s: %v", network, err)
	}
	if err := uc.SetReadBuffer(4 << 20); err != nil {
		t.Fatalf("set read buffer: %v", err)
	}
	if err := uc.SetWriteBuffer(4 << 20); err != nil {
		t.Fatalf("set write buffer: %v", err)
	}
	return uc
}

func (m mode) open(t testing.TB, network string) *Conn {
	t.Helper()
	uc := listen(t, network)
	var pc net.PacketConn = uc
	if m.wrap {
		pc = hidden{uc}
	}
	c := newConn(pc, m.f)
	t.Cleanup(func() { c.Close() })
	return c
}

// payload returns n bytes that identify seq: its first bytes hold seq and
// the rest follow from it, so any mix-up of datagrams shows.
func payload(seq uint32, n int) []byte {
	b := make([]byte, n)
	var s [4]byte
	binary.BigEndian.PutUint32(s[:], seq)
	copy(b, s[:])
	for i := 4; i < n; i++ {
		b[i] = byte(seq*31 + uint32(i))
	}
	return b
}

// randomBatch returns count packets to dst in runs of equal sizes (some with
// a shorter last packet), so GSO trains of every shape occur.
func randomBatch(r *rand.Rand, seq *uint32, dst netip.AddrPort, count int) []Packet {
	pkts := make([]Packet, 0, count)
	for len(pkts) < count {
		run := 1 + r.IntN(80)
		size := r.IntN(1500)
		if r.IntN(10) == 0 {
			size = r.IntN(4) // empty and tiny datagrams
		}
		for k := 0; k < run && len(pkts) < count; k++ {
			n := size
			if k == run-1 && r.IntN(2) == 0 && size > 1 {
				n = 1 + r.IntN(size-1)
			}
			pkts = append(pkts, Packet{B: payload(*seq, n), Addr: dst})
			*seq++
		}
	}
	return pkts
}

type datagram struct {
	b    []byte
	from netip.AddrPort
}

// recvN reads until n datagrams have arrived.
func recvN(t testing.TB, c *Conn, n int) []datagram {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(hangGuard)); err != nil {
		t.Fatal(err)
	}
	defer c.SetReadDeadline(time.Time{})
	var got []datagram
	for len(got) < n {
		err := c.ReadBatch(func(b []byte, from netip.AddrPort) {
			got = append(got, datagram{bytes.Clone(b), from})
		})
		if err != nil {
			t.Fatalf("after %d of %d datagrams: %v", len(got), n, err)
		}
	}
	if len(got) != n {
		t.Fatalf("got %d datagrams, want %d", len(got), n)
	}
	return got
}

// checkSame fails unless got holds exactly the payloads of want, in order,
// all from the address from.
func checkSame(t testing.TB, got []datagram, want []Packet, from netip.AddrPort) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d datagrams, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i].b, want[i].B) {
			t.Fatalf("datagram %d: got %d bytes % x..., want %d bytes % x...",
				i, len(got[i].b), head(got[i].b), len(want[i].B), head(want[i].B))
		}
		if got[i].from != from {
			t.Fatalf("datagram %d from %v, want %v", i, got[i].from, from)
		}
	}
}

func head(b []byte) []byte { return b[:min(len(b), 8)] }
