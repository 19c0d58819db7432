package ledbat_test

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nextshare/nextshare/internal/ledbat"
	"github.com/nextshare/nextshare/internal/simnet"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Scenario of TestLEDBATYieldsToReno: a 10 Mbit/s uplink with a 200 ms
// drop-tail queue, 10 ms access delay at each end (40 ms base RTT).
const (
	linkRate  = 1.25e6 // bytes per second
	pktSize   = 1000   // DATA datagram size, bytes
	aloneFor  = 5 * time.Second
	sharedFor = 15 * time.Second
	// receiverSkew offsets the receiver's clock, so one-way delay samples
	// carry a large constant error that LEDBAT must ignore.
	receiverSkew = -7*time.Second - 123*time.Microsecond
	dupThresh    = 3 // later packets acknowledged before a gap counts as loss
	sampleEvery  = 10 * time.Millisecond
)

var (
	addrS = netip.MustParseAddr("10.0.0.1")
	addrR = netip.MustParseAddr("10.0.0.2")
)

// Datagram layout (big-endian):
//
//	DATA: 'D' | seq uint64 | send time uint64 (sender clock, ns) | padding to pktSize
//	ACK:  'A' | seq uint64 | one-way delay int64 (receiver clock − send time, ns)
const (
	kindData = 'D'
	kindAck  = 'A'
	ackSize  = 17
)

// controller is what the test sender needs from a congestion controller.
type controller interface {
	onAck(now time.Time, acked int, owd, rtt time.Duration, flight int)
	onLoss(now time.Time, seq uint64)
	onTimeout(now time.Time)
	window() int
	rto() time.Duration
}

// ledbatCC adapts ledbat.LEDBAT.
type ledbatCC struct{ l *ledbat.LEDBAT }

func (c ledbatCC) onAck(now time.Time, acked int, owd, rtt time.Duration, flight int) {
	c.l.OnRTTSample(rtt)
	c.l.OnAckInFlight(now, acked, owd, flight)
}
func (c ledbatCC) onLoss(now time.Time, _ uint64) { c.l.OnLoss(now) }
func (c ledbatCC) onTimeout(now time.Time)        { c.l.OnTimeout(now) }
func (c ledbatCC) window() int                    { return c.l.Window() }
func (c ledbatCC) rto() time.Duration             { return c.l.RTO() }

// renoCC is a loss-based AIMD controller in the style of TCP Reno (RFC
// 5681): slow start, then one MSS per RTT, halving once per window of loss.
type renoCC struct {
	mss      float64
	cwnd     float64
	ssthresh float64
	recover  uint64 // losses of packets below this seq belong to the last event
	nextSeq  *uint64
	rtt      ledbat.RTT
}

func (c *renoCC) onAck(_ time.Time, acked int, _, rtt time.Duration, _ int) {
	c.rtt.Sample(rtt)
	if c.cwnd < c.ssthresh {
		c.cwnd += float64(acked)
	} else {
		c.cwnd += c.mss * float64(acked) / c.cwnd
	}
}

func (c *renoCC) onLoss(_ time.Time, seq uint64) {
	if seq < c.recover {
		return
	}
	c.ssthresh = max(c.cwnd/2, 2*c.mss)
	c.cwnd = c.ssthresh
	c.recover = *c.nextSeq
}

func (c *renoCC) onTimeout(time.Time) {
	c.ssthresh = max(c.cwnd/2, 2*c.mss)
	c.cwnd = c.mss
	c.recover = *c.nextSeq
	c.rtt.Backoff()
}

func (c *renoCC) window() int        { return int(c.cwnd) }
func (c *renoCC) rto() time.Duration { return c.rtt.RTO() }

type sent struct {
	seq   uint64
	at    time.Time
	acked bool
}

