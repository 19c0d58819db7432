package udpio

import (
	"net"
	"net/netip"
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// gsoShapes is a batch to r1 (and one packet to r2) whose GSO trains are
// known: it returns the batch, the packets each receiver gets, and the
// number of trains.
func gsoShapes(r1, r2 netip.AddrPort) (pkts, to1, to2 []Packet, trains int) {
	var seq uint32
	add := func(n, size int, dst netip.AddrPort) {
		for range n {
			pkts = append(pkts, Packet{B: payload(seq, size), Addr: dst})
			seq++
		}
	}
	add(10, 1000, r1) // a train of 11 with a short last segment
	add(1, 300, r1)
	add(3, 500, r1)   // a train of 3
	add(1, 1200, r1)  // alone: the next packet is empty
	add(1, 0, r1)     // empty datagrams never join a train
	add(70, 100, r1)  // trains of 64 and 6 (segment limit)
	add(70, 1400, r1) // trains of 46 and 24 (byte limit)
	add(1, 800, r1)   // three singles: the address changes each time
	add(1, 800, r2)
	add(1, 800, r1)
	trains = 1 + 1 + 2 + 2
	for _, p := range pkts {
		if p.Addr == r1 {
			to1 = append(to1, p)
		} else {
			to2 = append(to2, p)
		}
	}
	return pkts, to1, to2, trains
}

func needGSO(t *testing.T, c *Conn) {
	t.Helper()
	if gso, _, _ := c.Features(); !gso {
		t.Skip("kernel refuses UDP_SEGMENT")
	}
}

// TestGSOSeparateDatagrams checks that GSO trains, including short last
// segments, reach a receiver without GRO as the original datagrams.
func TestGSOSeparateDatagrams(t *testing.T) {
	full := modes[3]
	s := full.open(t, "udp4")
	needGSO(t, s)
	for _, rm := range []mode{modes[0], modes[2]} { // generic ReadFrom, recvmmsg without GRO
		t.Run(rm.name, func(t *testing.T) {
			r1, r2 := rm.open(t, "udp4"), rm.open(t, "udp4")
			pkts, to1, to2, trains := gsoShapes(r1.LocalAddr(), r2.LocalAddr())
			before := s.Stats()
			if err := s.WriteBatch(pkts); err != nil {
				t.Fatal(err)
			}
			checkSame(t, recvN(t, r1, len(to1)), to1, s.LocalAddr())
			checkSame(t, recvN(t, r2, len(to2)), to2, s.LocalAddr())
			after := s.Stats()
			if n := after.GSOSends - before.GSOSends; n != uint64(trains) {
				t.Errorf("%d GSO sends, want %d", n, trains)
			}
			if n := after.DatagramsWritten - before.DatagramsWritten; n != uint64(len(pkts)) {
				t.Errorf("%d datagrams written, want %d", n, len(pkts))
			}
		})
	}
}

// TestGROSplit checks that a GRO receiver splits coalesced trains back into
// exactly the datagrams sent, on IPv4 and IPv6.
func TestGROSplit(t *testing.T) {
	for _, network := range []string{"udp4", "udp6"} {
		t.Run(network, func(t *testing.T) {
			full := modes[3]
			s, r1, r2 := full.open(t, network), full.open(t, network), full.open(t, network)
			needGSO(t, s)
			if _, gro, _ := r1.Features(); !gro {
				t.Skip("kernel refuses UDP_GRO")
			}
			pkts, to1, _, trains := gsoShapes(r1.LocalAddr(), r2.LocalAddr())
			if err := s.WriteBatch(pkts); err != nil {
				t.Fatal(err)
			}
			checkSame(t, recvN(t, r1, len(to1)), to1, s.LocalAddr())
			recvN(t, r2, 1)
			st := r1.Stats()
			// Loopback hands a GSO train to a GRO socket whole.
			if st.GROMessages != uint64(trains) {
				t.Errorf("%d GRO messages, want %d", st.GROMessages, trains)
			}
			if st.DatagramsRead != uint64(len(to1)) || st.Truncated != 0 {
				t.Errorf("read %d datagrams (%d truncated), want %d", st.DatagramsRead, st.Truncated, len(to1))
			}
		})
	}
}

// listenMapped opens an IPv6 socket that accepts IPv4 too, bound to
// ::ffff:127.0.0.1, so its peers appear as IPv4-mapped addresses. package net
// will not bind a udp6 socket to a mapped address, so the socket is made by
// hand.
func listenMapped(t *testing.T) *net.UDPConn {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Skipf("IPv6 socket: %v", err)
	}
	f := os.NewFile(uintptr(fd), "mapped")
	defer f.Close()
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0); err != nil {
		t.Skipf("dual-stack socket: %v", err)
	}
	sa := &unix.SockaddrInet6{Addr: netip.MustParseAddr("::ffff:127.0.0.1").As16()}
	if err := unix.Bind(fd, sa); err != nil {
		t.Skipf("bind ::ffff:127.0.0.1: %v", err)
	}
	pc, err := net.FilePacketConn(f)
	if err != nil {
		t.Fatal(err)
	}
	return pc.(*net.UDPConn)
}

