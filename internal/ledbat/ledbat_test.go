package ledbat

import (
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

const mss = DefaultMSS

// ackWindow acknowledges one window's worth of bytes in MSS-sized pieces,
// each with the given one-way delay, spaced evenly over rtt; it returns the
// time after.
func ackWindow(l *LEDBAT, now time.Time, rtt, delay time.Duration) time.Time {
	w := l.Window()
	n := (w + mss - 1) / mss
	for i := range n {
		now = now.Add(rtt / time.Duration(n))
		l.OnAck(now, min(mss, w-i*mss), delay)
	}
	return now
}

func TestDefaults(t *testing.T) {
	c := Config{}.withDefaults()
	want := Config{Target: 25 * time.Millisecond, Gain: 1, AllowedIncrease: 1, MSS: 1100, MinCwnd: 2200,
		InitCwnd: 4380, MaxCwnd: DefaultMaxCwnd, BaseHistory: 10, CurrentFilter: 4, LossBeta: 0.5}
	if c != want {
		t.Errorf("defaults = %+v, want %+v", c, want)
	}
	c = Config{Target: time.Second, Gain: 5, AllowedIncrease: math.NaN(), MSS: 500, MaxCwnd: 100}.withDefaults()
	if c.Target != MaxTarget || c.Gain != 1 || c.AllowedIncrease != 1 || c.InitCwnd != 1000 || c.MaxCwnd != 1000 {
		t.Errorf("clamped config = %+v", c)
	}
	if w := New(Config{}, t0).Window(); w != 4380 {
		t.Errorf("initial window %d, want 4380", w)
	}
}

// TestGrowthBelowTarget: with no queuing delay, congestion avoidance adds
// about GAIN·MSS per window acknowledged, like TCP (RFC 6817 §2.4.2).
func TestGrowthBelowTarget(t *testing.T) {
	l := New(Config{NoSlowStart: true, InitCwnd: 10 * mss}, t0)
	now := t0
	const rtt = 50 * time.Millisecond
	for range 20 {
		before := l.Window()
		now = ackWindow(l, now, rtt, 30*time.Millisecond)
		// The window grows during the RTT, so slightly less than one MSS.
		got := l.Window() - before
		if got < mss*9/10 || got > mss {
			t.Fatalf("window %d grew by %d in one RTT, want ≈ one MSS (%d)", before, got, mss)
		}
	}
	if l.QueuingDelay() != 0 {
		t.Errorf("queuing delay %v with constant delays", l.QueuingDelay())
	}
}

// TestDecreaseAboveTarget: a queuing delay of twice the target gives
// off_target = -1, so the window shrinks by about one MSS per window acked.
func TestDecreaseAboveTarget(t *testing.T) {
	l := New(Config{NoSlowStart: true, InitCwnd: 40 * mss}, t0)
	now := t0.Add(time.Millisecond)
	l.OnAck(now, 0, 30*time.Millisecond) // base delay sample only
	for range DefaultCurrentFilter {
		l.OnAck(now, 0, 80*time.Millisecond) // fill the current filter
	}
	for range 10 {
		before := l.Window()
		now = ackWindow(l, now, 100*time.Millisecond, 80*time.Millisecond)
		got := before - l.Window()
		if got < mss || got > mss*11/10 {
			t.Fatalf("window %d shrank by %d in one RTT, want ≈ one MSS", before, got)
		}
	}
	if qd := l.QueuingDelay(); qd != 50*time.Millisecond {
		t.Errorf("QueuingDelay = %v, want 50ms", qd)
	}
	// Far above target, the window falls to MinCwnd and stays there.
	for range 200 {
		now = ackWindow(l, now, 100*time.Millisecond, 500*time.Millisecond)
	}
	if w := l.Window(); w != 2*mss {
		t.Errorf("window %d under heavy queuing, want MinCwnd %d", w, 2*mss)
	}
}

// TestEquilibrium closes the loop over a model bottleneck: the queuing
// delay a window causes is the part of it beyond the path's capacity. The
// window must settle where the queuing delay is TARGET.
func TestEquilibrium(t *testing.T) {
	const (
		rate    = 1.25e6 // bytes per second
		baseRTT = 40 * time.Millisecond
		owd     = 20 * time.Millisecond
	)
	bdp := rate * baseRTT.Seconds()
	for _, slowStart := range []bool{false, true} {
		l := New(Config{NoSlowStart: !slowStart}, t0)
		now := t0
		var sumQ time.Duration
		var samples int
		for i := range 20000 {
			queued := max(float64(l.Window())-bdp, 0)
			qd := time.Duration(queued / rate * float64(time.Second))
			now = now.Add(time.Duration(float64(mss) / rate * float64(time.Second)))
			l.OnAck(now, mss, owd+qd)
			if i >= 15000 {
				sumQ += qd
				samples++
			}
		}
		avg := sumQ / time.Duration(samples)
		t.Logf("slow start %v: window %d B, model queuing delay %v, estimate %v", slowStart, l.Window(), avg, l.QueuingDelay())
		if avg < 22*time.Millisecond || avg > 28*time.Millisecond {
			t.Errorf("slow start %v: equilibrium queuing delay %v, want ≈ 25ms", slowStart, avg)
		}
	}
}

// TestSlowStart: slow start doubles the window per RTT while the queuing
// delay stays below TARGET/2 and stops for good once it exceeds it.
func TestSlowStart(t *testing.T) {
	l := New(Config{}, t0)
	now := ackWindow(l, t0, 50*time.Millisecond, 10*time.Millisecond)
	if w := l.Window(); w != 2*4380 || !l.InSlowStart() {
		t.Fatalf("after one window in slow start: window %d (slow start %v), want %d", w, l.InSlowStart(), 2*4380)
	}
	for range DefaultCurrentFilter {
		l.OnAck(now, mss, 10*time.Millisecond+13*time.Millisecond) // > TARGET/2
	}
	if l.InSlowStart() {
		t.Error("still in slow start with queuing delay above TARGET/2")
	}
	w := l.Window()
	ackWindow(l, now, 50*time.Millisecond, 10*time.Millisecond)
	if l.InSlowStart() || l.Window() > w+mss*11/10 {
		t.Errorf("after leaving slow start the window went %d → %d", w, l.Window())
	}
}

// TestClockOffsetIrrelevant: the same delays shifted by any constant clock
// offset, even a negative one, must give the same windows.
func TestClockOffsetIrrelevant(t *testing.T) {
	offsets := []time.Duration{0, time.Hour, -3 * time.Second, 1234567 * time.Microsecond}
	var ls []*LEDBAT
	for range offsets {
		ls = append(ls, New(Config{}, t0))
	}
	now := t0
	for i := range 5000 {
		now = now.Add(time.Millisecond)
		d := 20*time.Millisecond + time.Duration(i%70)*time.Millisecond/2
		for j, l := range ls {
			l.OnAck(now, mss, d+offsets[j])
			if i%500 == 0 {
				l.OnLoss(now)
			}
		}
		for j, l := range ls[1:] {
			if l.Window() != ls[0].Window() || l.QueuingDelay() != ls[0].QueuingDelay() {
				t.Fatalf("step %d: offset %v gives window %d, queuing %v; offset 0 gives %d, %v",
					i, offsets[j+1], l.Window(), l.QueuingDelay(), ls[0].Window(), ls[0].QueuingDelay())
			}
		}
	}
}

// TestBaseDelayRollover: the base delay is the minimum over the last ten
// one-minute intervals, so an old minimum expires after ten minutes.
func TestBaseDelayRollover(t *testing.T) {
	l := New(Config{}, t0)
	l.OnAck(t0, mss, 10*time.Millisecond)
	now := t0
	for now.Sub(t0) < 15*time.Minute {
		now = now.Add(time.Second)
		l.OnAck(now, mss, 40*time.Millisecond)
		base, _ := l.BaseDelay()
		want := 10 * time.Millisecond
		if now.Sub(t0) >= 10*time.Minute {
			want = 40 * time.Millisecond
		}
		if base != want {
			t.Fatalf("at %v: base delay %v, want %v", now.Sub(t0), base, want)
		}
	}
	if qd := l.QueuingDelay(); qd != 0 {
		t.Errorf("queuing delay %v after the path delay rose for good, want 0", qd)
	}
	// After an idle gap longer than the history, the old minima are gone.
	now = now.Add(30 * time.Minute)
	l.OnAck(now, mss, 70*time.Millisecond)
	if base, _ := l.BaseDelay(); base != 70*time.Millisecond {
		t.Errorf("base delay %v after a 30-minute gap, want 70ms", base)
	}
	if n := len(l.delays.base); n != 1 {
		t.Errorf("%d base buckets kept after the gap, want 1", n)
	}
	// Samples within one minute share a bucket; history never exceeds ten.
	for i := range 30 {
		l.OnAck(now.Add(time.Duration(i)*time.Minute), mss, 70*time.Millisecond)
	}
	if n := len(l.delays.base); n != DefaultBaseHistory {
		t.Errorf("%d base buckets, want %d", n, DefaultBaseHistory)
	}
}

// TestCurrentFilter: the current delay is the minimum of the last four
// samples, so a single spike does not count as queuing.
func TestCurrentFilter(t *testing.T) {
	l := New(Config{}, t0)
	for i, d := range []time.Duration{10, 10, 10, 10, 90, 10, 60, 60, 60, 60} {
		l.OnAck(t0.Add(time.Duration(i)*time.Millisecond), mss, d*time.Millisecond)
	}
	if qd := l.QueuingDelay(); qd != 50*time.Millisecond {
		t.Errorf("queuing delay %v after four 60ms samples on a 10ms base, want 50ms", qd)
	}
	l = New(Config{}, t0)
	for i, d := range []time.Duration{10, 10, 10, 90, 10} {
		l.OnAck(t0.Add(time.Duration(i)*time.Millisecond), mss, d*time.Millisecond)
	}
	if qd := l.QueuingDelay(); qd != 0 {
		t.Errorf("a single 90ms spike gave queuing delay %v", qd)
	}
}

// TestLossHalving: loss halves the window at most once per RTT, never below
// MinCwnd, and ends slow start.
func TestLossHalving(t *testing.T) {
	l := New(Config{InitCwnd: 64 * mss}, t0)
	l.OnRTTSample(100 * time.Millisecond)
	l.OnLoss(t0)
	if w := l.Window(); w != 32*mss || l.InSlowStart() {
		t.Fatalf("after loss: window %d (slow start %v), want %d", w, l.InSlowStart(), 32*mss)
	}
	l.OnLoss(t0.Add(50 * time.Millisecond))
	if w := l.Window(); w != 32*mss {
		t.Errorf("second loss within an RTT changed the window to %d", w)
	}
	now := t0
	for range 10 {
		now = now.Add(100 * time.Millisecond)
		l.OnLoss(now)
	}
	if w := l.Window(); w != 2*mss {
		t.Errorf("window %d after many losses, want MinCwnd %d", w, 2*mss)
	}
	// Without RTT samples a fixed guard applies.
	l = New(Config{InitCwnd: 64 * mss}, t0)
	l.OnLoss(t0)
	l.OnLoss(t0.Add(lossGuard - 1))
	l.OnLoss(t0.Add(lossGuard))
	if w := l.Window(); w != 16*mss {
		t.Errorf("window %d, want %d after two separated losses", w, 16*mss)
	}
	// LossBeta keeps another fraction in congestion avoidance; out of
	// range it is clamped. A loss that ends slow start halves the window
	// whatever LossBeta says.
	l = New(Config{InitCwnd: 100 * mss, LossBeta: 0.7, NoSlowStart: true}, t0)
	l.OnLoss(t0)
	if w := l.Window(); w != 70*mss {
		t.Errorf("LossBeta 0.7: window %d, want %d", w, 70*mss)
	}
	l = New(Config{InitCwnd: 100 * mss, LossBeta: 0.7}, t0)
	l.OnLoss(t0)
	if w := l.Window(); w != 50*mss {
		t.Errorf("LossBeta 0.7 in slow start: window %d, want %d", w, 50*mss)
	}
	for _, b := range []float64{1.5, math.NaN()} {
		l = New(Config{InitCwnd: 100 * mss, LossBeta: b, NoSlowStart: true}, t0)
		l.OnLoss(t0)
		if w := l.Window(); w != 50*mss {
			t.Errorf("LossBeta %v: window %d, want %d", b, w, 50*mss)
		}
	}
}

// TestTimeoutReset: a timeout sets the window to one MSS, backs off the
// timer and restarts slow start up to half the old window.
func TestTimeoutReset(t *testing.T) {
	l := New(Config{InitCwnd: 40 * mss}, t0)
	l.OnRTTSample(100 * time.Millisecond)
	rto := l.RTO()
	l.OnTimeout(t0)
	if w := l.Window(); w != mss {
		t.Errorf("window after timeout %d, want one MSS %d", w, mss)
	}
	if l.RTO() != 2*rto {
		t.Errorf("RTO after timeout %v, want %v", l.RTO(), 2*rto)
	}
	if !l.InSlowStart() {
		t.Error("no slow start after timeout")
	}
	now := t0
	for i := 0; l.InSlowStart(); i++ {
		if i > 100 {
			t.Fatal("slow start did not end")
		}
		now = now.Add(time.Millisecond)
		l.OnAck(now, mss, 20*time.Millisecond)
	}
	if w := l.Window(); w != 20*mss {
		t.Errorf("slow start after timeout ended at %d, want half the old window %d", w, 20*mss)
	}
	l.OnRTTSample(100 * time.Millisecond)
	if l.RTO() != rto {
		t.Errorf("RTO %v after a new sample, want backoff undone (%v)", l.RTO(), rto)
	}
}

// TestFlightSizeCap: an application-limited sender does not grow a window
// it does not use (RFC 6817 §2.4.2, max_allowed_cwnd).
func TestFlightSizeCap(t *testing.T) {
	l := New(Config{InitCwnd: 10 * mss}, t0)
	for i := range 100 {
		l.OnAckInFlight(t0.Add(time.Duration(i)*time.Millisecond), mss, 20*time.Millisecond, 3*mss)
	}
	if w := l.Window(); w != 4*mss {
		t.Errorf("window %d with 3 MSS in flight, want %d", w, 4*mss)
	}
}

func TestMaxCwnd(t *testing.T) {
	l := New(Config{MaxCwnd: 20 * mss}, t0)
	for i := range 1000 {
		l.OnAck(t0.Add(time.Duration(i)*time.Millisecond), mss, 20*time.Millisecond)
	}
	if w := l.Window(); w != 20*mss {
		t.Errorf("window %d, want MaxCwnd %d", w, 20*mss)
	}
}

// TestOnAckPackets: in slow start an acknowledgement of n packets grows the
// window as n acknowledgements of one packet would, while OnAck caps the
// growth at one MSS; past slow start both grow alike.
func TestOnAckPackets(t *testing.T) {
	a := New(Config{InitCwnd: 10 * mss}, t0)
	b := New(Config{InitCwnd: 10 * mss}, t0)
	a.OnAckPackets(t0, 8*mss, 8, 10*time.Millisecond)
	b.OnAck(t0, 8*mss, 10*time.Millisecond)
	if a.Window() != 18*mss || b.Window() != 11*mss {
		t.Fatalf("windows %d and %d, want %d and %d", a.Window(), b.Window(), 18*mss, 11*mss)
	}
	a = New(Config{InitCwnd: 10 * mss, NoSlowStart: true}, t0)
	b = New(Config{InitCwnd: 10 * mss, NoSlowStart: true}, t0)
	a.OnAckPackets(t0, 8*mss, 8, 10*time.Millisecond)
	b.OnAck(t0, 8*mss, 10*time.Millisecond)
	if a.Window() != b.Window() {
		t.Fatalf("congestion avoidance: windows %d and %d differ", a.Window(), b.Window())
	}
}

// TestUndoLoss: UndoLoss restores the window, threshold and slow start of
// before the latest reduction, once, and never after a timeout.
func TestUndoLoss(t *testing.T) {
	l := New(Config{InitCwnd: 64 * mss}, t0)
	l.OnRTTSample(100 * time.Millisecond)
	if l.UndoLoss() {
		t.Fatal("undo before any loss")
	}
	l.OnLoss(t0)
	if w := l.Window(); w != 32*mss || l.InSlowStart() {
		t.Fatalf("after loss: window %d (slow start %v)", w, l.InSlowStart())
	}
	if !l.UndoLoss() {
		t.Fatal("undo refused")
	}
	if w := l.Window(); w != 64*mss || !l.InSlowStart() {
		t.Errorf("after undo: window %d (slow start %v), want %d in slow start", w, l.InSlowStart(), 64*mss)
	}
	if l.UndoLoss() {
		t.Error("second undo of the same reduction")
	}
	// The guard forgot the undone reduction: a loss right after cuts.
	l.OnLoss(t0.Add(time.Millisecond))
	if w := l.Window(); w != 32*mss {
		t.Errorf("loss after undo: window %d, want %d", w, 32*mss)
	}
	// The window grew since the reduction: undo keeps the larger one.
	now := t0.Add(time.Millisecond)
	for range 40 {
		now = now.Add(time.Millisecond)
		l.OnAck(now, 1000*mss, 20*time.Millisecond)
	}
	grown := l.Window()
	l.OnLoss(now.Add(time.Second))
	l.OnAck(now.Add(time.Second), 1000*mss, 20*time.Millisecond)
	l.UndoLoss() // undoes the second reduction only
	if w := l.Window(); w < grown {
		t.Errorf("window %d after undo, want at least %d", w, grown)
	}

	// A timeout makes the reduction final.
	l = New(Config{InitCwnd: 64 * mss}, t0)
	l.OnLoss(t0)
	l.OnTimeout(t0.Add(time.Second))
	if l.UndoLoss() || l.Window() != mss {
		t.Errorf("undo after timeout: window %d", l.Window())
	}

	// So does a further loss within the round trip: the event it belongs
	// to is no longer known to be spurious.
	l = New(Config{InitCwnd: 64 * mss}, t0)
	l.OnLoss(t0)
	l.OnLoss(t0.Add(lossGuard / 2))
	if l.UndoLoss() || l.Window() != 32*mss {
		t.Errorf("undo after a second loss report: window %d", l.Window())
	}
}

// TestUndoLossSlowStartThreshold: undone, the reduction no longer caps slow
// start; a loss outside slow start stays outside it.
func TestUndoLossSlowStartThreshold(t *testing.T) {
	l := New(Config{InitCwnd: 8 * mss, NoSlowStart: true}, t0)
	l.OnLoss(t0)
	l.UndoLoss()
	if w := l.Window(); w != 8*mss || l.InSlowStart() {
		t.Errorf("window %d (slow start %v), want %d without slow start", w, l.InSlowStart(), 8*mss)
	}
	l = New(Config{InitCwnd: 8 * mss}, t0)
	l.OnLoss(t0)
	l.UndoLoss()
	now := t0
	for range 50 {
		now = now.Add(time.Millisecond)
		l.OnAck(now, mss, 20*time.Millisecond)
	}
	if w := l.Window(); w != 58*mss || !l.InSlowStart() {
		t.Errorf("window %d (slow start %v), want %d still in slow start", w, l.InSlowStart(), 58*mss)
	}
}

// TestLossFloor: OnLossFloor cuts no lower than the floor, and never
// raises the window.
func TestLossFloor(t *testing.T) {
	t0 := time.Unix(0, 0)
	mss := DefaultMSS
	l := New(Config{InitCwnd: 100 * mss, NoSlowStart: true}, t0)
	l.OnLossFloor(t0, 80*mss)
	if w := l.Window(); w != 80*mss {
		t.Errorf("window %d after a loss with floor %d, want the floor", w, 80*mss)
	}
	l = New(Config{InitCwnd: 100 * mss, NoSlowStart: true}, t0)
	l.OnLossFloor(t0, 200*mss)
	if w := l.Window(); w != 100*mss {
		t.Errorf("window %d after a loss with a floor above it, want %d unchanged", w, 100*mss)
	}
	l = New(Config{InitCwnd: 100 * mss, NoSlowStart: true}, t0)
	l.OnLossFloor(t0, 10*mss)
	if w := l.Window(); w != 50*mss {
		t.Errorf("window %d after a loss with a low floor, want %d", w, 50*mss)
	}
}