// sender sends DATA as fast as its controller allows until end. It does not
// retransmit: the flow is bulk data whose goodput the receiver counts.
type sender struct {
	conn *simnet.Conn
	dst  net.Addr
	cc   controller

	nextSeq  uint64
	inflight []sent // by seq; front entries are the oldest unresolved
	flight   int    // bytes sent and neither acknowledged nor declared lost
	rtoStart time.Time

	losses, timeouts int
	qd               func() time.Duration // LEDBAT's own estimate, or nil
	qdSamples        []sample             // of qd, every sampleEvery
	nextSample       time.Time
}

type sample struct {
	at time.Time
	d  time.Duration
}

func (s *sender) run(t *testing.T, end time.Time) {
	pkt := make([]byte, pktSize)
	buf := make([]byte, 64)
	for {
		now := time.Now()
		if !now.Before(end) {
			return
		}
		for s.flight+pktSize <= s.cc.window() {
			if len(s.inflight) == 0 {
				s.rtoStart = now
			}
			pkt[0] = kindData
			binary.BigEndian.PutUint64(pkt[1:], s.nextSeq)
			binary.BigEndian.PutUint64(pkt[9:], uint64(now.UnixNano()))
			if _, err := s.conn.WriteTo(pkt, s.dst); err != nil {
				t.Errorf("send DATA: %v", err)
				return
			}
			s.inflight = append(s.inflight, sent{seq: s.nextSeq, at: now})
			s.nextSeq++
			s.flight += pktSize
		}
		deadline := end
		if rto := s.rtoStart.Add(s.cc.rto()); len(s.inflight) > 0 && rto.Before(end) {
			deadline = rto
		}
		s.conn.SetReadDeadline(deadline)
		n, _, err := s.conn.ReadFrom(buf)
		now = time.Now()
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			if len(s.inflight) > 0 && !now.Before(s.rtoStart.Add(s.cc.rto())) {
				// Retransmission timeout: everything outstanding is lost.
				s.timeouts++
				s.cc.onTimeout(now)
				s.inflight = s.inflight[:0]
				s.flight = 0
			}
			continue
		case err != nil:
			t.Errorf("read ACK: %v", err)
			return
		case n != ackSize || buf[0] != kindAck:
			t.Errorf("malformed ACK of %d bytes", n)
			return
		}
		s.onAck(now, binary.BigEndian.Uint64(buf[1:]), time.Duration(int64(binary.BigEndian.Uint64(buf[9:]))))
	}
}

func (s *sender) onAck(now time.Time, seq uint64, owd time.Duration) {
	if len(s.inflight) == 0 || seq < s.inflight[0].seq {
		return // already declared lost
	}
	i := int(seq - s.inflight[0].seq)
	if i >= len(s.inflight) || s.inflight[i].acked {
		return
	}
	s.inflight[i].acked = true
	flightBefore := s.flight
	s.flight -= pktSize
	s.rtoStart = now
	s.cc.onAck(now, pktSize, owd, now.Sub(s.inflight[i].at), flightBefore)
	// Resolve the front: acknowledged entries leave, and an entry with
	// dupThresh later packets acknowledged is lost.
	for len(s.inflight) > 0 {
		f := s.inflight[0]
		if !f.acked {
			if f.seq+dupThresh > seq {
				break
			}
			s.losses++
			s.flight -= pktSize
			s.cc.onLoss(now, f.seq)
		}
		s.inflight = s.inflight[1:]
	}
	if s.qd != nil && !now.Before(s.nextSample) {
		s.qdSamples = append(s.qdSamples, sample{now, s.qd()})
		s.nextSample = now.Add(sampleEvery)
	}
}

// receiver acknowledges every DATA datagram and counts goodput per phase.
type receiver struct {
	conn       *simnet.Conn
	phaseSplit time.Time
	bytes      [2]int // before and after phaseSplit
}

