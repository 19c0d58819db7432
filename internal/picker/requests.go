package picker

import "github.com/nextshare/nextshare/internal/bin"

// request marks chunk i, which is pickable, as requested from pe
// (a REQUEST, RFC 7574 §3.7).
func (p *Picker) request(pe *peer, i uint64) {
	_, _ = p.busy.Add(i) // i < end <= lim
	_, _ = pe.req.Add(i)
	c := p.avail[i] // >= 1: pe has the chunk
	p.open--
	if p.inWindow(i) {
		p.win.remove(level(c), i)
	}
}

// requestAgain marks chunk i, requested from exactly one other peer, as
// requested from pe too (endgame).
func (p *Picker) requestAgain(pe *peer, i uint64) {
	_, _ = p.dup.Add(i)
	_, _ = pe.req.Add(i)
}

// drop forgets that chunk i was requested from pe. If no other peer has it
// requested, it becomes pickable again.
func (p *Picker) drop(pe *peer, i uint64) {
	if !pe.req.Remove(i) || p.have.Has(i) {
		return
	}
	// Peers found dry must be searched again when the chunk becomes
	// pickable, or when, requested twice before, it may now be requested
	// again in endgame.
	if p.dup.Remove(i) {
		p.epoch++
		return
	}
	p.busy.Remove(i)
	if i >= p.end() || p.avail[i] == 0 {
		return
	}
	p.epoch++
	p.open++
	switch {
	case p.inWindow(i):
		p.win.add(level(p.avail[i]), i)
	case i >= p.hi:
		for _, q := range p.order {
			q.tail = min(q.tail, i)
		}
	default:
		for _, q := range p.order {
			q.head = min(q.head, i)
		}
	}
}

// Have records that chunk i is verified: it is never picked again and every
// request for it is forgotten (so call Duplicates before Have). Chunks at or
// beyond the number of chunks are ignored.
func (p *Picker) Have(i uint64) { p.have1(i, true) }

// Got records that chunk i arrived from peer id and passed verification:
// Received and Have in one step, in which the chunk never becomes pickable
// (so peers found to have nothing to offer stay so). Call Duplicates first.
func (p *Picker) Got(id PeerID, i uint64) {
	pe := p.peers[id]
	if pe == nil || i >= p.lim || !pe.req.Remove(i) {
		p.Have(i)
		return
	}
	// Requested from id: other requesters exist only if it was requested
	// twice.
	p.have1(i, p.dup.Remove(i))
}

// have1 is Have; others tells whether peers other than one already
// settled may still have chunk i requested.
func (p *Picker) have1(i uint64, others bool) {
	if i >= p.lim {
		return
	}
	if added, _ := p.have.Add(i); !added {
		return
	}
	if p.busy.Has(i) {
		// Requested from someone: forget every request for it.
		p.dup.Remove(i)
		if others {
			for _, pe := range p.order {
				pe.req.Remove(i)
			}
		}
	} else {
		_, _ = p.busy.Add(i)
		if i < p.end() {
			if c := p.avail[i]; c > 0 {
				p.open--
				if p.inWindow(i) {
					p.win.remove(level(c), i)
				}
			}
		}
	}
	if i == p.first {
		p.first = p.nextMissing(i)
	}
	if i == p.lo {
		p.slide()
	}
}

// HaveRange records every chunk of r as verified (for example when resuming
// from storage).
func (p *Picker) HaveRange(r bin.Range) {
	if r.End >= p.lim {
		r.End = p.lim - 1
	}
	if r.End < r.Start {
		return
	}
	for i := r.Start; i <= r.End; i++ {
		p.Have(i)
	}
}

// Has reports whether chunk i is verified.
func (p *Picker) Has(i uint64) bool { return p.have.Has(i) }

// Received records that chunk i arrived from peer id (a DATA message). The
// request is settled; if the chunk then fails verification it is pickable
// again without further calls, and if it passes the engine calls Have.
func (p *Picker) Received(id PeerID, i uint64) {
	if pe := p.peers[id]; pe != nil {
		p.drop(pe, i)
	}
}

// Release forgets the requests of r made to peer id that were not delivered
// (timeout, CANCEL, CHOKE): those chunks become pickable again. Chunks of r
// not requested from id are ignored.
func (p *Picker) Release(id PeerID, r bin.Range) {
	pe := p.peers[id]
	if pe == nil || r.End < r.Start {
		return
	}
	for i, ok := pe.req.NextPresent(r.Start); ok && i <= r.End; i, ok = pe.req.NextPresent(i + 1) {
		p.drop(pe, i)
	}
}

// Outstanding returns the number of chunks currently requested from peer id.
func (p *Picker) Outstanding(id PeerID) int {
	if pe := p.peers[id]; pe != nil {
		return int(pe.req.Count())
	}
	return 0
}

// Requested reports whether chunk i is currently requested from peer id.
func (p *Picker) Requested(id PeerID, i uint64) bool {
	pe := p.peers[id]
	return pe != nil && pe.req.Has(i)
}

// Duplicates calls fn for every peer other than except from which chunk i
// is currently requested, so that the engine can send them a CANCEL once it
// arrived (RFC 7574 §3.8). Call it before Have, which forgets the requests.
// Outside endgame it costs O(1) when the chunk came from its only requester.
func (p *Picker) Duplicates(i uint64, except PeerID, fn func(PeerID)) {
	if !p.busy.Has(i) || p.have.Has(i) {
		return
	}
	want := 1
	if p.dup.Has(i) {
		want = 2
	}
	if ex := p.peers[except]; ex != nil && ex.req.Has(i) {
		want--
	}
	// At most two requesters: collect them first so that fn may call back
	// into the picker.
	var ids [2]PeerID
	n := 0
	for _, pe := range p.order {
		if n == want {
			break
		}
		if pe.id != except && pe.req.Has(i) {
			ids[n] = pe.id
			n++
		}
	}
	for _, id := range ids[:n] {
		fn(id)
	}
}
