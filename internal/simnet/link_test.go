package simnet

import (
	"errors"
	"math"
	"net/netip"
	"os"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestDelayExact checks that a packet arrives exactly after the sum of the
// sender's uplink delay, the receiver's downlink delay and the serialization
// time at each rate-limited link.
func TestDelayExact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := New(1)
		defer n.Close()
		a := n.AddHost(addrA, LinkConfig{Delay: 10 * time.Millisecond, Rate: 100_000}, LinkConfig{})
		b := n.AddHost(addrB, LinkConfig{}, LinkConfig{Delay: 15 * time.Millisecond, Rate: 50_000})
		ca, cb := mustListen(t, a, 1), mustListen(t, b, 2)

		start := time.Now()
		mustWrite(t, ca, make([]byte, 500), cb)
		buf := make([]byte, 2000)
		nr, from, err := cb.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		// 500 B at 100 kB/s = 5 ms up, 500 B at 50 kB/s = 10 ms down.
		want := 10*time.Millisecond + 15*time.Millisecond + 5*time.Millisecond + 10*time.Millisecond
		if got := time.Since(start); got != want {
			t.Errorf("delivery after %v, want exactly %v", got, want)
		}
		if nr != 500 || from.String() != ca.LocalAddr().String() {
			t.Errorf("ReadFrom = %d bytes from %v, want 500 from %v", nr, from, ca.LocalAddr())
		}
	})
}

// TestRateThroughput drives a rate-limited uplink above its rate and checks
// the delivered throughput and that the excess is tail-dropped.
func TestRateThroughput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const rate = 1e6 // bytes per second
		n := New(1)
		defer n.Close()
		a := n.AddHost(addrA, LinkConfig{Rate: rate, Delay: 5 * time.Millisecond}, LinkConfig{})
		b := n.AddHost(addrB, LinkConfig{}, LinkConfig{})
		ca, cb := mustListen(t, a, 1), mustListen(t, b, 2)

		// Offer 2 MB/s for 10 s: two 1000-byte packets per millisecond.
		const dur = 10 * time.Second
		var wg sync.WaitGroup
		wg.Go(func() {
			pkt := make([]byte, 1000)
			for range dur / time.Millisecond {
				mustWrite(t, ca, pkt, cb)
				mustWrite(t, ca, pkt, cb)
				time.Sleep(time.Millisecond)
			}
		})
		// Count what arrives in [1 s, 10 s), after the queue has filled.
		start := time.Now()
		var got int
		buf := make([]byte, 1500)
		cb.SetReadDeadline(start.Add(dur))
		for {
			nr, _, err := cb.ReadFrom(buf)
			if err != nil {
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatal(err)
				}
				break
			}
			if time.Since(start) >= time.Second {
				got += nr
			}
		}
		wg.Wait()
		tput := float64(got) / (dur - time.Second).Seconds()
		t.Logf("throughput %.0f B/s for a %.0f B/s link", tput, rate)
		if math.Abs(tput-rate)/rate > 0.01 {
			t.Errorf("throughput %.0f B/s, want %.0f ±1%%", tput, rate)
		}
		hs := a.Stats()
		if hs.DroppedQueue.Packets == 0 {
			t.Error("no tail drops although the link was offered twice its rate")
		}
		if hs.MaxUpQueueDelay > DefaultQueue || hs.MaxUpQueueDelay < DefaultQueue-2*time.Millisecond {
			t.Errorf("max uplink queuing delay %v, want just under %v", hs.MaxUpQueueDelay, DefaultQueue)
		}
	})
}

