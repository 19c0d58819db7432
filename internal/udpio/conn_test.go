package udpio

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"
)

// TestRoundTrip sends batches of varied shapes between every pair of modes
// and checks that exactly the sent datagrams arrive, in order.
func TestRoundTrip(t *testing.T) {
	for _, sm := range modes {
		for _, rm := range modes {
			t.Run(sm.name+"-to-"+rm.name, func(t *testing.T) {
				s, r := sm.open(t, "udp4"), rm.open(t, "udp4")
				rng := rand.New(rand.NewPCG(1, 2))
				var seq uint32
				for range 8 {
					pkts := randomBatch(rng, &seq, r.LocalAddr(), 1+rng.IntN(200))
					if err := s.WriteBatch(pkts); err != nil {
						t.Fatalf("WriteBatch: %v", err)
					}
					checkSame(t, recvN(t, r, len(pkts)), pkts, s.LocalAddr())
				}
				// The reverse direction, one datagram at a time.
				for i := range 5 {
					b := payload(seq, 100*i)
					seq++
					if err := r.WriteTo(b, s.LocalAddr()); err != nil {
						t.Fatalf("WriteTo: %v", err)
					}
					checkSame(t, recvN(t, s, 1), []Packet{{B: b}}, r.LocalAddr())
				}
			})
		}
	}
}

func TestFeatures(t *testing.T) {
	for _, m := range modes {
		c := m.open(t, "udp4")
		gso, gro, mmsg := c.Features()
		if mmsg != m.f.mmsg || (gso && !m.f.gso) || (gro && !m.f.gro) {
			t.Errorf("%s: Features() = gso %v, gro %v, mmsg %v; asked for %+v", m.name, gso, gro, mmsg, m.f)
		}
		t.Logf("%s: gso %v, gro %v, mmsg %v", m.name, gso, gro, mmsg)
	}
	// New turns on everything the kernel offers.
	c := New(listen(t, "udp4"))
	defer c.Close()
	if _, _, mmsg := c.Features(); !mmsg {
		t.Errorf("New on a UDP socket: mmsg off")
	}
	h := New(hidden{listen(t, "udp4")})
	defer h.Close()
	if gso, gro, mmsg := h.Features(); gso || gro || mmsg {
		t.Errorf("New on a generic PacketConn: Features() = %v, %v, %v, want all false", gso, gro, mmsg)
	}
}

func TestIPv6(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s, r := m.open(t, "udp6"), m.open(t, "udp6")
			if got := s.LocalAddr().Addr(); got != netip.IPv6Loopback() {
				t.Fatalf("LocalAddr %v, want ::1", got)
			}
			rng := rand.New(rand.NewPCG(3, 4))
			var seq uint32
			pkts := randomBatch(rng, &seq, r.LocalAddr(), 150)
			if err := s.WriteBatch(pkts); err != nil {
				t.Fatalf("WriteBatch: %v", err)
			}
			checkSame(t, recvN(t, r, len(pkts)), pkts, s.LocalAddr())
		})
	}
}

// TestDeadline checks a deadline in the past, a deadline set while
// ReadBatch blocks, and that clearing it makes the Conn usable again.
func TestDeadline(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s, r := m.open(t, "udp4"), m.open(t, "udp4")
			nop := func([]byte, netip.AddrPort) {}
			if err := r.SetReadDeadline(time.Now().Add(-time.Second)); err != nil {
				t.Fatal(err)
			}
			err := r.ReadBatch(nop)
			var ne net.Error
			if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatalf("past deadline: ReadBatch = %v, want a timeout", err)
			}

			if err := r.SetReadDeadline(time.Time{}); err != nil {
				t.Fatal(err)
			}
			done := make(chan error)
			go func() { done <- r.ReadBatch(nop) }()
			// Whether or not the reader is blocked yet, a deadline of now
			// must end its wait.
			if err := r.SetReadDeadline(time.Now()); err != nil {
				t.Fatal(err)
			}
			if err := <-done; !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("deadline set while blocked: ReadBatch = %v", err)
			}

			if err := r.SetReadDeadline(time.Time{}); err != nil {
				t.Fatal(err)
			}
			b := payload(1, 33)
			if err := s.WriteTo(b, r.LocalAddr()); err != nil {
				t.Fatal(err)
			}
			checkSame(t, recvN(t, r, 1), []Packet{{B: b}}, s.LocalAddr())
		})
	}
}