// TestMappedAddresses checks that an IPv6 socket talking to IPv4 peers
// reports them (and itself) as plain IPv4 and can answer them.
func TestMappedAddresses(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			uc := listenMapped(t)
			var pc net.PacketConn = uc
			if m.wrap {
				pc = hidden{uc}
			}
			d := newConn(pc, m.f)
			defer d.Close()
			v4 := m.open(t, "udp4")
			if a := d.LocalAddr().Addr(); !a.Is4() {
				t.Fatalf("dual-stack LocalAddr %v, want an IPv4 address", a)
			}
			b := payload(1, 1045)
			if err := v4.WriteTo(b, d.LocalAddr()); err != nil {
				t.Fatal(err)
			}
			got := recvN(t, d, 1)
			checkSame(t, got, []Packet{{B: b}}, v4.LocalAddr())
			// Answer to the address as received, as a train and a single.
			reply := []Packet{{B: payload(2, 500), Addr: got[0].from}, {B: payload(3, 500), Addr: got[0].from}, {B: payload(4, 20), Addr: got[0].from}}
			if err := d.WriteBatch(reply); err != nil {
				t.Fatal(err)
			}
			checkSame(t, recvN(t, v4, len(reply)), reply, d.LocalAddr())
		})
	}
}

// TestRefused sends from a socket connected to a closed port, so the kernel
// reports ICMP port unreachable as ECONNREFUSED on the next send, whatever
// its destination. No datagram to a live peer may be lost to that and no
// write may fail.
func TestRefused(t *testing.T) {
	for _, m := range modes[2:] { // net refuses WriteTo on a connected socket
		t.Run(m.name, func(t *testing.T) {
			closed := listen(t, "udp4")
			dead := closed.LocalAddr().(*net.UDPAddr).AddrPort()
			closed.Close()
			uc, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(dead))
			if err != nil {
				t.Fatal(err)
			}
			s := newConn(uc, m.f)
			defer s.Close()
			r := m.open(t, "udp4")

			// The first send draws the ICMP; the second sees the error
			// as message 0 of its call, so it is counted.
			for i := range 2 {
				if err := s.WriteTo([]byte("x"), dead); err != nil {
					t.Fatalf("WriteTo %d to the closed port: %v", i, err)
				}
			}
			if st := s.Stats(); st.Refused != 1 || st.DatagramsWritten != 2 {
				t.Errorf("after two sends to a closed port: Refused %d, DatagramsWritten %d; want 1, 2", st.Refused, st.DatagramsWritten)
			}
			// An error is pending again; a datagram to a live peer draws it
			// and must still be sent.
			first := Packet{B: payload(1000, 300), Addr: r.LocalAddr()}
			if err := s.WriteTo(first.B, first.Addr); err != nil {
				t.Fatalf("WriteTo the live peer: %v", err)
			}
			if st := s.Stats(); st.Refused != 2 {
				t.Errorf("Refused %d, want 2", st.Refused)
			}
			checkSame(t, recvN(t, r, 1), []Packet{first}, s.LocalAddr())

			// Batches mixing both peers: inside one sendmmsg call the
			// kernel stops at the refused message and drops the error;
			// the rest must go out in the next call.
			var live []Packet
			var seq uint32
			for range 20 {
				var pkts []Packet
				for k := range 6 {
					dst := r.LocalAddr()
					if k%2 == 0 {
						dst = dead
					}
					p := Packet{B: payload(seq, 400), Addr: dst}
					seq++
					pkts = append(pkts, p)
					if dst != dead {
						live = append(live, p)
					}
				}
				if err := s.WriteBatch(pkts); err != nil {
					t.Fatalf("WriteBatch: %v", err)
				}
			}
			checkSame(t, recvN(t, r, len(live)), live, s.LocalAddr())
			t.Logf("stats %+v", s.Stats())
		})
	}
}

