package picker

import "math"

// SetPosition sets the playback position: the in-order window starts at the
// first missing chunk at or after i. Chunks before the position are still
// fetched, in order, once nothing in or after the window can be.
//
// Chunks a reader needs at once are urgent ranges (SetUrgent), which Next
// serves before the window's rarest-first.
//
// Moving the position forward within the window costs O(distance moved), so
// the engine may follow playback closely; other moves rebuild the window
// index in O(Window).
func (p *Picker) SetPosition(i uint64) {
	p.pos = i
	lo := p.nextMissing(max(i, p.first))
	switch {
	case lo == p.lo:
	case lo > p.lo && lo < p.hi:
		// Chunks [p.lo, lo) leave the window for the region before the
		// position; the peers' head cursors stay valid, as they never pass
		// the old window start.
		for c := p.lo; c < lo; c++ {
			if a := p.avail[c]; a > 0 && !p.busy.Has(c) {
				p.win.remove(level(a), c)
			}
		}
		p.lo = lo
		p.slide()
	default:
		p.rebuild()
	}
}

// Position returns the playback position last set.
func (p *Picker) Position() uint64 { return p.pos }

// nextMissing returns the first chunk at or after i that is not verified, or
// end if there is none below end. It returns i itself when i >= end.
func (p *Picker) nextMissing(i uint64) uint64 {
	e := p.end()
	if i >= e {
		return i
	}
	j, ok := p.have.NextMissing(i)
	if !ok || j > e {
		return e
	}
	return j
}

// rebuild recomputes the window from scratch after the position or the
// number of chunks changed, and forgets every peer's scan cursors.
func (p *Picker) rebuild() {
	p.win.reset()
	p.first = p.nextMissing(0)
	p.lo = p.nextMissing(max(p.pos, p.first))
	p.hi = p.lo
	p.slide()
	for _, pe := range p.order {
		pe.tail, pe.head = 0, 0
	}
	p.epoch++
}

// slide moves the window forward past verified chunks and extends it up to
// Window chunks (or the end), indexing the chunks that enter it. Chunks that
// leave it are verified, so their bits are already clear. Each chunk enters
// once per rebuild: amortized O(1) per chunk.
func (p *Picker) slide() {
	if p.lo < p.end() && p.have.Has(p.lo) {
		p.lo = p.nextMissing(p.lo)
	}
	if p.hi < p.lo {
		p.hi = p.lo
	}
	hi := min(p.lo+p.cfg.Window, p.end())
	for i := p.hi; i < hi; i++ {
		if c := p.avail[i]; c > 0 && !p.busy.Has(i) {
			p.win.add(level(c), i)
		}
	}
	if hi > p.hi {
		p.hi = hi
	}
}

// inWindow reports whether chunk i is indexed by win.
func (p *Picker) inWindow(i uint64) bool { return i >= p.lo && i < p.hi }

// incAvail records that one more peer has chunk i (i < end).
func (p *Picker) incAvail(i uint64) {
	c := p.avail[i]
	if c == math.MaxUint16 {
		return
	}
	p.avail[i] = c + 1
	if p.busy.Has(i) {
		return
	}
	if c == 0 {
		p.open++
	}
	if p.inWindow(i) && level(c) != level(c+1) {
		if c > 0 {
			p.win.remove(level(c), i)
		}
		p.win.add(level(c+1), i)
	}
}

// decAvail records that one peer fewer has chunk i (i < end).
func (p *Picker) decAvail(i uint64) {
	c := p.avail[i]
	if c == 0 {
		return
	}
	p.avail[i] = c - 1
	if p.busy.Has(i) {
		return
	}
	if c == 1 {
		p.open--
	}
	if p.inWindow(i) && level(c) != level(c-1) {
		p.win.remove(level(c), i)
		if c > 1 {
			p.win.add(level(c-1), i)
		}
	}
}
