package picker

import "github.com/nextshare/nextshare/internal/bin"

// peer is what the picker knows about one remote peer.
type peer struct {
	id  PeerID
	idx int      // position in Picker.order
	has *bin.Set // chunks the peer announced in HAVE messages
	req *bin.Set // chunks requested from the peer and not yet delivered

	// Scan cursors for the chunks outside the window: no chunk in
	// [hi, tail) and none in [first, head) is both pickable and held by
	// this peer. Lowered whenever that may stop being true.
	tail, head uint64

	lead uint64 // keeps off this many chunks from each urgent range's start (SetLead)

	// dry records that Next found nothing for this peer at epoch dryEpoch
	// with endgame in state dryEndgame; cleared by the peer's next HAVE.
	dry        bool
	dryEndgame bool
	dryEpoch   uint64
}

// AddPeer starts tracking a peer. Adding a known peer does nothing.
func (p *Picker) AddPeer(id PeerID) {
	if _, ok := p.peers[id]; ok {
		return
	}
	pe := &peer{
		id:  id,
		idx: len(p.order),
		has: bin.NewSet(0, p.lim),
		req: bin.NewSet(0, p.lim),
	}
	p.peers[id] = pe
	p.order = append(p.order, pe)
}

// NumPeers returns the number of peers tracked.
func (p *Picker) NumPeers() int { return len(p.order) }

// PeerHave records that peer id has the chunks of r (a HAVE message,
// RFC 7574 §3.2). Chunks it already announced are not counted again, and
// chunks at or beyond the number of chunks (or MaxUnknown while that is
// unknown) are ignored, since the range comes from the network. Unknown
// peers are ignored.
func (p *Picker) PeerHave(id PeerID, r bin.Range) {
	pe := p.peers[id]
	if pe == nil || r.End < r.Start || r.Start >= p.lim {
		return
	}
	if r.End >= p.lim {
		r.End = p.lim - 1
	}
	grown := false
	if r.End >= p.end() {
		p.grow(r.End + 1)
		grown = true
	}
	first, found := uint64(0), false
	for i := r.Start; i <= r.End; {
		j, ok := pe.has.NextMissing(i)
		if !ok || j > r.End {
			break
		}
		if !found {
			first, found = j, true
		}
		_, _ = pe.has.Add(j) // j < lim, the set's limit
		p.incAvail(j)
		i = j + 1
	}
	if found {
		pe.dry = false
		pe.tail = min(pe.tail, first)
		pe.head = min(pe.head, first)
	}
	if grown {
		p.slide()
	}
}

// PeerHas reports whether peer id announced chunk i.
func (p *Picker) PeerHas(id PeerID, i uint64) bool {
	pe := p.peers[id]
	return pe != nil && pe.has.Has(i)
}

// RemovePeer forgets a peer: its availability and its outstanding requests,
// which become pickable again. Its cost is proportional to the chunks the
// peer had.
func (p *Picker) RemovePeer(id PeerID) {
	pe := p.peers[id]
	if pe == nil {
		return
	}
	for i, ok := pe.req.NextPresent(0); ok; i, ok = pe.req.NextPresent(i + 1) {
		p.drop(pe, i)
	}
	e := p.end()
	for i, ok := pe.has.NextPresent(0); ok && i < e; i, ok = pe.has.NextPresent(i + 1) {
		p.decAvail(i)
	}
	delete(p.peers, id)
	last := p.order[len(p.order)-1]
	p.order[pe.idx] = last
	last.idx = pe.idx
	p.order[len(p.order)-1] = nil
	p.order = p.order[:len(p.order)-1]
}