// TestQueueTailDrop checks the exact drop-tail boundary: with 10 ms per
// packet and a 100 ms queue, ten packets sent at once fit and the rest drop.
func TestQueueTailDrop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := New(1)
		defer n.Close()
		a := n.AddHost(addrA, LinkConfig{Rate: 1000, Queue: 100 * time.Millisecond}, LinkConfig{})
		b := n.AddHost(addrB, LinkConfig{}, LinkConfig{})
		ca, cb := mustListen(t, a, 1), mustListen(t, b, 2)

		for i := range 15 {
			mustWrite(t, ca, []byte{byte(i), 0, 0, 0, 0, 0, 0, 0, 0, 0}, cb)
		}
		if q := a.Stats().UpQueueDelay; q != 100*time.Millisecond {
			t.Errorf("uplink backlog %v, want 100ms", q)
		}
		start := time.Now()
		buf := make([]byte, 100)
		for i := range 10 {
			_, _, err := cb.ReadFrom(buf)
			if err != nil {
				t.Fatal(err)
			}
			if buf[0] != byte(i) {
				t.Errorf("packet %d arrived in position %d", buf[0], i)
			}
			if want := time.Duration(i+1) * 10 * time.Millisecond; time.Since(start) != want {
				t.Errorf("packet %d delivered after %v, want %v", i, time.Since(start), want)
			}
		}
		time.Sleep(time.Second)
		s := n.Stats()
		if s.Delivered.Packets != 10 || s.DroppedQueue.Packets != 5 {
			t.Errorf("delivered %d, queue drops %d; want 10 and 5", s.Delivered.Packets, s.DroppedQueue.Packets)
		}
		if hs := a.Stats(); hs.MaxUpQueueDelay != 90*time.Millisecond {
			t.Errorf("max uplink wait %v, want 90ms", hs.MaxUpQueueDelay)
		}
	})
}

// TestDownlinkQueue checks that the receiver's downlink is a bottleneck
// shared by several senders.
func TestDownlinkQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := New(1)
		defer n.Close()
		b := n.AddHost(addrB, LinkConfig{}, LinkConfig{Rate: 10_000, Queue: 50 * time.Millisecond})
		cb := mustListen(t, b, 2)
		var senders []*Conn
		for i := range 3 {
			h := n.AddHost(netip.AddrFrom4([4]byte{10, 1, 0, byte(i + 1)}), LinkConfig{Delay: time.Millisecond}, LinkConfig{})
			senders = append(senders, mustListen(t, h, 1))
		}
		// Each sends 5 × 100 B at once: 15 × 10 ms of work for a 50 ms queue.
		for _, c := range senders {
			for range 5 {
				mustWrite(t, c, make([]byte, 100), cb)
			}
		}
		time.Sleep(time.Second)
		hs := b.Stats()
		if hs.Delivered.Packets != 5 || hs.DroppedQueue.Packets != 10 {
			t.Errorf("delivered %d, downlink queue drops %d; want 5 and 10", hs.Delivered.Packets, hs.DroppedQueue.Packets)
		}
		if hs.MaxDownQueueDelay != 40*time.Millisecond {
			t.Errorf("max downlink wait %v, want 40ms", hs.MaxDownQueueDelay)
		}
	})
}

// TestLossRate checks that the loss probability is honoured on both links
// and that a fixed seed gives a fixed outcome.
func TestLossRate(t *testing.T) {
	run := func() (upLost, downLost, delivered uint64) {
		synctest.Test(t, func(t *testing.T) {
			n := New(42)
			defer n.Close()
			a := n.AddHost(addrA, LinkConfig{Loss: 0.1}, LinkConfig{})
			b := n.AddHost(addrB, LinkConfig{}, LinkConfig{Loss: 0.2})
			ca, cb := mustListen(t, a, 1), mustListen(t, b, 2)
			const total = 20000
			go func() {
				buf := make([]byte, 10)
				for {
					if _, _, err := cb.ReadFrom(buf); err != nil {
						return
					}
				}
			}()
			for range total {
				mustWrite(t, ca, []byte("x"), cb)
				time.Sleep(time.Millisecond)
			}
			time.Sleep(time.Second)
			upLost = a.Stats().DroppedLoss.Packets
			downLost = b.Stats().DroppedLoss.Packets
			delivered = n.Stats().Delivered.Packets
			cb.Close()
			if got := n.Stats(); got.Sent.Packets != total || upLost+downLost+delivered != total {
				t.Errorf("sent %d, lost %d+%d, delivered %d: counts do not add up to %d",
					got.Sent.Packets, upLost, downLost, delivered, total)
			}
			// Binomial: 10% of 20000 (σ≈42), then 20% of the rest (σ≈54).
			if math.Abs(float64(upLost)-2000) > 200 {
				t.Errorf("uplink lost %d of %d, want ≈2000", upLost, total)
			}
			if math.Abs(float64(downLost)-3600) > 250 {
				t.Errorf("downlink lost %d of %d, want ≈3600", downLost, total-upLost)
			}
		})
		return
	}
	u1, d1, r1 := run()
	u2, d2, r2 := run()
	t.Logf("seed 42: lost %d up, %d down, delivered %d", u1, d1, r1)
	if u1 != u2 || d1 != d2 || r1 != r2 {
		t.Errorf("same seed, different outcome: (%d,%d,%d) then (%d,%d,%d)", u1, d1, r1, u2, d2, r2)
	}
}

