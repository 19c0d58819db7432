package picker

import "github.com/nextshare/nextshare/internal/bin"

// PeerID names a peer within one Picker. The engine chooses the values.
type PeerID uint32

// Picker decides which chunks to request from which peer. It is not safe
// for concurrent use: the engine's goroutine owns it.
//
// Invariants, besides those of rarity:
//   - busy = have ∪ {chunks requested from some peer}; requested chunks are
//     exactly the union of the peers' req sets minus have.
//   - dup holds the chunks requested from two peers; no chunk is requested
//     from more than two.
//   - avail[i] is the number of peers whose has set holds i (it saturates
//     at 65535 peers, far beyond what an engine keeps).
//   - open counts the chunks below end that are not busy and that some peer
//     has: the chunks Next could hand out outside endgame.
//   - every chunk below first is in have; lo is the first chunk at or after
//     max(pos, first) not in have (or end, or that point if beyond end),
//     and hi = max(lo, min(lo+Window, end)).
type Picker struct {
	cfg Config
	rng uint64 // SplitMix64 state for tie-breaking, seeded with cfg.Seed

	n     uint64   // number of chunks; 0 while unknown
	lim   uint64   // chunk indices accepted: n, or cfg.MaxUnknown while n is unknown
	avail []uint16 // peers that have each chunk; len(avail) is the end of the pickable chunks

	have *bin.Set // verified chunks
	busy *bin.Set // verified or requested chunks
	dup  *bin.Set // chunks requested from two peers
	open uint64

	peers map[PeerID]*peer
	order []*peer // the peers in a fixed order, for deterministic iteration

	pos    uint64      // playback position (SetPosition)
	urgent []bin.Range // chunks readers need first, most pressing first (SetUrgent)
	first  uint64      // first chunk not in have
	lo, hi uint64      // the window, indexed by win
	win    rarity

	// epoch changes whenever a chunk may have become pickable again, so that
	// a peer found to have nothing to offer is searched again.
	epoch uint64
}

// New returns a Picker for a content of numChunks chunks; 0 means the number
// is not known yet (see SetNumChunks).
func New(numChunks uint64, cfg Config) *Picker {
	cfg = cfg.withDefaults()
	p := &Picker{
		cfg:   cfg,
		rng:   cfg.Seed,
		peers: make(map[PeerID]*peer),
		win:   newRarity(cfg.Window),
	}
	if numChunks > bin.MaxChunks {
		numChunks = bin.MaxChunks
	}
	p.n = numChunks
	p.lim = cfg.MaxUnknown
	if numChunks > 0 {
		p.lim = numChunks
		p.avail = make([]uint16, numChunks)
	}
	p.have = bin.NewSet(p.n, p.lim)
	p.busy = bin.NewSet(p.n, p.lim)
	p.dup = bin.NewSet(0, p.lim)
	p.rebuild()
	return p
}

// random returns the next value of the picker's SplitMix64 generator. Nearby
// seeds give unrelated sequences.
func (p *Picker) random() uint64 {
	p.rng += 0x9e3779b97f4a7c15
	x := p.rng
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// Epoch changes whenever a chunk may have become pickable again (a request
// released, a failed chunk, new urgent ranges, a new layout): a caller that
// found nothing to request from a peer need not ask again until the epoch
// changes or the peer announces chunks.
func (p *Picker) Epoch() uint64 { return p.epoch }

// NumChunks returns the number of chunks, 0 while unknown.
func (p *Picker) NumChunks() uint64 { return p.n }

// SetNumChunks sets the number of chunks once it is known (RFC 7574 §5.6.2:
// from the peak hashes). Availability, requests and verified chunks at or
// beyond n are forgotten. n = 0 is ignored.
func (p *Picker) SetNumChunks(n uint64) {
	if n == 0 || n == p.n {
		return
	}
	if n > bin.MaxChunks {
		n = bin.MaxChunks
	}
	p.n, p.lim = n, n
	p.have, p.busy, p.dup = clip(p.have, n), clip(p.busy, n), clip(p.dup, n)
	for _, pe := range p.order {
		pe.has, pe.req = clip(pe.has, n), clip(pe.req, n)
	}
	old := uint64(len(p.avail))
	if n < old {
		p.avail = p.avail[:n]
	} else {
		p.grow(n)
	}
	// Counting afresh is O(n), which is fine for a call made once.
	p.open = 0
	for i, c := range p.avail {
		if c > 0 && !p.busy.Has(uint64(i)) {
			p.open++
		}
	}
	p.rebuild()
}

// clip returns s with its limit set to n. Lowering a bin.Set's limit keeps
// the dropped words' backing memory, and raising it again can bring stale
// chunks back, so a set that shrinks is copied instead.
func clip(s *bin.Set, n uint64) *bin.Set {
	if n >= s.Limit() {
		s.SetLimit(n)
		return s
	}
	c := bin.NewSet(0, n)
	s.Ranges(func(r bin.Range) bool {
		if r.Start >= n {
			return false
		}
		_, _ = c.AddRange(bin.Range{Start: r.Start, End: min(r.End, n-1)})
		return true
	})
	return c
}

// grow extends avail (and so the pickable chunks) to end while the number of
// chunks is unknown. New chunks have no peers yet, so open is unchanged.
func (p *Picker) grow(end uint64) {
	old := uint64(len(p.avail))
	if end <= old {
		return
	}
	if end <= uint64(cap(p.avail)) {
		p.avail = p.avail[:end]
	} else {
		c := 2 * uint64(cap(p.avail))
		if c < end {
			c = end
		}
		if c > p.lim {
			c = p.lim
		}
		a := make([]uint16, end, c)
		copy(a, p.avail)
		p.avail = a
	}
	clear(p.avail[old:end])
}

// end returns the exclusive end of the chunks that may be picked.
func (p *Picker) end() uint64 { return uint64(len(p.avail)) }

// Complete reports whether every chunk is verified. It is false while the
// number of chunks is unknown.
func (p *Picker) Complete() bool { return p.n > 0 && p.have.Count() == p.n }

// Missing returns the number of chunks not yet verified (0 while unknown).
func (p *Picker) Missing() uint64 {
	if p.n == 0 {
		return 0
	}
	return p.n - p.have.Count()
}
