package picker

import "fmt"

// check verifies every invariant the Picker documents, by brute force. Tests
// call it after each operation.
func (p *Picker) check() error {
	end := p.end()
	if p.n > 0 && end != p.n {
		return fmt.Errorf("len(avail) = %d, want n = %d", end, p.n)
	}
	if len(p.peers) != len(p.order) {
		return fmt.Errorf("%d peers in map, %d in order", len(p.peers), len(p.order))
	}
	for k, pe := range p.order {
		if pe.idx != k || p.peers[pe.id] != pe {
			return fmt.Errorf("peer %d: index %d at position %d, or not in map", pe.id, pe.idx, k)
		}
	}
	var open uint64
	inWin := make([]uint64, levels)
	for i := uint64(0); i < end; i++ {
		var holders, reqs int
		for _, pe := range p.order {
			if pe.has.Has(i) {
				holders++
			}
			if pe.req.Has(i) {
				reqs++
				if !pe.has.Has(i) {
					return fmt.Errorf("chunk %d requested from peer %d, which lacks it", i, pe.id)
				}
			}
		}
		if int(p.avail[i]) != holders {
			return fmt.Errorf("avail[%d] = %d, %d peers have it", i, p.avail[i], holders)
		}
		have := p.have.Has(i)
		if have && reqs > 0 {
			return fmt.Errorf("chunk %d verified but requested %d times", i, reqs)
		}
		if reqs > 2 {
			return fmt.Errorf("chunk %d requested %d times", i, reqs)
		}
		if p.busy.Has(i) != (have || reqs > 0) {
			return fmt.Errorf("chunk %d: busy %v, have %v, %d requests", i, p.busy.Has(i), have, reqs)
		}
		if p.dup.Has(i) != (reqs == 2) {
			return fmt.Errorf("chunk %d: dup %v with %d requests", i, p.dup.Has(i), reqs)
		}
		free := !p.busy.Has(i) && holders > 0
		if free {
			open++
		}
		for l := 1; l < levels; l++ {
			want := free && p.inWindow(i) && level(p.avail[i]) == l
			if p.inWindow(i) && p.win.has(l, i) != want {
				return fmt.Errorf("chunk %d level %d: indexed %v, want %v (window [%d,%d), avail %d)",
					i, l, p.win.has(l, i), want, p.lo, p.hi, p.avail[i])
			}
			if want {
				inWin[l]++
			}
		}
	}
	if open != p.open {
		return fmt.Errorf("open = %d, want %d", p.open, open)
	}
	for l := 1; l < levels; l++ {
		if p.win.count[l] != inWin[l] {
			return fmt.Errorf("level %d counts %d chunks, %d in the window (bits outside it?)", l, p.win.count[l], inWin[l])
		}
		if (p.win.nonEmpty&(1<<l) != 0) != (inWin[l] > 0) {
			return fmt.Errorf("level %d nonEmpty bit wrong", l)
		}
	}
	if p.hi-p.lo > p.win.size() {
		return fmt.Errorf("window [%d,%d) longer than the ring (%d)", p.lo, p.hi, p.win.size())
	}
	if f := p.nextMissing(0); p.first != f {
		return fmt.Errorf("first = %d, want %d", p.first, f)
	}
	if lo := p.nextMissing(max(p.pos, p.first)); p.lo != lo {
		return fmt.Errorf("lo = %d, want %d (pos %d)", p.lo, lo, p.pos)
	}
	if hi := max(p.lo, min(p.lo+p.cfg.Window, end)); p.hi != hi {
		return fmt.Errorf("hi = %d, want %d", p.hi, hi)
	}
	for _, pe := range p.order {
		for i := p.hi; i < min(pe.tail, end); i++ {
			if !p.busy.Has(i) && pe.has.Has(i) {
				return fmt.Errorf("peer %d: chunk %d pickable below its tail cursor %d", pe.id, i, pe.tail)
			}
		}
		for i := p.first; i < min(pe.head, p.lo, end); i++ {
			if !p.busy.Has(i) && pe.has.Has(i) {
				return fmt.Errorf("peer %d: chunk %d pickable below its head cursor %d", pe.id, i, pe.head)
			}
		}
	}
	return nil
}
