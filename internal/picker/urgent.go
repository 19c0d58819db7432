package picker

import "github.com/nextshare/nextshare/internal/bin"

// SetUrgent replaces the urgent ranges: chunks that readers are waiting
// for or will need within moments, the most pressing range first (a
// player stalled at a seek, say, before one still buffering ahead). Next
// hands out the chunks of the urgent ranges before any other, range by
// range and in order within each, and only to peers without a lead
// (SetLead), so that what playback needs next comes from the fastest
// peers. Chunks already verified or requested are skipped; ranges beyond
// the content are clipped when the number of chunks is known.
//
// Urgent ranges do not move the window (SetPosition does); the engine
// usually starts the first urgent range at the position.
func (p *Picker) SetUrgent(rs []bin.Range) {
	p.urgent = p.urgent[:0]
	for _, r := range rs {
		if r.End < r.Start || r.Start >= p.lim {
			continue
		}
		r.End = min(r.End, p.lim-1)
		p.urgent = append(p.urgent, r)
	}
	p.epoch++ // a peer found dry may find urgent chunks now
}

// Urgent returns the urgent ranges last set, as clipped. The slice belongs
// to the picker.
func (p *Picker) Urgent() []bin.Range { return p.urgent }

// IsUrgent reports whether chunk i lies in an urgent range.
func (p *Picker) IsUrgent(i uint64) bool {
	for _, r := range p.urgent {
		if r.Start <= i && i <= r.End {
			return true
		}
	}
	return false
}

// UrgentOpen returns how many chunks of the urgent ranges are neither
// verified nor requested: work for Next right now. Its cost is a word
// operation per 64 urgent chunks.
func (p *Picker) UrgentOpen() uint64 {
	var n uint64
	e := p.end()
	for _, r := range p.urgent {
		to := min(r.End+1, e)
		for i := r.Start; i < to; {
			j, ok := p.busy.NextMissing(i)
			if !ok || j >= to {
				break
			}
			k, ok := p.busy.NextPresent(j)
			if !ok || k > to {
				k = to
			}
			n += k - j
			i = k
		}
	}
	return n
}

// Blocked reports whether the first chunk of some urgent range is neither
// verified nor requested: a reader waits for a chunk nobody was asked for.
func (p *Picker) Blocked() bool {
	for _, r := range p.urgent {
		if !p.busy.Has(r.Start) && r.Start < p.end() && p.avail[r.Start] > 0 {
			return true
		}
	}
	return false
}

// SetLead keeps peer id off the first lead chunks of every urgent range
// (counted from its start), or, with lead 0, lets it have them. The engine
// gives a slow peer the lead that covers how far playback gets while that
// peer delivers what it was asked for: chunks a reader needs sooner come
// from faster peers. While no peer has lead 0 the leads are ignored, so
// that urgent chunks are always requested from someone. Peers start with
// lead 0. RequestAgain is not affected.
func (p *Picker) SetLead(id PeerID, lead uint64) {
	if pe := p.peers[id]; pe != nil && pe.lead != lead {
		pe.lead = lead
		pe.dry = false
	}
}

// RequestAgain marks chunk i, already requested from exactly one other
// peer, as requested from peer id too: a second request for a chunk a
// reader needs now whose first request is overdue (RFC 7574 §3.8; the
// engine sends a CANCEL to the slower peer when the chunk arrives, see
// Duplicates). It reports whether it did; it does nothing if id lacks the
// chunk or has it requested already, or if the chunk is verified, not
// requested at all, or requested from two peers already.
func (p *Picker) RequestAgain(id PeerID, i uint64) bool {
	pe := p.peers[id]
	if pe == nil || i >= p.end() || !pe.has.Has(i) || pe.req.Has(i) ||
		p.have.Has(i) || !p.busy.Has(i) || p.dup.Has(i) {
		return false
	}
	p.requestAgain(pe, i)
	return true
}

// Take marks the chunks of r that peer id has and that are pickable as
// requested from it, for requests the engine sent before the picker could
// choose them (before the number of chunks was known, say), so that they
// are not handed out again. It returns how many it marked.
func (p *Picker) Take(id PeerID, r bin.Range) int {
	pe := p.peers[id]
	if pe == nil || r.End < r.Start {
		return 0
	}
	e := p.end()
	if e == 0 {
		return 0
	}
	r.End = min(r.End, e-1)
	n := 0
	for i := r.Start; i <= r.End; i++ {
		if pe.has.Has(i) && !p.busy.Has(i) {
			p.request(pe, i)
			n++
		}
	}
	return n
}

// urgentPass picks, for a peer with no lead, the urgent chunks it has that
// nobody was asked for, range by range, in order. For a peer with a lead
// while some peer has none, it tells the other passes to leave the chunks
// within the lead alone.
func (s *sweep) urgentPass() {
	p := s.p
	if s.pe.lead > 0 && p.anyFast() {
		s.noUrgent = len(p.urgent) > 0
		return
	}
	for _, r := range p.urgent {
		if s.left <= 0 {
			return
		}
		s.scanFree(r.Start, min(r.End+1, p.end()))
	}
}

// anyFast reports whether some peer has lead 0.
func (p *Picker) anyFast() bool {
	for _, pe := range p.order {
		if pe.lead == 0 {
			return true
		}
	}
	return false
}

// skipUrgent returns the first chunk at or after i that the sweep may pick:
// i itself, or, when the peer must keep off the first lead chunks of the
// urgent ranges and i is among them, the first chunk after them.
func (s *sweep) skipUrgent(i uint64) uint64 {
	if !s.noUrgent {
		return i
	}
	for moved := true; moved; {
		moved = false
		for _, r := range s.p.urgent {
			end := max(r.End, r.Start+s.pe.lead-1)
			if r.Start <= i && i <= end {
				i, moved = end+1, true
			}
		}
	}
	return i
}
