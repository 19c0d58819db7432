package ledbat

import (
	"math"
	"time"
)

// Controller is a congestion controller driven by acknowledgements, loss
// and timeouts. Window bounds the bytes a sender may have in flight.
type Controller interface {
	// OnAck reports that ackedBytes were newly acknowledged at now, by an
	// acknowledgement carrying the one-way delay sample delay (receiver's
	// clock minus the data packet's timestamp; any constant clock offset
	// cancels out).
	OnAck(now time.Time, ackedBytes int, delay time.Duration)
	// OnLoss reports a loss detected by the sender other than by a
	// timeout, such as a gap in the acknowledgements.
	OnLoss(now time.Time)
	// OnTimeout reports that the retransmission timer expired.
	OnTimeout(now time.Time)
	// Window is the congestion window in bytes.
	Window() int
	// QueuingDelay is the current estimate of the queuing delay the flow
	// sees: the current delay filter minus the base delay.
	QueuingDelay() time.Duration
}

// LEDBAT is the RFC 6817 sender-side controller. It is not safe for
// concurrent use.
type LEDBAT struct {
	cfg    Config
	delays delayFilter
	rtt    RTT

	cwnd      float64 // bytes; kept fractional so small increases add up
	slowStart bool
	ssthresh  float64 // bytes; slow start ends when cwnd reaches it

	lastDecrease time.Time // time of the last loss reduction
	hasDecreased bool

	// undo is the state before the latest loss reduction, for UndoLoss;
	// canUndo is false after a timeout, once undone, or before any cut.
	undo    undoState
	canUndo bool
}

// undoState is what OnLoss changes.
type undoState struct {
	cwnd, ssthresh float64
	slowStart      bool
	lastDecrease   time.Time
	hasDecreased   bool
}

var _ Controller = (*LEDBAT)(nil)

// New returns a controller configured by cfg (zero fields take defaults)
// starting at time now.
func New(cfg Config, now time.Time) *LEDBAT {
	cfg = cfg.withDefaults()
	return &LEDBAT{
		cfg:       cfg,
		delays:    newDelayFilter(cfg.BaseHistory, cfg.CurrentFilter),
		rtt:       RTT{MinRTO: cfg.MinRTO},
		cwnd:      float64(cfg.InitCwnd),
		slowStart: !cfg.NoSlowStart,
		ssthresh:  float64(cfg.MaxCwnd),
	}
}

// Config returns the configuration in effect, defaults filled in.
func (l *LEDBAT) Config() Config { return l.cfg }

// OnAck implements Controller; the flight-size cap is not applied.
func (l *LEDBAT) OnAck(now time.Time, ackedBytes int, delay time.Duration) {
	l.OnAckInFlight(now, ackedBytes, delay, -1)
}

// OnAckInFlight is OnAck for a sender that knows flightSize, the bytes that
// were outstanding before this acknowledgement arrived. The window is then
// capped at flightSize + ALLOWED_INCREASE·MSS (RFC 6817 §2.4.2), so it only
// grows while the sender actually uses it. A negative flightSize disables
// the cap.
func (l *LEDBAT) OnAckInFlight(now time.Time, ackedBytes int, delay time.Duration, flightSize int) {
	l.onAck(now, ackedBytes, 1, delay, flightSize)
}

// OnAckPackets is OnAck for an acknowledgement that covers several data
// packets at once: a stretch ACK, or a PPSPP ACK, which names a range of
// chunks. Slow start counts it as that many acknowledgements of one packet
// each, so it grows by the acknowledged bytes up to ALLOWED_INCREASE·MSS
// per packet, as Linux TCP does since "tcp: properly handle stretch acks
// in slow start" (2013): with RFC 5681 §3.1's increase per ACK, slow start
// would otherwise be as slow as the receiver's acknowledgements are
// coarse. The delay sample counts once, and congestion avoidance, which
// scales with the acknowledged bytes, is unchanged.
func (l *LEDBAT) OnAckPackets(now time.Time, ackedBytes, packets int, delay time.Duration) {
	l.onAck(now, ackedBytes, max(packets, 1), delay, -1)
}

func (l *LEDBAT) onAck(now time.Time, ackedBytes, packets int, delay time.Duration, flightSize int) {
	// RFC 6817 §2.4.2, "on acknowledgement".
	l.delays.add(now, delay)
	if ackedBytes <= 0 {
		return
	}
	mss := float64(l.cfg.MSS)
	target := float64(l.cfg.Target)
	qd := float64(l.delays.queuingDelay())

	if l.slowStart && qd > target/2 {
		// The queue has started to build: from now on only the delay-based
		// rule applies.
		l.slowStart = false
	}
	if l.slowStart {
		// Grow like TCP slow start (RFC 5681 §3.1), at most
		// ALLOWED_INCREASE·MSS per acknowledged packet.
		l.cwnd += min(float64(ackedBytes), float64(packets)*l.cfg.AllowedIncrease*mss)
		if l.cwnd >= l.ssthresh {
			l.slowStart = false
		}
	} else {
		offTarget := (target - qd) / target
		l.cwnd += l.cfg.Gain * offTarget * float64(ackedBytes) * mss / l.cwnd
	}
	if flightSize >= 0 {
		l.cwnd = min(l.cwnd, float64(flightSize)+l.cfg.AllowedIncrease*mss)
	}
	l.clamp()
}

