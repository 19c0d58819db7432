package picker

import "github.com/nextshare/nextshare/internal/bin"

// Next appends to dst up to max chunks to request from peer id, as ranges of
// consecutive chunks (each at most MaxRun long), and marks them requested
// from id. It only picks chunks the peer has, that are not verified, and
// that are not requested from anyone, except in endgame, where a chunk
// requested from one other peer may be requested from id too.
//
// Order of preference:
//  0. The urgent ranges (SetUrgent), in order, unless the peer has a lead
//     (SetLead) and another has none; such a peer gets nothing within
//     its lead from the start of an urgent range.
//  1. In the window, chunks fewer than all peers have, rarest first; equally
//     rare chunks in order from a point drawn at random for each call (from
//     the picker's generator, seeded with Config.Seed) and around the window,
//     so that leechers asking a seeder at the same time ask for different
//     chunks.
//  2. In the window, chunks every peer has, in order; with Config.Spread
//     and no urgent range, from a random point and around the window.
//  3. After the window, in order; then before the position, in order.
//  4. Endgame: chunks requested from one other peer, in the same order.
//
// The cost is bounded by the window plus the chunks skipped after it, and
// per-peer cursors make repeated scans outside the window amortized O(1).
func (p *Picker) Next(dst []bin.Range, id PeerID, max int) []bin.Range {
	pe := p.peers[id]
	if pe == nil || max <= 0 {
		return dst
	}
	if pe.dry && pe.dryEpoch == p.epoch && pe.dryEndgame == p.endgame() {
		return dst
	}
	s := sweep{p: p, pe: pe, dst: dst, base: len(dst), left: max}
	if p.open > 0 {
		s.urgentPass()
	}
	if p.open > 0 && s.left > 0 {
		s.window()
		if s.left > 0 {
			s.outside()
		}
	}
	if s.left > 0 && p.endgame() {
		s.endgame()
	}
	if len(s.dst) == s.base {
		pe.dry, pe.dryEpoch, pe.dryEndgame = true, p.epoch, p.endgame()
	}
	return s.dst
}

// Endgame reports whether every missing chunk that some peer has is
// requested, so that Next may request chunks a second time (RFC 7574 §3.8
// describes the CANCEL that follows). Never while the size is unknown.
func (p *Picker) Endgame() bool { return p.endgame() }

func (p *Picker) endgame() bool {
	return p.cfg.Endgame && p.n > 0 && p.open == 0 && p.have.Count() < p.n
}

// sweep is the state of one Next call.
type sweep struct {
	p    *Picker
	pe   *peer
	dst  []bin.Range
	base int // ranges before base belong to the caller and are not extended
	left int // chunks still wanted
	// noUrgent keeps the sweep off the peer's lead from the start of each
	// urgent range: the peer has a lead and another has none. skipFrom is the first urgent chunk scanFree
	// skipped in its current call (skipped tells whether it did): the
	// peer's cursor must stop there, since the chunk stays pickable.
	noUrgent bool
	skipped  bool
	skipFrom uint64
}

// add appends chunk i, extending the last range of this call if i follows it.
func (s *sweep) add(i uint64) {
	s.left--
	if n := len(s.dst); n > s.base {
		last := &s.dst[n-1]
		if last.End+1 == i && last.End-last.Start+1 < s.p.cfg.MaxRun {
			last.End = i
			return
		}
	}
	s.dst = append(s.dst, bin.Range{Start: i, End: i})
}