func TestSockaddr(t *testing.T) {
	tests := []struct {
		in     string
		family int
		want   string // decoded; "" means putSockaddr fails
	}{
		{"127.0.0.1:80", unix.AF_INET, "127.0.0.1:80"},
		{"[::ffff:127.0.0.1]:80", unix.AF_INET, "127.0.0.1:80"},
		{"127.0.0.1:65535", unix.AF_INET6, "127.0.0.1:65535"}, // sent mapped, decoded unmapped
		{"[::1]:443", unix.AF_INET6, "[::1]:443"},
		{"[fe80::1%3]:443", unix.AF_INET6, "[fe80::1%3]:443"},
		{"[::1]:443", unix.AF_INET, ""},
		{"[fe80::1%no-such-interface]:1", unix.AF_INET6, ""},
	}
	for _, tt := range tests {
		var sa rawSockaddr
		n, err := putSockaddr(&sa, netip.MustParseAddrPort(tt.in), tt.family)
		if tt.want == "" {
			if err == nil {
				t.Errorf("putSockaddr(%s, family %d) succeeded, want an error", tt.in, tt.family)
			}
			continue
		}
		if err != nil {
			t.Errorf("putSockaddr(%s, family %d): %v", tt.in, tt.family, err)
			continue
		}
		if (tt.family == unix.AF_INET) != (n == unix.SizeofSockaddrInet4) {
			t.Errorf("putSockaddr(%s, family %d) length %d", tt.in, tt.family, n)
		}
		if got := addrPortFromSockaddr(&sa).String(); got != tt.want {
			t.Errorf("%s via family %d decodes as %s, want %s", tt.in, tt.family, got, tt.want)
		}
	}
	if _, err := putSockaddr(new(rawSockaddr), netip.AddrPort{}, unix.AF_INET6); err == nil {
		t.Error("putSockaddr of the zero AddrPort succeeded")
	}
	sa := rawSockaddr{Family: unix.AF_UNIX}
	if got := addrPortFromSockaddr(&sa); got.IsValid() {
		t.Errorf("AF_UNIX decodes as %v", got)
	}
	// The port is big-endian in memory.
	var s4 rawSockaddr
	putSockaddr(&s4, netip.MustParseAddrPort("1.2.3.4:258"), unix.AF_INET)
	if b := (*[4]byte)(unsafe.Pointer(&s4))[2:4]; b[0] != 1 || b[1] != 2 {
		t.Errorf("port bytes % x, want 01 02", b)
	}
}

// groCmsg builds a control buffer holding one message of the given level,
// type and data.
func groCmsg(level, typ int32, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[unix.CmsgLen(0):], data)
	return b
}

func TestGROSegmentSize(t *testing.T) {
	var i32 [4]byte
	*(*int32)(unsafe.Pointer(&i32[0])) = 1045
	var u16 [2]byte
	*(*uint16)(unsafe.Pointer(&u16[0])) = 1200
	other := groCmsg(unix.SOL_IP, unix.IP_TOS, []byte{1, 0, 0, 0})
	gro := groCmsg(unix.SOL_UDP, unix.UDP_GRO, i32[:])
	tests := []struct {
		name string
		b    []byte
		want int
	}{
		{"none", nil, 0},
		{"int", gro, 1045},
		{"uint16", groCmsg(unix.SOL_UDP, unix.UDP_GRO, u16[:]), 1200},
		{"after another message", append(append([]byte{}, other...), gro...), 1045},
		{"other message only", other, 0},
		{"too short data", groCmsg(unix.SOL_UDP, unix.UDP_GRO, []byte{7}), 0},
		{"truncated buffer", gro[:unix.CmsgLen(0)+2], 0},
		{"header only", gro[:unix.CmsgLen(0)-1], 0},
	}
	for _, tt := range tests {
		if got := groSegmentSize(tt.b); got != tt.want {
			t.Errorf("%s: groSegmentSize = %d, want %d", tt.name, got, tt.want)
		}
	}
	// The UDP_SEGMENT message the sender writes parses like the GRO one.
	b := make([]byte, txCtrlLen)
	if n := putSegmentSize(b, 1045); n != txCtrlLen {
		t.Errorf("putSegmentSize used %d bytes, want %d", n, txCtrlLen)
	}
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	if h.Level != unix.SOL_UDP || h.Type != unix.UDP_SEGMENT || *(*uint16)(unsafe.Pointer(&b[unix.CmsgLen(0)])) != 1045 {
		t.Errorf("UDP_SEGMENT message % x", b)
	}
}

