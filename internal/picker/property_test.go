package picker

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/nextshare/nextshare/internal/bin"
)

// model is a naive reference of what the Picker must know: who has what,
// what is verified, what is requested from whom.
type model struct {
	cfg  Config
	n    uint64 // 0 while unknown
	lim  uint64
	end  uint64
	have map[uint64]bool
	has  map[PeerID]map[uint64]bool
	req  map[PeerID]map[uint64]bool
}

func newModel(n uint64, cfg Config) *model {
	cfg = cfg.withDefaults()
	m := &model{cfg: cfg, n: n, lim: cfg.MaxUnknown, have: map[uint64]bool{},
		has: map[PeerID]map[uint64]bool{}, req: map[PeerID]map[uint64]bool{}}
	if n > 0 {
		m.lim, m.end = n, n
	}
	return m
}

func (m *model) requesters(i uint64) []PeerID {
	var out []PeerID
	for id, r := range m.req {
		if r[i] {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func (m *model) held(i uint64) bool {
	for _, h := range m.has {
		if h[i] {
			return true
		}
	}
	return false
}

// endgame mirrors Picker.endgame: every missing chunk some peer has is
// requested, and the size is known.
func (m *model) endgame() bool {
	if !m.cfg.Endgame || m.n == 0 || uint64(len(m.have)) == m.n {
		return false
	}
	for i := uint64(0); i < m.end; i++ {
		if !m.have[i] && m.held(i) && len(m.requesters(i)) == 0 {
			return false
		}
	}
	return true
}

// checkNext validates the chunks Next returned for peer id against the model
// state before the call, and records them as requested.
func (m *model) checkNext(id PeerID, max int, rs []bin.Range) error {
	got := flat(rs)
	for _, r := range rs {
		if r.Len() == 0 || r.Len() > m.cfg.MaxRun {
			return fmt.Errorf("range %v: length not in 1..%d", r, m.cfg.MaxRun)
		}
	}
	if len(got) > max {
		return fmt.Errorf("%d chunks for max %d", len(got), max)
	}
	h := m.has[id]
	if h == nil {
		if len(got) > 0 {
			return fmt.Errorf("chunks %v for an unknown peer", got)
		}
		return nil
	}
	seen := map[uint64]bool{}
	for _, c := range got {
		if seen[c] {
			return fmt.Errorf("chunk %d returned twice", c)
		}
		seen[c] = true
	}
	var free []uint64 // pickable outside endgame
	for i := uint64(0); i < m.end; i++ {
		if !m.have[i] && h[i] && len(m.requesters(i)) == 0 {
			free = append(free, i)
		}
	}
	if len(free) >= max {
		if len(got) != max {
			return fmt.Errorf("%d chunks returned, %d pickable, max %d", len(got), len(free), max)
		}
		for _, c := range got {
			if _, ok := slices.BinarySearch(free, c); !ok {
				return fmt.Errorf("chunk %d returned but not pickable (have %v, peer has %v, requested by %v)",
					c, m.have[c], h[c], m.requesters(c))
			}
		}
		for _, c := range got {
			m.req[id][c] = true
		}
		return nil
	}
	// Every free chunk must be taken; the rest are endgame duplicates.
	for _, c := range free {
		if !seen[c] {
			return fmt.Errorf("pickable chunk %d not returned (got %v)", c, got)
		}
		m.req[id][c] = true
	}
	var dupOK []uint64
	if m.endgame() {
		for i := uint64(0); i < m.end; i++ {
			if r := m.requesters(i); !m.have[i] && h[i] && len(r) == 1 && r[0] != id {
				dupOK = append(dupOK, i)
			}
		}
	}
	want := len(free) + min(max-len(free), len(dupOK))
	if len(got) != want {
		return fmt.Errorf("%d chunks returned, want %d (%d pickable, %d endgame candidates, max %d)",
			len(got), want, len(free), len(dupOK), max)
	}
	for _, c := range got {
		if _, ok := slices.BinarySearch(free, c); ok {
			continue
		}
		if _, ok := slices.BinarySearch(dupOK, c); !ok {
			return fmt.Errorf("chunk %d returned twice to requesters %v outside endgame", c, m.requesters(c))
		}
		m.req[id][c] = true
	}
	return nil
}

func (m *model) setNumChunks(n uint64) {
	if n == 0 || n == m.n {
		return
	}
	m.n, m.lim, m.end = n, n, n
	for i := range m.have {
		if i >= n {
			delete(m.have, i)
		}
	}
	for _, s := range m.has {
		for i := range s {
			if i >= n {
				delete(s, i)
			}
		}
	}
	for _, s := range m.req {
		for i := range s {
			if i >= n {
				delete(s, i)
			}
		}
	}
}

func (m *model) randRange(rng *rand.Rand) bin.Range {
	span := max(m.end, 64) + 16
	s := rng.Uint64N(span)
	l := uint64(1 + rng.IntN(12))
	if rng.IntN(10) == 0 {
		l = 1 + rng.Uint64N(span)
	}
	return bin.Range{Start: s, End: s + l - 1}
}

func TestRandomized(t *testing.T) {
	for seed := range uint64(64) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runRandomized(t, seed) })
	}
}

