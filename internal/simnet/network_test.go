package simnet

import (
	"errors"
	"os"
	"testing"
	"testing/synctest"
	"time"
)

// TestSharedUplinkAndLoopback checks that conns on one host share its
// uplink queue and that traffic to the own host bypasses the links.
func TestSharedUplinkAndLoopback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := New(1)
		defer n.Close()
		a := n.AddHost(addrA, LinkConfig{Rate: 1000, Delay: time.Second}, LinkConfig{Delay: time.Second})
		b := n.AddHost(addrB, LinkConfig{}, LinkConfig{})
		a1, a2, cb := mustListen(t, a, 1), mustListen(t, a, 2), mustListen(t, b, 3)
		mustWrite(t, a1, make([]byte, 50), cb) // busy for 50 ms
		if q := a.Stats().UpQueueDelay; q != 50*time.Millisecond {
			t.Fatalf("uplink backlog %v after a 50-byte packet at 1000 B/s", q)
		}
		start := time.Now()
		mustWrite(t, a2, make([]byte, 50), cb) // waits behind a1's packet
		mustWrite(t, a2, []byte("self"), a1)   // loopback: no delay, no queue
		buf := make([]byte, 100)
		if nr, from, err := a1.ReadFrom(buf); err != nil || string(buf[:nr]) != "self" || from.String() != a2.LocalAddr().String() {
			t.Errorf("loopback ReadFrom = %q from %v, %v", buf[:nr], from, err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("loopback delivery took %v", d)
		}
		cb.ReadFrom(buf)
		cb.ReadFrom(buf)
		if d := time.Since(start); d != time.Second+100*time.Millisecond {
			t.Errorf("second packet delivered after %v, want 1.1s", d)
		}
	})
}

// TestRealTime runs without a bubble: the package must also work on the
// real clock. Only lower bounds on time are checked.
func TestRealTime(t *testing.T) {
	n := New(1)
	defer n.Close()
	a := n.AddHost(addrA, LinkConfig{Delay: 5 * time.Millisecond}, LinkConfig{})
	b := n.AddHost(addrB, LinkConfig{}, LinkConfig{Delay: 5 * time.Millisecond})
	ca, cb := mustListen(t, a, 1), mustListen(t, b, 2)
	start := time.Now()
	for i := range 10 {
		mustWrite(t, ca, []byte{byte(i)}, cb)
	}
	buf := make([]byte, 10)
	for i := range 10 {
		if _, _, err := cb.ReadFrom(buf); err != nil || buf[0] != byte(i) {
			t.Fatalf("ReadFrom #%d = %d, %v", i, buf[0], err)
		}
	}
	if d := time.Since(start); d < 10*time.Millisecond {
		t.Errorf("delivered after %v, before the 10ms path delay", d)
	}
	cb.SetReadDeadline(time.Now().Add(time.Millisecond))
	if _, _, err := cb.ReadFrom(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("ReadFrom with deadline: %v", err)
	}
}

// BenchmarkPacketPath measures the cost of one datagram crossing two hosts
// with zero-delay, unlimited links (real clock, no bubble).
func BenchmarkPacketPath(b *testing.B) {
	n := New(1)
	defer n.Close()
	ha := n.AddHost(addrA, LinkConfig{}, LinkConfig{})
	hb := n.AddHost(addrB, LinkConfig{}, LinkConfig{})
	ca, err := ha.Listen(1)
	if err != nil {
		b.Fatal(err)
	}
	cb, err := hb.Listen(2)
	if err != nil {
		b.Fatal(err)
	}
	pkt := make([]byte, 1000)
	buf := make([]byte, 1500)
	to := cb.LocalAddrPort()
	b.SetBytes(int64(len(pkt)))
	for b.Loop() {
		if _, err := ca.WriteToUDPAddrPort(pkt, to); err != nil {
			b.Fatal(err)
		}
		if _, _, err := cb.ReadFromUDPAddrPort(buf); err != nil {
			b.Fatal(err)
		}
	}
}
