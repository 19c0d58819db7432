package ledbat

import "time"

// baseInterval is the span of one base-delay bucket (RFC 6817 §2.4.2:
// "each minimum is measured over a period of a minute").
const baseInterval = time.Minute

// bucket is the minimum delay seen during one base interval.
type bucket struct {
	interval int64 // now.UnixNano() / baseInterval
	min      time.Duration
}

// delayFilter keeps the two delay estimates of RFC 6817 §2.4.2: the base
// delay (minimum over the last BaseHistory intervals) and the current delay
// (minimum over the last CurrentFilter samples).
type delayFilter struct {
	// base holds at most cap(base) buckets, oldest first, for distinct
	// intervals in increasing order, none older than BaseHistory intervals
	// before the newest.
	base []bucket
	// current is a ring of the last samples; n of them are valid and next
	// is where the next sample goes.
	current []time.Duration
	n, next int
}

func newDelayFilter(history, filter int) delayFilter {
	return delayFilter{
		base:    make([]bucket, 0, history),
		current: make([]time.Duration, filter),
	}
}

// add records one delay sample taken at now.
func (f *delayFilter) add(now time.Time, delay time.Duration) {
	f.updateBase(now, delay)
	f.current[f.next] = delay
	f.next = (f.next + 1) % len(f.current)
	f.n = min(f.n+1, len(f.current))
}

// updateBase is update_base_delay of RFC 6817 §2.4.2. Where the RFC rolls
// over one bucket per minute boundary seen, this drops every bucket older
// than BaseHistory intervals, so an idle period does not leave stale minima
// behind.
func (f *delayFilter) updateBase(now time.Time, delay time.Duration) {
	iv := now.UnixNano() / int64(baseInterval)
	if k := len(f.base); k > 0 && f.base[k-1].interval >= iv {
		// Same interval (or a clock that stepped back): update the tail.
		f.base[k-1].min = min(f.base[k-1].min, delay)
		return
	}
	limit := int64(cap(f.base))
	drop := 0
	for drop < len(f.base) && iv-f.base[drop].interval >= limit {
		drop++
	}
	if drop == 0 && len(f.base) == cap(f.base) {
		drop = 1
	}
	f.base = append(f.base[:0], f.base[drop:]...)
	f.base = append(f.base, bucket{interval: iv, min: delay})
}

// baseDelay is MIN(base_delays); ok is false before the first sample.
func (f *delayFilter) baseDelay() (d time.Duration, ok bool) {
	if len(f.base) == 0 {
		return 0, false
	}
	d = f.base[0].min
	for _, b := range f.base[1:] {
		d = min(d, b.min)
	}
	return d, true
}

// currentDelay is FILTER(current_delays), the minimum of the recent samples.
func (f *delayFilter) currentDelay() (d time.Duration, ok bool) {
	if f.n == 0 {
		return 0, false
	}
	// The ring fills from index 0, so the first n entries are the valid ones.
	d = f.current[0]
	for _, v := range f.current[1:f.n] {
		d = min(d, v)
	}
	return d, true
}

// queuingDelay is current delay minus base delay, never negative.
func (f *delayFilter) queuingDelay() time.Duration {
	cur, ok1 := f.currentDelay()
	base, ok2 := f.baseDelay()
	if !ok1 || !ok2 {
		return 0
	}
	return max(cur-base, 0)
}