// window picks from the in-order window: rare levels first, each from a
// random rotation point around the window, then the common levels in order.
//
// A fixed rotation point per picker would not do: as the rare chunks run
// out, leechers sweeping from fixed points converge on the same few and then
// move in lockstep; a fresh point per call keeps them apart.
func (s *sweep) window() {
	p := s.p
	lo, hi := p.lo, p.hi
	if lo >= hi {
		return
	}
	// Levels below rare are chunks some peer lacks. A chunk every peer has
	// gains nothing from being fetched early, so streaming order wins.
	rare := min(len(p.order), levels-1)
	if rare > 1 {
		rs := lo + p.random()%(hi-lo)
		for l := 1; l < rare && s.left > 0; l++ {
			m := uint32(1) << l
			if p.win.nonEmpty&m == 0 {
				continue
			}
			s.scanWindow(m, rs, hi)
			if s.left > 0 {
				s.scanWindow(m, lo, rs)
			}
		}
	}
	if s.left == 0 {
		return
	}
	common := ^uint32(0) << max(rare, 1)
	if !p.cfg.Spread || len(p.urgent) > 0 {
		s.scanWindow(common, lo, hi)
		return
	}
	rs := lo + p.random()%(hi-lo)
	s.scanWindow(common, rs, hi)
	if s.left > 0 {
		s.scanWindow(common, lo, rs)
	}
}

// scanWindow picks, in order, chunks of [a, b) indexed in the levels of mask
// that the peer has.
func (s *sweep) scanWindow(mask uint32, a, b uint64) {
	for i := a; s.left > 0; {
		j, ok := s.p.win.next(mask, i, b, s.pe.has)
		if !ok {
			return
		}
		if k := s.skipUrgent(j); k != j {
			i = k
			continue
		}
		s.p.request(s.pe, j)
		s.add(j)
		i = j + 1
	}
}

// outside picks in order after the window, then before the position, and
// advances the peer's cursors over what it scanned.
func (s *sweep) outside() {
	p := s.p
	if e := p.end(); p.hi < e {
		s.pe.tail = s.scanFree(max(p.hi, s.pe.tail), e)
	}
	if to := min(p.lo, p.end()); s.left > 0 && p.first < to {
		s.pe.head = s.scanFree(max(p.first, s.pe.head), to)
	}
}

// scanFree picks, in order, chunks of [i, to) that are not busy and that the
// peer has. It returns the chunk up to which it looked: before it, nothing
// is left for this peer.
func (s *sweep) scanFree(i, to uint64) uint64 {
	s.skipped = false
	for s.left > 0 && i < to {
		j, ok := s.p.busy.NextMissing(i)
		if !ok || j >= to {
			return s.stop(to)
		}
		if !s.pe.has.Has(j) {
			k, ok := s.pe.has.NextPresent(j)
			if !ok || k >= to {
				return s.stop(to)
			}
			i = k
			continue
		}
		if k := s.skipUrgent(j); k != j {
			if !s.skipped {
				s.skipped, s.skipFrom = true, j
			}
			i = k
			continue
		}
		s.p.request(s.pe, j)
		s.add(j)
		i = j + 1
	}
	return s.stop(i)
}

// stop returns where scanFree may leave a peer's cursor: at to, or at the
// first urgent chunk it skipped if that comes first.
func (s *sweep) stop(to uint64) uint64 {
	if s.skipped {
		return min(to, s.skipFrom)
	}
	return to
}

// endgame picks chunks requested from exactly one other peer: from the
// window start to the end, then before the position.
func (s *sweep) endgame() {
	p := s.p
	s.scanDup(p.lo, p.end())
	if to := min(p.lo, p.end()); s.left > 0 && p.first < to {
		s.scanDup(p.first, to)
	}
}

func (s *sweep) scanDup(i, to uint64) {
	p := s.p
	for s.left > 0 && i < to {
		j, ok := p.have.NextMissing(i)
		if !ok || j >= to {
			return
		}
		if !s.pe.has.Has(j) {
			k, ok := s.pe.has.NextPresent(j)
			if !ok || k >= to {
				return
			}
			i = k
			continue
		}
		if k := s.skipUrgent(j); k != j {
			i = k
			continue
		}
		if p.busy.Has(j) && !p.dup.Has(j) && !s.pe.req.Has(j) {
			p.requestAgain(s.pe, j)
			s.add(j)
		}
		i = j + 1
	}
}