// TestJitterReordersAndDup checks that jitter keeps delays within bounds and
// reorders packets, and that duplication delivers extra copies.
func TestJitterReordersAndDup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := New(7)
		defer n.Close()
		a := n.AddHost(addrA, LinkConfig{Delay: 10 * time.Millisecond, Jitter: 20 * time.Millisecond, Dup: 0.1}, LinkConfig{})
		b := n.AddHost(addrB, LinkConfig{}, LinkConfig{Delay: 5 * time.Millisecond})
		ca, cb := mustListen(t, a, 1), mustListen(t, b, 2)
		const total = 1000
		sent := make([]time.Time, total)
		go func() {
			for i := range total {
				sent[i] = time.Now()
				mustWrite(t, ca, []byte{byte(i >> 8), byte(i)}, cb)
				time.Sleep(time.Millisecond)
			}
		}()
		buf := make([]byte, 10)
		var got, reordered int
		last := -1
		cb.SetReadDeadline(time.Now().Add(total*time.Millisecond + time.Second))
		for {
			_, _, err := cb.ReadFrom(buf)
			if err != nil {
				break
			}
			got++
			i := int(buf[0])<<8 | int(buf[1])
			if d := time.Since(sent[i]); d < 15*time.Millisecond || d >= 35*time.Millisecond {
				t.Errorf("packet %d took %v, want in [15ms, 35ms)", i, d)
			}
			if i < last {
				reordered++
			}
			last = max(last, i)
		}
		s := n.Stats()
		t.Logf("%d sent, %d delivered, %d duplicated, %d arrived out of order", total, got, s.Duplicated.Packets, reordered)
		if reordered == 0 {
			t.Error("jitter of twice the sending interval reordered nothing")
		}
		if dup := s.Duplicated.Packets; got != total+int(dup) || dup < 60 || dup > 140 {
			t.Errorf("delivered %d with %d duplicates, want %d+dup and dup ≈ 100", got, dup, total)
		}
	})
}

func TestSetLinkAtRunTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := New(1)
		defer n.Close()
		a := n.AddHost(addrA, LinkConfig{Delay: 10 * time.Millisecond}, LinkConfig{})
		b := n.AddHost(addrB, LinkConfig{}, LinkConfig{})
		ca, cb := mustListen(t, a, 1), mustListen(t, b, 2)
		mustWrite(t, ca, []byte("1"), cb)
		a.SetLink(LinkConfig{Delay: 30 * time.Millisecond}, LinkConfig{})
		start := time.Now()
		mustWrite(t, ca, []byte("2"), cb)
		buf := make([]byte, 10)
		cb.ReadFrom(buf)
		if d := time.Since(start); d != 10*time.Millisecond {
			t.Errorf("packet sent before SetLink took %v, want 10ms", d)
		}
		cb.ReadFrom(buf)
		if d := time.Since(start); d != 30*time.Millisecond {
			t.Errorf("packet sent after SetLink took %v, want 30ms", d)
		}
		n.SetLink(addrA, LinkConfig{Loss: 1}, LinkConfig{})
		mustWrite(t, ca, []byte("3"), cb)
		if s := a.Stats(); s.DroppedLoss.Packets != 1 {
			t.Errorf("Loss=1 dropped %d packets, want 1", s.DroppedLoss.Packets)
		}
	})
}