// OnRTTSample feeds a round-trip measurement to the controller's RFC 6298
// estimator, which times the once-per-RTT loss reaction and gives RTO.
func (l *LEDBAT) OnRTTSample(d time.Duration) { l.rtt.Sample(d) }

// RTO is the retransmission timeout (RFC 6817 calls it CTO) from the samples
// given to OnRTTSample, backed off by timeouts.
func (l *LEDBAT) RTO() time.Duration { return l.rtt.RTO() }

// SRTT is the smoothed round-trip time, or 0 before OnRTTSample.
func (l *LEDBAT) SRTT() time.Duration { return l.rtt.SRTT() }

// lossGuard is used in place of the RTT before any RTT sample.
const lossGuard = 100 * time.Millisecond

// OnLoss implements Controller: cwnd = min(cwnd, max(cwnd·LossBeta, MIN_CWND))
// (RFC 6817 §2.4.1/§2.4.2), at most once per smoothed RTT so that the
// losses of one window count as one congestion event. The state before the
// reduction is kept for UndoLoss. A loss reported within a round trip of
// the last reduction cuts nothing but makes that reduction final: the
// caller, which reports losses in batches, can no longer tell whether all
// losses of the event were spurious.
func (l *LEDBAT) OnLoss(now time.Time) { l.OnLossFloor(now, 0) }

// OnLossFloor is OnLoss for a sender that knows the window its path
// needs: the reduction stops at floor bytes (never raising the window).
// A sender that measures the rate its ACKs come back at, while the
// bottleneck's queue overflows, knows that rate times the path's round
// trip without a queue fills the path and builds none; cutting below it
// only idles the link until additive increase climbs back.
func (l *LEDBAT) OnLossFloor(now time.Time, floor int) {
	guard := l.rtt.SRTT()
	if guard <= 0 {
		guard = lossGuard
	}
	if l.hasDecreased && now.Sub(l.lastDecrease) < guard {
		l.slowStart = false
		l.canUndo = false
		return
	}
	l.undo = undoState{
		cwnd: l.cwnd, ssthresh: l.ssthresh, slowStart: l.slowStart,
		lastDecrease: l.lastDecrease, hasDecreased: l.hasDecreased,
	}
	l.canUndo = true
	beta := l.beta()
	l.slowStart = false
	l.lastDecrease, l.hasDecreased = now, true
	l.cwnd = min(l.cwnd, max(l.cwnd*beta, float64(l.cfg.MinCwnd), float64(floor)))
	l.ssthresh = l.cwnd
}

// OnTimeout implements Controller: cwnd = 1 MSS and the timer backs off
// (RFC 6817 §2.4.2, RFC 5681 §3.1). Slow start resumes up to half the
// window in use before the timeout.
func (l *LEDBAT) OnTimeout(now time.Time) {
	l.canUndo = false
	l.ssthresh = max(l.cwnd/2, float64(l.cfg.MinCwnd))
	l.cwnd = float64(l.cfg.MSS)
	l.slowStart = !l.cfg.NoSlowStart
	l.rtt.Backoff()
	l.lastDecrease, l.hasDecreased = now, true
}

// UndoLoss reverts the latest loss reduction once the caller has found
// that the losses it reported were spurious (the original packets arrive
// after all, only late or reordered), as Linux TCP undoes a reduction on
// DSACK or Eifel detection (RFC 2883, RFC 3522): cwnd and ssthresh become
// the larger of their values before the reduction and now, slow start
// resumes if it was on, and the once-per-RTT guard forgets the reduction.
// It reports whether it changed anything: it does nothing before any
// reduction, after a timeout, after a later loss within the same round
// trip, or when the reduction was already undone.
func (l *LEDBAT) UndoLoss() bool {
	if !l.canUndo {
		return false
	}
	l.canUndo = false
	u := l.undo
	l.cwnd = max(l.cwnd, u.cwnd)
	l.ssthresh = max(l.ssthresh, u.ssthresh)
	l.slowStart = l.slowStart || u.slowStart && l.cwnd < l.ssthresh
	l.lastDecrease, l.hasDecreased = u.lastDecrease, u.hasDecreased
	l.clamp()
	return true
}

// Window implements Controller.
func (l *LEDBAT) Window() int { return int(math.Round(l.cwnd)) }

// QueuingDelay implements Controller.
func (l *LEDBAT) QueuingDelay() time.Duration { return l.delays.queuingDelay() }

// BaseDelay is the minimum one-way delay over the base history, including
// any clock offset; ok is false before the first sample.
func (l *LEDBAT) BaseDelay() (d time.Duration, ok bool) { return l.delays.baseDelay() }

// InSlowStart reports whether the controller is still in slow start.
func (l *LEDBAT) InSlowStart() bool { return l.slowStart }

// clamp keeps cwnd within [MinCwnd, MaxCwnd] (RFC 6817 §2.4.2:
// cwnd = max(cwnd, MIN_CWND·MSS)).
func (l *LEDBAT) clamp() {
	l.cwnd = min(max(l.cwnd, float64(l.cfg.MinCwnd)), float64(l.cfg.MaxCwnd))
}

// beta is the fraction of the window kept on a loss.
// A loss that ends slow start halves the window whatever LossBeta says:
// the window doubled in the round trip that overfilled the queue, so half
// of it is the last window the path carried.
func (l *LEDBAT) beta() float64 {
	if l.slowStart {
		return 0.5
	}
	return l.cfg.LossBeta
}