// TestClose checks that Close ends a blocked ReadBatch and that every later
// call reports net.ErrClosed.
func TestClose(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c := m.open(t, "udp4")
			done := make(chan error)
			go func() { done <- c.ReadBatch(func([]byte, netip.AddrPort) {}) }()
			if err := c.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := <-done; !errors.Is(err, net.ErrClosed) {
				t.Fatalf("blocked ReadBatch after Close = %v, want net.ErrClosed", err)
			}
			if err := c.ReadBatch(func([]byte, netip.AddrPort) {}); !errors.Is(err, net.ErrClosed) {
				t.Errorf("ReadBatch after Close = %v", err)
			}
			dst := netip.MustParseAddrPort("127.0.0.1:9")
			if err := c.WriteBatch([]Packet{{B: []byte("x"), Addr: dst}, {B: []byte("y"), Addr: dst}}); !errors.Is(err, net.ErrClosed) {
				t.Errorf("WriteBatch after Close = %v", err)
			}
			if err := c.WriteTo([]byte("x"), dst); !errors.Is(err, net.ErrClosed) {
				t.Errorf("WriteTo after Close = %v", err)
			}
		})
	}
}

func TestStats(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s, r := m.open(t, "udp4"), m.open(t, "udp4")
			dst := r.LocalAddr()
			var pkts []Packet
			var size uint64
			for i := range 100 {
				n := 1000
				if i == 99 {
					n = 10
				}
				pkts = append(pkts, Packet{B: payload(uint32(i), n), Addr: dst})
				size += uint64(n)
			}
			if err := s.WriteBatch(pkts); err != nil {
				t.Fatal(err)
			}
			recvN(t, r, len(pkts))
			ss, rs := s.Stats(), r.Stats()
			if ss.DatagramsWritten != 100 || ss.BytesWritten != size {
				t.Errorf("sender wrote %d datagrams, %d bytes; want 100, %d", ss.DatagramsWritten, ss.BytesWritten, size)
			}
			if rs.DatagramsRead != 100 || rs.BytesRead != size {
				t.Errorf("receiver read %d datagrams, %d bytes; want 100, %d", rs.DatagramsRead, rs.BytesRead, size)
			}
			if ss.SendErrors != 0 || ss.Refused != 0 || rs.Truncated != 0 {
				t.Errorf("unexpected errors: sender %+v, receiver %+v", ss, rs)
			}
			// Syscalls: one per datagram without batching; with sendmmsg
			// 100 messages take two calls (64 + 36), with GSO one call
			// carrying two trains (64 + 36 segments).
			switch {
			case !m.f.mmsg && ss.WriteSyscalls != 100:
				t.Errorf("%d write syscalls, want 100", ss.WriteSyscalls)
			case m.f.mmsg && !m.f.gso && ss.WriteSyscalls != 2:
				t.Errorf("%d write syscalls, want 2", ss.WriteSyscalls)
			case m.f.gso && ss.GSOSends != 2:
				t.Errorf("%d GSO sends, want 2", ss.GSOSends)
			case m.f.gso && ss.WriteSyscalls != 1:
				t.Errorf("%d write syscalls, want 1", ss.WriteSyscalls)
			}
			if rs.ReadSyscalls == 0 || rs.ReadSyscalls > 100 || (!m.f.mmsg && rs.ReadSyscalls != 100) {
				t.Errorf("%d read syscalls", rs.ReadSyscalls)
			}
			t.Logf("sender %+v", ss)
			t.Logf("receiver %+v", rs)
		})
	}
}

