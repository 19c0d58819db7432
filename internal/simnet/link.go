package simnet

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"net/netip"
	"time"
)

// DefaultQueue is the queuing-delay bound of a rate-limited link whose
// LinkConfig.Queue is zero.
const DefaultQueue = 100 * time.Millisecond

// LinkConfig describes one direction of a host's access link.
// Out-of-range values are clamped: negative durations and rates count as
// zero, probabilities are limited to [0, 1].
type LinkConfig struct {
	Delay  time.Duration // one-way propagation delay of this link
	Jitter time.Duration // uniform extra delay in [0, Jitter) per packet; reorders packets
	Loss   float64       // probability that a packet is dropped on this link
	Dup    float64       // probability that a packet is delivered twice
	Rate   float64       // bytes per second; 0 means unlimited
	Queue  time.Duration // max queuing delay before tail drop when Rate > 0; 0 means DefaultQueue
	// Overhead is added to each packet's payload size where it counts
	// against Rate: the headers a real link carries (28 bytes of IPv4 and
	// UDP, 14 more of Ethernet, as a Linux qdisc on a veth counts them).
	Overhead int
}

func (c LinkConfig) normalized() LinkConfig {
	c.Delay = max(c.Delay, 0)
	c.Jitter = max(c.Jitter, 0)
	c.Loss = clampProb(c.Loss)
	c.Dup = clampProb(c.Dup)
	if !(c.Rate > 0) || math.IsInf(c.Rate, 1) { // also catches NaN
		c.Rate = 0
	}
	if c.Queue <= 0 {
		c.Queue = DefaultQueue
	}
	c.Overhead = max(c.Overhead, 0)
	return c
}

func clampProb(p float64) float64 {
	if !(p > 0) { // also catches NaN
		return 0
	}
	return min(p, 1)
}

// link is the state of one direction of a host's access link. Its fields are
// guarded by Network.mu.
type link struct {
	cfg LinkConfig // normalized
	rng *rand.Rand

	// busyUntil is the departure time of the last packet accepted into the
	// queue. The queue is empty whenever busyUntil is not after now.
	busyUntil time.Time
	// maxWait is the longest time any accepted packet waited for the packets
	// ahead of it.
	maxWait time.Duration
}

// Link directions, mixed into the per-link random stream.
const (
	dirUp   = 1
	dirDown = 2
)

func newLink(seed int64, addr netip.Addr, dir byte, cfg LinkConfig) *link {
	h := fnv.New64a()
	b := addr.As16()
	h.Write(b[:])
	h.Write([]byte{dir})
	return &link{
		cfg: cfg.normalized(),
		rng: rand.New(rand.NewPCG(uint64(seed), h.Sum64())),
	}
}

// lose reports whether this link drops the next packet.
func (l *link) lose() bool {
	return l.cfg.Loss > 0 && l.rng.Float64() < l.cfg.Loss
}

// duplicate reports whether this link duplicates the next packet.
func (l *link) duplicate() bool {
	return l.cfg.Dup > 0 && l.rng.Float64() < l.cfg.Dup
}

// jitter draws the extra propagation delay of one packet.
func (l *link) jitter() time.Duration {
	if l.cfg.Jitter <= 0 {
		return 0
	}
	return time.Duration(l.rng.Int64N(int64(l.cfg.Jitter)))
}

// enqueue offers a packet of size bytes to the link's queue at time now and
// returns the time its last byte leaves the link. ok is false when the packet
// is tail-dropped because it would leave later than now+Queue.
func (l *link) enqueue(now time.Time, size int) (departure time.Time, ok bool) {
	if l.cfg.Rate == 0 {
		return now, true
	}
	wait := l.backlog(now)
	tx := txTime(size+l.cfg.Overhead, l.cfg.Rate)
	if tx > l.cfg.Queue || wait+tx > l.cfg.Queue { // first test avoids overflow
		return time.Time{}, false
	}
	departure = now.Add(wait + tx)
	l.busyUntil = departure
	l.maxWait = max(l.maxWait, wait)
	return departure, true
}

// backlog is how long a packet arriving at now would wait before its own
// transmission starts.
func (l *link) backlog(now time.Time) time.Duration {
	return max(l.busyUntil.Sub(now), 0)
}

// txTime is the serialization time of size bytes at rate bytes per second,
// saturating at the largest Duration for absurdly low rates.
func txTime(size int, rate float64) time.Duration {
	ns := math.Round(float64(size) / rate * float64(time.Second))
	if ns >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(ns)
}