// FuzzGROSegmentSize checks that no control buffer makes the parser read
// out of bounds or loop.
func FuzzGROSegmentSize(f *testing.F) {
	var i32 [4]byte
	*(*int32)(unsafe.Pointer(&i32[0])) = 1045
	f.Add(groCmsg(unix.SOL_UDP, unix.UDP_GRO, i32[:]))
	f.Add(append(groCmsg(unix.SOL_IP, unix.IP_TOS, []byte{1}), groCmsg(unix.SOL_UDP, unix.UDP_GRO, i32[:])...))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		// Copy into 8-aligned memory, as the kernel's buffer is.
		buf := make([]uint64, (len(b)+7)/8)
		aligned := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(buf))), len(buf)*8)[:len(b)]
		copy(aligned, b)
		groSegmentSize(aligned)
	})
}

// failGSO makes c's sends fail with errno whenever message 0 of a call is a
// GSO train, as a device without checksum offload (EIO) or a route whose
// MTU is below the segment size (EINVAL) would.
func failGSO(c *Conn, errno unix.Errno) *int {
	w := &c.sys.w
	real := w.send
	var failures int
	w.send = func(fd uintptr) bool {
		if w.isGSO[0] {
			failures++
			w.calls++
			w.n, w.errno = 0, errno
			return true
		}
		return real(fd)
	}
	return &failures
}

func trains(dst netip.AddrPort) []Packet {
	var pkts []Packet
	for i := range 20 {
		n := 600
		if i == 9 {
			n = 100 // ends the first train
		}
		pkts = append(pkts, Packet{B: payload(uint32(i), n), Addr: dst})
	}
	return pkts
}

func TestGSOEIODisablesGSO(t *testing.T) {
	s, r := modes[3].open(t, "udp4"), modes[2].open(t, "udp4")
	needGSO(t, s)
	failures := failGSO(s, unix.EIO)
	pkts := trains(r.LocalAddr())
	if err := s.WriteBatch(pkts); err != nil {
		t.Fatalf("WriteBatch: %v", err)
	}
	checkSame(t, recvN(t, r, len(pkts)), pkts, s.LocalAddr())
	if gso, _, _ := s.Features(); gso {
		t.Error("GSO still on after EIO")
	}
	// Later batches go without GSO and do not fail again.
	if err := s.WriteBatch(pkts); err != nil {
		t.Fatalf("second WriteBatch: %v", err)
	}
	checkSame(t, recvN(t, r, len(pkts)), pkts, s.LocalAddr())
	if st := s.Stats(); *failures != 1 || st.GSOSends != 0 || st.SendErrors != 0 || st.DatagramsWritten != 2*uint64(len(pkts)) {
		t.Errorf("%d GSO failures, stats %+v", *failures, st)
	}
}

func TestGSOEINVALFallsBackPerTrain(t *testing.T) {
	s, r := modes[3].open(t, "udp4"), modes[2].open(t, "udp4")
	needGSO(t, s)
	failures := failGSO(s, unix.EINVAL)
	pkts := trains(r.LocalAddr())
	if err := s.WriteBatch(pkts); err != nil {
		t.Fatalf("WriteBatch: %v", err)
	}
	checkSame(t, recvN(t, r, len(pkts)), pkts, s.LocalAddr())
	// The first train failed and went as single datagrams; the second
	// train was then message 1 of the call and went as a train.
	if gso, _, _ := s.Features(); !gso {
		t.Error("GSO turned off by EINVAL")
	}
	if st := s.Stats(); *failures != 1 || st.GSOSends != 1 || st.SendErrors != 0 {
		t.Errorf("%d GSO failures, stats %+v", *failures, st)
	}
}