// TestSendErrors checks that a packet the socket cannot send is skipped,
// counted and reported while the rest of the batch still goes out.
func TestSendErrors(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s, r := m.open(t, "udp4"), m.open(t, "udp4")
			dst := r.LocalAddr()
			good := []Packet{
				{B: payload(0, 500), Addr: dst},
				{B: payload(1, 500), Addr: dst},
				{B: payload(2, 500), Addr: dst},
				{B: payload(3, 500), Addr: dst},
			}
			pkts := []Packet{
				good[0], good[1],
				{B: payload(9, 500)}, // no address
				good[2],
				{B: payload(9, 500), Addr: netip.MustParseAddrPort("[::1]:9")}, // IPv6 from an IPv4 socket
				{B: make([]byte, 70000), Addr: dst},                            // larger than any UDP datagram
				good[3],
			}
			err := s.WriteBatch(pkts)
			if err == nil {
				t.Fatal("WriteBatch with unsendable packets returned nil")
			}
			t.Logf("WriteBatch error: %v", err)
			checkSame(t, recvN(t, r, len(good)), good, s.LocalAddr())
			if st := s.Stats(); st.SendErrors != 3 || st.DatagramsWritten != 4 {
				t.Errorf("SendErrors %d, DatagramsWritten %d; want 3, 4", st.SendErrors, st.DatagramsWritten)
			}
		})
	}
}

// TestConcurrent runs writers, a reader and a Stats poller at once; run
// with -race. Each writer's datagrams must arrive complete and in its order.
func TestConcurrent(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s, r := m.open(t, "udp4"), m.open(t, "udp4")
			const writers, batches, perBatch = 4, 10, 16
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					for b := range batches {
						var pkts []Packet
						for k := range perBatch {
							seq := uint32(w)<<16 | uint32(b*perBatch+k)
							pkts = append(pkts, Packet{B: payload(seq, 700), Addr: r.LocalAddr()})
						}
						if err := s.WriteBatch(pkts); err != nil {
							t.Errorf("writer %d: %v", w, err)
							return
						}
					}
				})
			}
			stop := make(chan struct{})
			var pollers sync.WaitGroup
			pollers.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
						_ = s.Stats()
						_ = r.Stats()
						_, _, _ = s.Features()
					}
				}
			})
			got := recvN(t, r, writers*batches*perBatch)
			wg.Wait()
			close(stop)
			pollers.Wait()
			next := make([]uint32, writers)
			for _, d := range got {
				seq := uint32(d.b[0])<<24 | uint32(d.b[1])<<16 | uint32(d.b[2])<<8 | uint32(d.b[3])
				w, i := seq>>16, seq&0xffff
				if w >= writers || i != next[w] {
					t.Fatalf("datagram %#x out of order (writer %d expects %d)", seq, w, next[min(w, writers-1)])
				}
				next[w]++
			}
		})
	}
}

// TestNoAllocs checks that a steady stream of batches allocates nothing.
func TestNoAllocs(t *testing.T) {
	for _, m := range modes[1:] { // a generic PacketConn allocates an address per datagram
		t.Run(m.name, func(t *testing.T) {
			s, r := m.open(t, "udp4"), m.open(t, "udp4")
			pkts := make([]Packet, 40)
			for i := range pkts {
				pkts[i] = Packet{B: payload(uint32(i), 1045), Addr: r.LocalAddr()}
			}
			var got int
			count := func([]byte, netip.AddrPort) { got++ }
			var failed error
			allocs := testing.AllocsPerRun(50, func() {
				if err := s.WriteBatch(pkts); err != nil {
					failed = err
					return
				}
				for got = 0; got < len(pkts) && failed == nil; {
					failed = r.ReadBatch(count)
				}
			})
			if failed != nil {
				t.Fatal(failed)
			}
			if allocs != 0 {
				t.Errorf("%v allocations per batch of %d datagrams, want 0", allocs, len(pkts))
			}
		})
	}
}
