package ledbat

import "time"

// RFC 6298 constants.
const (
	// InitialRTO is the timeout before any RTT sample (RFC 6298 §2.1).
	InitialRTO = time.Second
	// DefaultMinRTO is the RFC 6298 §2.4 lower bound. It is conservative
	// for low-latency paths; RTT.MinRTO lowers it.
	DefaultMinRTO = time.Second
	// DefaultMaxRTO is the upper bound RFC 6298 §2.5 allows (at least 60 s).
	DefaultMaxRTO = 60 * time.Second
	// clockGranularity is G of RFC 6298 §2; time.Duration resolves
	// nanoseconds, but timers are not that precise.
	clockGranularity = time.Millisecond
)

// RTT estimates the round-trip time and computes the retransmission timeout
// of RFC 6298. The zero value is ready to use with the RFC's bounds.
//
// The caller must not feed samples from retransmitted packets (Karn's
// algorithm, RFC 6298 §3).
type RTT struct {
	MinRTO time.Duration // lower bound on RTO; 0 means DefaultMinRTO
	MaxRTO time.Duration // upper bound on RTO; 0 means DefaultMaxRTO

	srtt, rttvar time.Duration
	hasSample    bool
	backoff      uint // number of doublings since the last sample (§5.5)
}

// Sample adds one round-trip measurement; non-positive ones are ignored.
// A new measurement also undoes any timeout backoff (RFC 6298 §5, note
// after rule 5.7).
func (r *RTT) Sample(d time.Duration) {
	if d <= 0 {
		return
	}
	r.backoff = 0
	if !r.hasSample {
		// RFC 6298 §2.2.
		r.srtt, r.rttvar, r.hasSample = d, d/2, true
		return
	}
	// RFC 6298 §2.3 with alpha = 1/8 and beta = 1/4; RTTVAR first, using
	// the old SRTT.
	diff := r.srtt - d
	if diff < 0 {
		diff = -diff
	}
	r.rttvar = (3*r.rttvar + diff) / 4
	r.srtt = (7*r.srtt + d) / 8
}

// SRTT is the smoothed round-trip time, or 0 before the first sample.
func (r *RTT) SRTT() time.Duration { return r.srtt }

// RTTVar is the round-trip time variation, or 0 before the first sample.
func (r *RTT) RTTVar() time.Duration { return r.rttvar }

// RTO is the current retransmission timeout, including backoff.
func (r *RTT) RTO() time.Duration {
	minRTO, maxRTO := r.bounds()
	rto := InitialRTO
	if r.hasSample {
		rto = r.srtt + max(clockGranularity, 4*r.rttvar) // RFC 6298 §2.3
	}
	rto = max(rto, minRTO) // §2.4
	for range r.backoff {
		if rto >= maxRTO {
			break
		}
		rto *= 2 // §5.5
	}
	return min(rto, maxRTO) // §2.5
}

// Backoff doubles the timeout after a retransmission timer expired (RFC 6298
// §5.5), up to MaxRTO; the next Sample undoes it.
func (r *RTT) Backoff() {
	if _, maxRTO := r.bounds(); r.RTO() < maxRTO {
		r.backoff++
	}
}

func (r *RTT) bounds() (minRTO, maxRTO time.Duration) {
	minRTO, maxRTO = r.MinRTO, r.MaxRTO
	if minRTO <= 0 {
		minRTO = DefaultMinRTO
	}
	if maxRTO <= 0 {
		maxRTO = DefaultMaxRTO
	}
	return minRTO, max(maxRTO, minRTO)
}