func runRandomized(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x9e37))
	sizes := []uint64{0, 1, 63, 64, 65, 200, 333}
	n := sizes[rng.IntN(len(sizes))]
	cfg := Config{
		Window:     []uint64{1, 7, 64, 100, 4096}[rng.IntN(5)],
		MaxRun:     []uint64{1, 3, 64}[rng.IntN(3)],
		Endgame:    rng.IntN(4) != 0,
		Seed:       seed,
		MaxUnknown: 400,
	}
	p := New(n, cfg)
	m := newModel(n, cfg)
	peerID := func() PeerID { return PeerID(rng.IntN(6)) }
	var ops []string
	fail := func(err error) {
		t.Helper()
		t.Fatalf("seed %d, n %d, cfg %+v, after %d ops (last: %v): %v", seed, n, cfg, len(ops), ops[max(0, len(ops)-5):], err)
	}
	for step := 0; step < 600; step++ {
		switch op := rng.IntN(100); {
		case op < 8:
			id := peerID()
			ops = append(ops, fmt.Sprint("AddPeer ", id))
			p.AddPeer(id)
			if m.has[id] == nil {
				m.has[id], m.req[id] = map[uint64]bool{}, map[uint64]bool{}
			}
		case op < 11:
			id := peerID()
			ops = append(ops, fmt.Sprint("RemovePeer ", id))
			p.RemovePeer(id)
			delete(m.has, id)
			delete(m.req, id)
		case op < 30:
			id, r := peerID(), m.randRange(rng)
			ops = append(ops, fmt.Sprint("PeerHave ", id, r))
			p.PeerHave(id, r)
			if h := m.has[id]; h != nil && r.Start < m.lim {
				for i := r.Start; i <= min(r.End, m.lim-1); i++ {
					h[i] = true
				}
				m.end = max(m.end, min(r.End, m.lim-1)+1)
			}
		case op < 60:
			id, mx := peerID(), 1+rng.IntN(40)
			ops = append(ops, fmt.Sprint("Next ", id, " ", mx))
			rs := p.Next(nil, id, mx)
			if err := m.checkNext(id, mx, rs); err != nil {
				fail(err)
			}
		case op < 68:
			id, r := peerID(), m.randRange(rng)
			ops = append(ops, fmt.Sprint("Release ", id, r))
			p.Release(id, r)
			for i := range m.req[id] {
				if r.Contains(i) {
					delete(m.req[id], i)
				}
			}
		case op < 84:
			// Deliver one outstanding chunk; most pass verification.
			id := peerID()
			var out []uint64
			for i := range m.req[id] {
				out = append(out, i)
			}
			if len(out) == 0 {
				break
			}
			slices.Sort(out)
			c := out[rng.IntN(len(out))]
			ops = append(ops, fmt.Sprint("Received ", id, " ", c))
			p.Received(id, c)
			delete(m.req[id], c)
			var dups []PeerID
			p.Duplicates(c, id, func(d PeerID) { dups = append(dups, d) })
			slices.Sort(dups)
			if want := m.requesters(c); !slices.Equal(dups, want) {
				fail(fmt.Errorf("Duplicates(%d, %d) = %v, want %v", c, id, dups, want))
			}
			if rng.IntN(5) != 0 {
				p.Have(c)
				m.have[c] = true
				for _, r := range m.req {
					delete(r, c)
				}
			}
		case op < 90:
			c := rng.Uint64N(max(m.end, 64) + 8)
			ops = append(ops, fmt.Sprint("Have ", c))
			p.Have(c)
			if c < m.lim {
				m.have[c] = true
				for _, r := range m.req {
					delete(r, c)
				}
			}
		case op < 94:
			pos := rng.Uint64N(max(m.end, 1) + 8)
			if rng.IntN(2) == 0 {
				pos = p.Position() + rng.Uint64N(20) // following playback
			}
			ops = append(ops, fmt.Sprint("SetPosition ", pos))
			p.SetPosition(pos)
		case op < 96:
			if m.n == 0 || rng.IntN(4) == 0 {
				nn := 1 + rng.Uint64N(350)
				ops = append(ops, fmt.Sprint("SetNumChunks ", nn))
				p.SetNumChunks(nn)
				m.setNumChunks(nn)
			}
		default:
			c := rng.Uint64N(max(m.end, 1))
			ops = append(ops, fmt.Sprint("Duplicates ", c))
			var dups []PeerID
			p.Duplicates(c, 99, func(d PeerID) { dups = append(dups, d) })
			slices.Sort(dups)
			if want := m.requesters(c); !m.have[c] && !slices.Equal(dups, want) {
				fail(fmt.Errorf("Duplicates(%d) = %v, want %v", c, dups, want))
			}
		}
		if err := p.check(); err != nil {
			fail(err)
		}
		for id, r := range m.req {
			if o := p.Outstanding(id); o != len(r) {
				fail(fmt.Errorf("Outstanding(%d) = %d, want %d", id, o, len(r)))
			}
		}
	}

	// Liveness: with a seeder and timed-out requests released, every
	// missing chunk is picked and the download completes.
	if m.n == 0 {
		p.SetNumChunks(max(m.end, 1))
		m.setNumChunks(max(m.end, 1))
	}
	for id := range m.req {
		p.Release(id, bin.Range{Start: 0, End: 1<<64 - 1})
	}
	addPeer(p, 100, bin.Range{Start: 0, End: m.n - 1})
	ids := []PeerID{100}
	for id := range m.has {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for round := 0; !p.Complete(); round++ {
		if round > int(m.n)+10 {
			t.Fatalf("seed %d: not complete after %d rounds, %d missing", seed, round, p.Missing())
		}
		picked := 0
		for _, id := range ids {
			rs := p.Next(nil, id, 1+rng.IntN(50))
			picked += len(rs)
			deliver(p, id, rs)
		}
		if picked == 0 {
			t.Fatalf("seed %d: nothing picked with %d chunks missing", seed, p.Missing())
		}
		if err := p.check(); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
}
