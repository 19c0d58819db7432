package ppspp

import (
	"slices"
	"time"

	"github.com/nextshare/nextshare/internal/ledbat"
)

// uplink is the congestion window all of an engine's channels share.
//
// Each channel runs its own LEDBAT, which finds the bottleneck of its own
// path. When that bottleneck is our own uplink, though, the channels
// multiply it: each keeps at least MIN_CWND (two datagrams) in flight, so
// 29 channels on a 1 Mbit/s uplink queue half a second there even at their
// minimum, and the queue overflows. As the Congestion Manager (RFC 3124)
// shares one window among the flows to one host, the uplink shares one
// LEDBAT window among the flows from this host: a channel sends only what
// both its own window and the uplink's allow.
//
// The uplink's delay samples are the channels' queuing delays: each ACK's
// one-way delay sample minus its channel's base delay, so clock offsets and
// path lengths drop out. The uplink takes the median of the samples of the
// last upRecent, whichever channels they came from (at least the last
// upMinSamples): a queue on our uplink delays every channel and so shows in
// most samples; a queue in front of one receiver shows in that channel's
// samples only, and a channel that opened while our queue stood took part
// of it for its base delay and reads low: neither moves the median much.
// A channel's own latest sample would not do: a seeder with dozens of
// channels hears from each only every few hundred milliseconds, and the
// median of such stale values still reads the queue of half a second ago
// while slow start overfills it.
type uplink struct {
	cc       *ledbat.LEDBAT
	inflight int // bytes in flight on all channels
	// lastCut is when the window was last cut for a loss: losses of
	// datagrams sent before it belong to that congestion event.
	lastCut time.Time
	samples [upSamples]upSample // ring of recent queuing delays
	next    int                 // where the next sample goes
	qds     []time.Duration     // scratch for the median
	qd      time.Duration       // the median of the latest onAck
	minRTT  time.Duration       // the shortest RTT sample; 0 before any
	// Delivery rate: bytes acknowledged since rateAt, and the rate they
	// made over the last interval of at least rateEvery, in bytes/s.
	acked  int
	rateAt time.Time
	rate   float64
}

type upSample struct {
	qd time.Duration
	at time.Time
}

// upRecent is how old a queuing delay sample may be and still count;
// upSamples bounds how many count, upMinSamples how few.
const (
	upRecent     = 200 * time.Millisecond
	upSamples    = 16
	upMinSamples = 3
)

func newUplink(now time.Time) uplink {
	return uplink{cc: ledbat.New(ledbat.Config{InitCwnd: initCwnd, LossBeta: upLossBeta}, now)}
}

// room returns the bytes the uplink lets the channels send now: at least
// one datagram of per bytes when nothing is in flight.
func (u *uplink) room(per int) int {
	r := u.cc.Window() - u.inflight
	if r < per && u.inflight == 0 {
		return per
	}
	return r
}

// onAck feeds the uplink an acknowledgement on channel c, which carried
// the one-way delay sample delay, and updates the gauges of st.
func (u *uplink) onAck(st *Stats, c *channel, now time.Time, bytes, packets int, rtt, delay time.Duration) {
	u.inflight -= bytes
	if rtt > 0 {
		u.cc.OnRTTSample(rtt)
		if u.minRTT == 0 || rtt < u.minRTT {
			u.minRTT = rtt
		}
	}
	u.acked += bytes
	if u.rateAt.IsZero() {
		u.rateAt = now
	} else if el := now.Sub(u.rateAt); el >= rateEvery {
		u.rate = float64(u.acked) / el.Seconds()
		u.acked, u.rateAt = 0, now
	}
	// The channel's queuing delay from this sample alone: its own filter
	// keeps the least of its last few samples, which, a few a second
	// apart, would lag the uplink's queue by seconds.
	qd := c.cc.QueuingDelay()
	if b, ok := c.cc.(interface{ BaseDelay() (time.Duration, bool) }); ok {
		if base, ok := b.BaseDelay(); ok {
			qd = max(delay-base, 0)
		}
	}
	c.qd = qd
	u.samples[u.next] = upSample{qd: qd, at: now}
	u.next = (u.next + 1) % upSamples
	u.qds = u.qds[:0]
	for k := range upSamples {
		// Newest first, so that the first upMinSamples always count.
		sm := u.samples[(u.next-1-k+upSamples)%upSamples]
		if sm.at.IsZero() || len(u.qds) >= upMinSamples && now.Sub(sm.at) > upRecent {
			break
		}
		u.qds = append(u.qds, sm.qd)
	}
	slices.Sort(u.qds)
	u.qd = u.qds[len(u.qds)/2]
	u.cc.OnAckPackets(now, bytes, packets, u.qd)
	st.UplinkWindow.Store(int64(u.cc.Window()))
	st.UplinkInflight.Store(int64(u.inflight))
	st.UplinkQueueDelay.Store(int64(u.qd))
}

// onLoss cuts the window for a loss of a datagram sent at sent, unless it
// was sent before the last cut: then the cut already answered it (the
// recovery point of RFC 6582 §3.2, by time). Without that, the losses of
// one overfilled queue, detected one after another as their ACKs fail to
// come, cut the window again and again, each a round trip apart. The cut
// stops at the delivery rate times the shortest round trip plus LEDBAT's
// target: what the path carries with a queue of the target's length;
// cutting below it only idles the link while the window regrows by one
// datagram per round trip.
func (u *uplink) onLoss(now, sent time.Time) {
	if !sent.After(u.lastCut) {
		return
	}
	floor := int(u.rate * (u.minRTT + ledbat.DefaultTarget).Seconds())
	u.cc.OnLossFloor(now, floor)
	u.lastCut = now
}

// rateEvery is the interval over which the uplink measures its delivery
// rate.
const rateEvery = 200 * time.Millisecond

// ownQueue is how much more queuing delay than the uplink's a channel must
// see for a loss or timeout on it to be taken as its own path's, which its
// own window answers: half of LEDBAT's target. Below it, the loss is taken
// as the shared queue's and only the uplink's window is cut: a loss on our
// uplink's queue strikes whichever channels' datagrams were at its tail,
// and cutting theirs too would halve the few datagrams each of dozens of
// channels may send, idling the link.
const ownQueue = ledbat.DefaultTarget / 2

// upLossBeta is the fraction of the uplink's window kept on a loss in
// congestion avoidance, not LEDBAT's half (a loss that ends slow start
// still halves it). The window stands for one flow per channel, and a loss
// on a shared queue would have halved only the window of the flow that saw
// it. On a shallow queue (50 ms, less than a round trip) halving the whole
// leaves the uplink idle until it regrows. In TestFlashCrowd at 4 MiB,
// eight runs each: 0.6 gave 1.24 times the fluid bound, 0.7 1.23, 0.8 and
// 0.9 1.21.
const upLossBeta = 0.8