func (r *receiver) run(t *testing.T) {
	buf := make([]byte, 2*pktSize)
	ack := make([]byte, ackSize)
	for {
		n, from, err := r.conn.ReadFrom(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("receiver: %v", err)
			}
			return
		}
		if n != pktSize || buf[0] != kindData {
			t.Errorf("receiver: malformed DATA of %d bytes", n)
			continue
		}
		now := time.Now()
		if now.Before(r.phaseSplit) {
			r.bytes[0] += n
		} else {
			r.bytes[1] += n
		}
		// RFC 6817 §2.3: the receiver returns its clock minus the sender's
		// timestamp; the two clocks need not agree.
		ts := int64(binary.BigEndian.Uint64(buf[9:]))
		owd := now.Add(receiverSkew).UnixNano() - ts
		ack[0] = kindAck
		copy(ack[1:9], buf[1:9])
		binary.BigEndian.PutUint64(ack[9:], uint64(owd))
		if _, err := r.conn.WriteTo(ack, from); err != nil {
			t.Errorf("receiver: send ACK: %v", err)
			return
		}
	}
}

func listen(t *testing.T, h *simnet.Host, port uint16) *simnet.Conn {
	t.Helper()
	c, err := h.Listen(port)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mean averages the samples taken in [from, to).
func mean(ss []sample, from, to time.Time) time.Duration {
	var sum time.Duration
	var n int
	for _, s := range ss {
		if !s.at.Before(from) && s.at.Before(to) {
			sum += s.d
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / time.Duration(n)
}

// figures are the results of one run of the scenario.
type figures struct {
	aloneUtil                   float64       // LEDBAT bytes / link capacity, 0–5 s
	aloneQueue, aloneEstimate   time.Duration // mean bottleneck queue and LEDBAT's estimate, 1–5 s
	ledShare, renoShare         float64       // bytes / link capacity, 5–20 s
	sharedQueue, sharedEstimate time.Duration // the same as aloneQueue, aloneEstimate for 5–20 s
	ledLosses, ledTimeouts      int
	renoLosses, renoTimeouts    int
	tailDrops                   uint64
}

// TestLEDBATYieldsToReno runs a LEDBAT flow alone over a 10 Mbit/s
// bottleneck for 5 s, then together with a Reno flow for 15 s, all in
// virtual time. LEDBAT alone must fill the link while keeping the queue near
// its 25 ms target; with Reno present it must step aside. A second run must
// give exactly the same figures.
func TestLEDBATYieldsToReno(t *testing.T) {
	f := runScenario(t)
	t.Logf("LEDBAT alone (0-5 s): %.2f Mbit/s = %.1f%% of the link; bottleneck queue %v on average from 1 s (LEDBAT's estimate %v)",
		f.aloneUtil*linkRate*8/1e6, 100*f.aloneUtil, f.aloneQueue.Round(time.Microsecond), f.aloneEstimate.Round(time.Microsecond))
	t.Logf("shared (5-20 s): LEDBAT %.3f Mbit/s = %.1f%% of the link, Reno %.2f Mbit/s = %.1f%%; LEDBAT gets %.1f%% of the delivered bytes",
		f.ledShare*linkRate*8/1e6, 100*f.ledShare, f.renoShare*linkRate*8/1e6, 100*f.renoShare,
		100*f.ledShare/(f.ledShare+f.renoShare))
	t.Logf("shared: bottleneck queue %v on average, LEDBAT's estimate %v; LEDBAT %d losses %d timeouts, Reno %d losses %d timeouts; uplink tail drops %d",
		f.sharedQueue.Round(time.Microsecond), f.sharedEstimate.Round(time.Microsecond),
		f.ledLosses, f.ledTimeouts, f.renoLosses, f.renoTimeouts, f.tailDrops)

	if f.aloneUtil <= 0.70 {
		t.Errorf("LEDBAT alone used %.1f%% of the link, want > 70%%", 100*f.aloneUtil)
	}
	if f.aloneQueue < 10*time.Millisecond || f.aloneQueue > 50*time.Millisecond {
		t.Errorf("LEDBAT alone kept the queue at %v on average, want within [10ms, 50ms]", f.aloneQueue)
	}
	if f.ledShare >= 0.30 {
		t.Errorf("LEDBAT took %.1f%% of the link next to Reno, want < 30%%", 100*f.ledShare)
	}
	if f.renoShare <= 0.60 {
		t.Errorf("Reno got %.1f%% of the link next to LEDBAT, want > 60%%", 100*f.renoShare)
	}
	if testing.Short() {
		return
	}
	if again := runScenario(t); again != f {
		t.Errorf("the scenario is not deterministic:\nfirst  %+v\nsecond %+v", f, again)
	}
}

func runScenario(t *testing.T) (f figures) {
	synctest.Test(t, func(t *testing.T) {
		n := simnet.New(1)
		defer n.Close()
		hostS := n.AddHost(addrS,
			simnet.LinkConfig{Delay: 10 * time.Millisecond, Rate: linkRate, Queue: 200 * time.Millisecond},
			simnet.LinkConfig{Delay: 10 * time.Millisecond})
		hostR := n.AddHost(addrR,
			simnet.LinkConfig{Delay: 10 * time.Millisecond},
			simnet.LinkConfig{Delay: 10 * time.Millisecond})

		start := time.Now()
		split := start.Add(aloneFor)
		end := split.Add(sharedFor)

		ledRecv := &receiver{conn: listen(t, hostR, 1), phaseSplit: split}
		renoRecv := &receiver{conn: listen(t, hostR, 2), phaseSplit: split}
		l := ledbat.New(ledbat.Config{MSS: pktSize, MinRTO: 200 * time.Millisecond}, start)
		ledSend := &sender{conn: listen(t, hostS, 1), dst: ledRecv.conn.LocalAddr(), cc: ledbatCC{l}, qd: l.QueuingDelay}
		renoSend := &sender{conn: listen(t, hostS, 2), dst: renoRecv.conn.LocalAddr()}
		renoSend.cc = &renoCC{mss: pktSize, cwnd: 3 * pktSize, ssthresh: 1e12, nextSeq: &renoSend.nextSeq,
			rtt: ledbat.RTT{MinRTO: 200 * time.Millisecond}}

		var receivers, senders sync.WaitGroup
		receivers.Go(func() { ledRecv.run(t) })
		receivers.Go(func() { renoRecv.run(t) })
		senders.Go(func() { ledSend.run(t, end) })

		// Sample the bottleneck's real queue every 10 ms. Packet events
		// happen at whole multiples of 100 µs (plus 1 ns for those derived
		// from Reno's start, which is moved off the phase boundary for the
		// same reason): sampling 50 µs off that grid keeps the readings
		// independent of the order of goroutines woken at the same instant.
		var queue []sample
		senders.Go(func() {
			time.Sleep(50 * time.Microsecond)
			for now := time.Now(); now.Before(end); now = time.Now() {
				queue = append(queue, sample{now, hostS.Stats().UpQueueDelay})
				time.Sleep(sampleEvery)
			}
		})

		time.Sleep(aloneFor + time.Nanosecond)
		senders.Go(func() { renoSend.run(t, end) })
		senders.Wait()
		ledRecv.conn.Close()
		renoRecv.conn.Close()
		receivers.Wait()

		// Throughput over the whole of each phase; queuing delay while
		// alone once slow start is over (from 1 s).
		settled := start.Add(time.Second)
		capacity := linkRate * sharedFor.Seconds()
		f = figures{
			aloneUtil:      float64(ledRecv.bytes[0]) / (linkRate * aloneFor.Seconds()),
			aloneQueue:     mean(queue, settled, split),
			aloneEstimate:  mean(ledSend.qdSamples, settled, split),
			ledShare:       float64(ledRecv.bytes[1]) / capacity,
			renoShare:      float64(renoRecv.bytes[1]) / capacity,
			sharedQueue:    mean(queue, split, end),
			sharedEstimate: mean(ledSend.qdSamples, split, end),
			ledLosses:      ledSend.losses, ledTimeouts: ledSend.timeouts,
			renoLosses: renoSend.losses, renoTimeouts: renoSend.timeouts,
			tailDrops: hostS.Stats().DroppedQueue.Packets,
		}
	})
	return f
}
