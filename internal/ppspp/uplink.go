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
// The uplink's delay samples are the channels' queuing delays (a channel's
// latest one-way delay sample minus its base delay, so clock offsets and
// path lengths drop out): each sample is the median of the latest
// estimate of every channel heard from in the last second. A queue on our
// uplink delays every channel and so shows in most of them; a queue in
// front of one receiver shows in that channel only, and a channel that
// opened while our queue stood took part of it for its base delay and
// reads low: neither moves the median much.
type uplink struct {
	cc       *ledbat.LEDBAT
	inflight int             // bytes in flight on all channels
	qds      []time.Duration // scratch for the median
}

// upRecent is how old a channel's queuing delay may be and still count.
const upRecent = time.Second

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

// onAck feeds the uplink an acknowledgement on channel c of engine e,
// which carried the one-way delay sample delay.
func (u *uplink) onAck(e *Engine, c *channel, now time.Time, bytes, packets int, rtt, delay time.Duration) {
	u.inflight -= bytes
	if rtt > 0 {
		u.cc.OnRTTSample(rtt)
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
	c.qd, c.qdAt = qd, now
	u.qds = u.qds[:0]
	for _, o := range e.channels {
		if !o.qdAt.IsZero() && now.Sub(o.qdAt) < upRecent {
			u.qds = append(u.qds, o.qd)
		}
	}
	slices.Sort(u.qds)
	u.cc.OnAckPackets(now, bytes, packets, u.qds[len(u.qds)/2])
}

// upLossBeta is the fraction of the uplink's window kept on a loss: that of
// CUBIC (RFC 9438 §4.6), not LEDBAT's half. The window stands for one flow
// per channel, and a loss on a shared queue would have halved only the
// window of the flow that saw it. On a shallow queue (50 ms, less than a
// round trip) halving the whole leaves the uplink idle until it regrows.
const upLossBeta = 0.7
