package udpio

import (
	"errors"
	"net/netip"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// benchDatagram is the size of a PPSPP DATA datagram carrying one 1 KiB
// chunk with its headers.
const benchDatagram = 1045

// BenchmarkLoopback sends b.N datagrams of benchDatagram bytes from one
// loopback socket to another and reports the throughput (MB/s) and the
// system calls per datagram on each side, for three paths:
//
//   - plain: one WriteTo and one ReadFrom per datagram
//   - mmsg: sendmmsg and recvmmsg, 64 messages per call
//   - gso-gro: sendmmsg of GSO trains, recvmmsg with GRO
//
// Use -benchtime=300000x for a fixed count. The sender keeps at most
// window datagrams in flight so the receive buffer never overflows.
func BenchmarkLoopback(b *testing.B) {
	for _, m := range []struct {
		name string
		f    features
	}{
		{"plain", features{}},
		{"mmsg", features{mmsg: true}},
		{"gso-gro", features{mmsg: true, gso: true, gro: true}},
	} {
		b.Run(m.name, func(b *testing.B) { benchLoopback(b, m.f) })
	}
}

func benchLoopback(b *testing.B, f features) {
	const (
		batch  = 256  // packets per WriteBatch: four GSO trains of 62
		window = 2048 // datagrams in flight; about 5 MB of receive buffer at most
	)
	s := newConn(listen(b, "udp4"), f)
	r := newConn(listen(b, "udp4"), f)
	defer s.Close()
	defer r.Close()
	if gso, gro, mmsg := s.Features(); gso != f.gso || gro != f.gro || mmsg != f.mmsg {
		b.Skipf("kernel offers gso %v, gro %v, mmsg %v", gso, gro, mmsg)
	}
	buf := make([]byte, benchDatagram)
	pkts := make([]Packet, batch)
	for i := range pkts {
		pkts[i] = Packet{B: buf, Addr: r.LocalAddr()}
	}

	var received atomic.Int64
	progress := make(chan struct{}, 1)
	done := make(chan error, 1)
	total := int64(b.N)
	b.SetBytes(benchDatagram)
	b.ResetTimer()
	go func() {
		var n int64
		count := func([]byte, netip.AddrPort) { n++ }
		for n < total {
			// A stall this long means datagrams were lost.
			r.SetReadDeadline(time.Now().Add(5 * time.Second))
			if err := r.ReadBatch(count); err != nil {
				done <- err
				return
			}
			received.Store(n)
			select {
			case progress <- struct{}{}:
			default:
			}
		}
		done <- nil
	}()
	var sent int64
	for sent < total {
		for sent-received.Load() > window-batch {
			select {
			case <-progress:
			case err := <-done:
				b.Fatalf("receiver stopped after %d of %d datagrams: %v", received.Load(), total, err)
			}
		}
		k := min(int64(batch), total-sent)
		if err := s.WriteBatch(pkts[:k]); err != nil {
			b.Fatalf("WriteBatch: %v", err)
		}
		sent += k
	}
	if err := <-done; err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			b.Fatalf("lost %d of %d datagrams", total-received.Load(), total)
		}
		b.Fatal(err)
	}
	b.StopTimer()
	ss, rs := s.Stats(), r.Stats()
	b.ReportMetric(float64(ss.WriteSyscalls)/float64(b.N), "wsys/dgram")
	b.ReportMetric(float64(rs.ReadSyscalls)/float64(b.N), "rsys/dgram")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "dgram/s")
}
