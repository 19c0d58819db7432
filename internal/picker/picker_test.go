package picker

import (
	"slices"
	"testing"

	"github.com/nextshare/nextshare/internal/bin"
)

func mustCheck(t *testing.T, p *Picker) {
	t.Helper()
	if err := p.check(); err != nil {
		t.Fatal(err)
	}
}

// flat lists the chunks of rs in order.
func flat(rs []bin.Range) []uint64 {
	var out []uint64
	for _, r := range rs {
		for i := r.Start; i <= r.End; i++ {
			out = append(out, i)
		}
	}
	return out
}

func seq(a, b uint64) []uint64 {
	var out []uint64
	for i := a; i <= b; i++ {
		out = append(out, i)
	}
	return out
}

func addPeer(p *Picker, id PeerID, rs ...bin.Range) {
	p.AddPeer(id)
	for _, r := range rs {
		p.PeerHave(id, r)
	}
}

// deliver settles every chunk of rs as received from id and verified.
func deliver(p *Picker, id PeerID, rs []bin.Range) {
	for _, c := range flat(rs) {
		p.Received(id, c)
		p.Have(c)
	}
}

func TestInOrderWithOneSeeder(t *testing.T) {
	const n = 1000
	p := New(n, Config{})
	addPeer(p, 1, bin.Range{Start: 0, End: n - 1})
	var got []bin.Range
	got = p.Next(got, 1, 100)
	want := []bin.Range{{Start: 0, End: 63}, {Start: 64, End: 99}}
	if !slices.Equal(got, want) {
		t.Fatalf("Next = %v, want %v", got, want)
	}
	if o := p.Outstanding(1); o != 100 {
		t.Fatalf("Outstanding = %d, want 100", o)
	}
	mustCheck(t, p)
	var order []uint64
	order = append(order, flat(got)...)
	deliver(p, 1, got)
	for !p.Complete() {
		rs := p.Next(nil, 1, 64)
		if len(rs) == 0 {
			t.Fatalf("Next returned nothing with %d chunks missing", p.Missing())
		}
		order = append(order, flat(rs)...)
		deliver(p, 1, rs)
		mustCheck(t, p)
	}
	if !slices.Equal(order, seq(0, n-1)) {
		t.Fatalf("chunks not requested in order: %v...", order[:min(len(order), 20)])
	}
	if rs := p.Next(nil, 1, 64); len(rs) != 0 {
		t.Fatalf("Next after completion = %v", rs)
	}
}

func TestRarestFirst(t *testing.T) {
	p := New(200, Config{Window: 256, MaxRun: 64, Endgame: true, Seed: 7})
	addPeer(p, 1, bin.Range{Start: 0, End: 199}) // everything
	addPeer(p, 2, bin.Range{Start: 0, End: 99})
	addPeer(p, 3, bin.Range{Start: 0, End: 49})
	p.AddPeer(4) // has nothing yet: every chunk is rare
	// Availability: 0..49 → 3 peers, 50..99 → 2, 100..199 → 1.
	mustCheck(t, p)
	steps := []struct {
		max    int
		lo, hi uint64
	}{{100, 100, 199}, {50, 50, 99}, {50, 0, 49}}
	for _, s := range steps {
		got := flat(p.Next(nil, 1, s.max))
		if len(got) != s.max {
			t.Fatalf("Next(%d) returned %d chunks", s.max, len(got))
		}
		for _, c := range got {
			if c < s.lo || c > s.hi {
				t.Fatalf("picked chunk %d, want only chunks %d..%d (the rarest left): %v", c, s.lo, s.hi, got)
			}
		}
		mustCheck(t, p)
	}
}

func TestRarestAmongPeers(t *testing.T) {
	// Peer 2 has a chunk only it has; peer 1's chunks are all common. Asked
	// for one chunk, peer 2 must be asked for the rare one.
	p := New(64, Config{Seed: 3, Endgame: true})
	addPeer(p, 1, bin.Range{Start: 0, End: 63})
	addPeer(p, 2, bin.Range{Start: 0, End: 63})
	addPeer(p, 3, bin.Range{Start: 0, End: 40}, bin.Range{Start: 42, End: 63})
	got := flat(p.Next(nil, 1, 1))
	if !slices.Equal(got, []uint64{41}) {
		t.Fatalf("Next = %v, want the rarest chunk 41", got)
	}
}

func TestRotationSpreadsLeechers(t *testing.T) {
	// Two leechers that see the same seeder and one other (empty) peer:
	// different seeds start at different places, equal seeds agree.
	first := func(seed uint64) uint64 {
		p := New(4096, Config{Seed: seed, Endgame: true})
		addPeer(p, 1, bin.Range{Start: 0, End: 4095})
		p.AddPeer(2)
		return p.Next(nil, 1, 64)[0].Start
	}
	if first(1) == first(2) {
		t.Fatalf("seeds 1 and 2 both start at %d", first(1))
	}
	if a, b := first(5), first(5); a != b {
		t.Fatalf("same seed, different starts %d and %d", a, b)
	}
	starts := map[uint64]bool{}
	for s := uint64(0); s < 20; s++ {
		starts[first(s)] = true
	}
	if len(starts) < 18 {
		t.Fatalf("20 seeds gave only %d distinct start chunks", len(starts))
	}
}

func TestNeverPicksLackedOrHad(t *testing.T) {
	const n = 300
	p := New(n, Config{Window: 100, MaxRun: 8, Endgame: true})
	p.AddPeer(1)
	for i := uint64(0); i < n; i += 2 {
		p.PeerHave(1, bin.Range{Start: i, End: i}) // even chunks only
	}
	for i := uint64(0); i < n; i += 3 {
		p.Have(i)
	}
	mustCheck(t, p)
	var all []uint64
	for {
		rs := p.Next(nil, 1, 7)
		if len(rs) == 0 {
			break
		}
		for _, r := range rs {
			if r.Len() > 8 {
				t.Fatalf("range %v longer than MaxRun", r)
			}
		}
		all = append(all, flat(rs)...)
		mustCheck(t, p)
	}
	for _, c := range all {
		if c%2 != 0 || c%3 == 0 {
			t.Fatalf("picked chunk %d: peer lacks it or we have it", c)
		}
	}
	// Every even chunk not a multiple of 3 exactly once.
	slices.Sort(all)
	var want []uint64
	for i := uint64(0); i < n; i++ {
		if i%2 == 0 && i%3 != 0 {
			want = append(want, i)
		}
	}
	if !slices.Equal(all, want) {
		t.Fatalf("picked %d chunks, want %d", len(all), len(want))
	}
}

func TestReleaseMakesPickable(t *testing.T) {
	p := New(1000, Config{})
	addPeer(p, 1, bin.Range{Start: 0, End: 999})
	a := p.Next(nil, 1, 64)
	b := p.Next(nil, 1, 64)
	if a[0] != (bin.Range{Start: 0, End: 63}) || b[0] != (bin.Range{Start: 64, End: 127}) {
		t.Fatalf("Next = %v then %v", a, b)
	}
	p.Release(1, bin.Range{Start: 10, End: 19})
	if o := p.Outstanding(1); o != 118 {
		t.Fatalf("Outstanding after release = %d, want 118", o)
	}
	mustCheck(t, p)
	if got := p.Next(nil, 1, 64); got[0] != (bin.Range{Start: 10, End: 19}) {
		t.Fatalf("after Release, Next = %v, want [10..19] first", got)
	}
	// Releasing chunks that were not requested, or from another peer, does
	// nothing.
	p.Release(1, bin.Range{Start: 900, End: 999})
	p.Release(2, bin.Range{Start: 0, End: 999})
	p.Release(1, bin.Range{Start: 5, End: 4})
	mustCheck(t, p)

	// Received without Have (failed verification) makes it pickable too.
	p.Received(1, 0)
	if got := p.Next(nil, 1, 1); !slices.Equal(flat(got), []uint64{0}) {
		t.Fatalf("after a failed chunk, Next = %v, want [0]", got)
	}
	mustCheck(t, p)
}

// TestGotKeepsDryPeersDry checks that a verified arrival does not make a
// peer that had nothing to offer be searched again (Next for such a peer
// is then O(1)), while a failed one does, and that Got settles a chunk
// requested twice.
func TestGotKeepsDryPeersDry(t *testing.T) {
	p := New(64, Config{})
	addPeer(p, 1, bin.Range{Start: 0, End: 3})
	addPeer(p, 2, bin.Range{Start: 0, End: 3})
	addPeer(p, 3, bin.Range{Start: 10, End: 10}) // keeps the picker out of endgame
	if got := flat(p.Next(nil, 1, 4)); !slices.Equal(got, seq(0, 3)) {
		t.Fatalf("Next(1) = %v", got)
	}
	if got := p.Next(nil, 2, 4); len(got) != 0 {
		t.Fatalf("Next(2) = %v, want nothing", got)
	}
	epoch := p.epoch
	p.Got(1, 0)
	mustCheck(t, p)
	if p.epoch != epoch || !p.peers[2].dry {
		t.Fatal("a verified arrival woke a dry peer")
	}
	p.Received(1, 1) // failed verification: pickable again
	mustCheck(t, p)
	if got := flat(p.Next(nil, 2, 4)); !slices.Equal(got, []uint64{1}) {
		t.Fatalf("after a failed chunk, Next(2) = %v, want [1]", got)
	}
	// Chunk 1 is now requested from 2; in endgame 1 asks for it again.
	p.Got(1, 2)
	p.Got(1, 3)
	if got := flat(p.Next(nil, 3, 4)); !slices.Equal(got, []uint64{10}) {
		t.Fatalf("Next(3) = %v, want [10]", got)
	}
	if !p.Endgame() {
		t.Fatal("not in endgame")
	}
	if got := flat(p.Next(nil, 1, 4)); !slices.Equal(got, []uint64{1}) {
		t.Fatalf("endgame Next(1) = %v, want [1]", got)
	}
	p.Got(2, 1)
	mustCheck(t, p)
	if p.Outstanding(1) != 0 || p.Outstanding(2) != 0 || p.Missing() != 64-4 {
		t.Fatalf("outstanding %d and %d after Got", p.Outstanding(1), p.Outstanding(2))
	}
}

func TestReleaseOutsideWindow(t *testing.T) {
	// The window is full of requests, so chunks after it get picked; a
	// release there must be found again although the peer's cursor moved on.
	p := New(400, Config{Window: 64, MaxRun: 64, Endgame: true})
	addPeer(p, 1, bin.Range{Start: 0, End: 399})
	addPeer(p, 2, bin.Range{Start: 0, End: 399})
	got := flat(p.Next(nil, 1, 200))
	if !slices.Equal(got, seq(0, 199)) {
		t.Fatalf("Next = %v", got)
	}
	p.Release(1, bin.Range{Start: 150, End: 150})
	mustCheck(t, p)
	if got := flat(p.Next(nil, 2, 1)); !slices.Equal(got, []uint64{150}) {
		t.Fatalf("Next = %v, want the released 150", got)
	}
}

func TestRemovePeerFreesRequests(t *testing.T) {
	p := New(500, Config{})
	addPeer(p, 1, bin.Range{Start: 0, End: 499})
	addPeer(p, 2, bin.Range{Start: 0, End: 499})
	got := p.Next(nil, 1, 64)
	if got[0] != (bin.Range{Start: 0, End: 63}) {
		t.Fatalf("Next = %v", got)
	}
	p.RemovePeer(1)
	mustCheck(t, p)
	if p.Outstanding(1) != 0 || p.PeerHas(1, 0) || p.NumPeers() != 1 {
		t.Fatal("removed peer still known")
	}
	if got := p.Next(nil, 2, 64); got[0] != (bin.Range{Start: 0, End: 63}) {
		t.Fatalf("after RemovePeer, Next = %v, want [0..63]", got)
	}
	if got := p.Next(nil, 1, 64); len(got) != 0 {
		t.Fatalf("Next for a removed peer = %v", got)
	}
	p.RemovePeer(1) // twice: nothing happens
	mustCheck(t, p)
}

func TestEndgame(t *testing.T) {
	p := New(10, Config{})
	addPeer(p, 1, bin.Range{Start: 0, End: 9})
	addPeer(p, 2, bin.Range{Start: 0, End: 9})
	addPeer(p, 3, bin.Range{Start: 0, End: 9})
	if got := p.Next(nil, 1, 6); !slices.Equal(flat(got), seq(0, 5)) {
		t.Fatalf("Next = %v", got)
	}
	if p.Endgame() {
		t.Fatal("endgame with chunks never requested")
	}
	// Peer 2 gets the last 4 chunks normally, then duplicates of peer 1's.
	got := flat(p.Next(nil, 2, 6))
	if !slices.Equal(got, []uint64{6, 7, 8, 9, 0, 1}) {
		t.Fatalf("Next = %v, want 6..9 then duplicates 0, 1", got)
	}
	if !p.Endgame() {
		t.Fatal("not in endgame with every chunk requested")
	}
	mustCheck(t, p)
	// Peer 1 gets duplicates of peer 2's chunks but never its own.
	if got := flat(p.Next(nil, 1, 100)); !slices.Equal(got, seq(6, 9)) {
		t.Fatalf("Next = %v, want 6..9", got)
	}
	// Peer 3 may only take chunks requested once: 2..5.
	if got := flat(p.Next(nil, 3, 100)); !slices.Equal(got, seq(2, 5)) {
		t.Fatalf("Next = %v, want 2..5", got)
	}
	mustCheck(t, p)
	var dups []PeerID
	p.Duplicates(0, 1, func(id PeerID) { dups = append(dups, id) })
	if !slices.Equal(dups, []PeerID{2}) {
		t.Fatalf("Duplicates(0, except 1) = %v, want [2]", dups)
	}
	// The usual order: Received, Duplicates, Have.
	p.Received(1, 0)
	dups = dups[:0]
	p.Duplicates(0, 1, func(id PeerID) { dups = append(dups, id) })
	if !slices.Equal(dups, []PeerID{2}) {
		t.Fatalf("after Received, Duplicates = %v, want [2]", dups)
	}
	before := p.Outstanding(2)
	p.Have(0)
	if p.Outstanding(2) != before-1 {
		t.Fatalf("Have did not forget peer 2's request")
	}
	dups = dups[:0]
	p.Duplicates(0, 1, func(id PeerID) { dups = append(dups, id) })
	if len(dups) != 0 {
		t.Fatalf("Duplicates after Have = %v", dups)
	}
	mustCheck(t, p)
	// Releasing one of two requests makes the chunk available to a third.
	p.Release(2, bin.Range{Start: 1, End: 1})
	if got := flat(p.Next(nil, 3, 100)); !slices.Equal(got, []uint64{1}) {
		t.Fatalf("Next = %v, want [1]", got)
	}
	mustCheck(t, p)
}

func TestEndgameDisabled(t *testing.T) {
	p := New(10, Config{Window: 16})
	addPeer(p, 1, bin.Range{Start: 0, End: 9})
	addPeer(p, 2, bin.Range{Start: 0, End: 9})
	p.Next(nil, 1, 100)
	if got := p.Next(nil, 2, 100); len(got) != 0 || p.Endgame() {
		t.Fatalf("endgame disabled, yet Next = %v", got)
	}
}

func TestDuplicatesOutsideEndgame(t *testing.T) {
	p := New(100, Config{})
	addPeer(p, 1, bin.Range{Start: 0, End: 99})
	p.Next(nil, 1, 10)
	called := false
	p.Duplicates(3, 1, func(PeerID) { called = true })
	p.Duplicates(50, 1, func(PeerID) { called = true })
	p.Duplicates(1<<40, 1, func(PeerID) { called = true })
	if called {
		t.Fatal("Duplicates reported a peer without duplicate requests")
	}
	var got []PeerID
	p.Duplicates(3, 9, func(id PeerID) { got = append(got, id) })
	if !slices.Equal(got, []PeerID{1}) {
		t.Fatalf("Duplicates(3, except 9) = %v, want [1]", got)
	}
}

func TestUnknownSize(t *testing.T) {
	p := New(0, Config{MaxUnknown: 1000, Window: 64, MaxRun: 64, Endgame: true})
	addPeer(p, 1, bin.Range{Start: 0, End: 99})
	if p.Complete() || p.NumChunks() != 0 {
		t.Fatal("complete with an unknown size")
	}
	if got := p.Next(nil, 1, 10); !slices.Equal(flat(got), seq(0, 9)) {
		t.Fatalf("Next = %v, want 0..9", got)
	}
	// A HAVE beyond MaxUnknown is clamped, not allocated.
	p.PeerHave(1, bin.Range{Start: 500, End: 1 << 40})
	if p.end() != 1000 || !p.PeerHas(1, 999) || p.PeerHas(1, 1000) {
		t.Fatalf("end = %d after a huge HAVE", p.end())
	}
	mustCheck(t, p)
	p.Have(3) // verified before the size is known
	p.SetNumChunks(50)
	mustCheck(t, p)
	if p.PeerHas(1, 60) || p.NumChunks() != 50 {
		t.Fatal("availability beyond the size kept")
	}
	got := flat(p.Next(nil, 1, 100))
	if !slices.Equal(got, seq(10, 49)) {
		t.Fatalf("Next = %v, want 10..49", got)
	}
	deliver(p, 1, p.Next(nil, 1, 0))
	for _, c := range seq(0, 49) {
		p.Received(1, c)
		p.Have(c)
	}
	if !p.Complete() {
		t.Fatalf("not complete, %d missing", p.Missing())
	}
	mustCheck(t, p)
}

func TestUnknownSizeNothingUntilHave(t *testing.T) {
	p := New(0, Config{})
	p.AddPeer(1)
	if got := p.Next(nil, 1, 10); len(got) != 0 {
		t.Fatalf("Next = %v with no availability", got)
	}
	p.SetNumChunks(20)
	p.PeerHave(1, bin.Range{Start: 5, End: 7})
	if got := flat(p.Next(nil, 1, 10)); !slices.Equal(got, seq(5, 7)) {
		t.Fatalf("Next = %v", got)
	}
	mustCheck(t, p)
}

func TestSetPosition(t *testing.T) {
	const n = 1000
	p := New(n, Config{Window: 100, MaxRun: 64, Endgame: true})
	addPeer(p, 1, bin.Range{Start: 0, End: n - 1})
	p.SetPosition(500)
	mustCheck(t, p)
	if got := p.Next(nil, 1, 10); !slices.Equal(flat(got), seq(500, 509)) {
		t.Fatalf("Next = %v, want 500..509", got)
	}
	var order []uint64
	for {
		rs := p.Next(nil, 1, 64)
		if len(rs) == 0 {
			break
		}
		order = append(order, flat(rs)...)
	}
	mustCheck(t, p)
	want := append(seq(510, n-1), seq(0, 499)...)
	if !slices.Equal(order, want) {
		t.Fatalf("order after SetPosition(500): %d chunks, starts %v", len(order), order[:10])
	}
	// Following playback step by step keeps the window just ahead of it.
	p1 := New(n, Config{Window: 100, MaxRun: 64, Endgame: true})
	addPeer(p1, 1, bin.Range{Start: 0, End: n - 1})
	for pos := uint64(0); pos < 300; pos += 7 {
		p1.SetPosition(pos)
		mustCheck(t, p1)
		if got := flat(p1.Next(nil, 1, 3)); got[0] < pos || got[0] > pos+10 {
			t.Fatalf("position %d: Next = %v", pos, got)
		}
	}
	// A position beyond the end leaves only the chunks before it.
	p2 := New(n, Config{})
	addPeer(p2, 1, bin.Range{Start: 0, End: n - 1})
	p2.SetPosition(5000)
	mustCheck(t, p2)
	if got := p2.Next(nil, 1, 3); !slices.Equal(flat(got), seq(0, 2)) {
		t.Fatalf("Next = %v", got)
	}
}

func TestWindowSlides(t *testing.T) {
	// With a small window and a peer that has only later chunks, Next must
	// still find them, and the window follows verified chunks.
	p := New(1000, Config{Window: 64, MaxRun: 16, Endgame: true})
	addPeer(p, 1, bin.Range{Start: 700, End: 799})
	addPeer(p, 2, bin.Range{Start: 0, End: 999})
	if got := flat(p.Next(nil, 1, 5)); !slices.Equal(got, seq(700, 704)) {
		t.Fatalf("Next = %v, want 700..704", got)
	}
	for i := uint64(0); i < 650; i++ {
		p.Have(i)
	}
	mustCheck(t, p)
	if p.lo != 650 || p.hi != 714 {
		t.Fatalf("window [%d,%d), want [650,714)", p.lo, p.hi)
	}
	// 650..699 are rarer, but peer 1 lacks them; 705..713 are in the window
	// and both peers have them, so they come in order, then the chunks after
	// the window.
	got := flat(p.Next(nil, 1, 20))
	if !slices.Equal(got, seq(705, 724)) {
		t.Fatalf("Next = %v, want 705..724", got)
	}
	mustCheck(t, p)
}

func TestHostileInput(t *testing.T) {
	p := New(100, Config{})
	p.PeerHave(9, bin.Range{Start: 0, End: 5}) // unknown peer
	p.AddPeer(1)
	p.AddPeer(1)
	p.PeerHave(1, bin.Range{Start: 7, End: 3})
	p.PeerHave(1, bin.Range{Start: 1 << 62, End: 1<<64 - 1})
	p.PeerHave(1, bin.Range{Start: 90, End: 1<<64 - 1})
	p.Release(1, bin.Range{Start: 0, End: 1<<64 - 1})
	p.Received(1, 1<<63)
	p.Received(7, 3)
	p.Have(1 << 50)
	p.HaveRange(bin.Range{Start: 98, End: 1<<64 - 1})
	p.SetPosition(1<<64 - 1)
	if got := p.Next(nil, 1, -5); len(got) != 0 {
		t.Fatalf("Next with negative max = %v", got)
	}
	mustCheck(t, p)
	if got := flat(p.Next(nil, 1, 100)); !slices.Equal(got, seq(90, 97)) {
		t.Fatalf("Next = %v, want 90..97", got)
	}
	p.SetNumChunks(200)
	mustCheck(t, p)
}

func TestNextAppendsToDst(t *testing.T) {
	p := New(100, Config{})
	addPeer(p, 1, bin.Range{Start: 0, End: 99})
	p.HaveRange(bin.Range{Start: 0, End: 7})
	// The caller's ranges are kept as they are, even one that the first
	// picked chunk would extend.
	dst := []bin.Range{{Start: 7, End: 7}}
	dst = p.Next(dst, 1, 3)
	if !slices.Equal(dst, []bin.Range{{Start: 7, End: 7}, {Start: 8, End: 10}}) {
		t.Fatalf("Next = %v", dst)
	}
}

func TestDefaultConfig(t *testing.T) {
	p := New(10, Config{})
	if p.cfg != DefaultConfig() {
		t.Fatalf("zero Config gave %+v", p.cfg)
	}
	p = New(10, Config{Seed: 1})
	if p.cfg.Endgame || p.cfg.Window != DefaultWindow || p.cfg.MaxRun != DefaultMaxRun {
		t.Fatalf("Config{Seed: 1} gave %+v", p.cfg)
	}
}

// TestSpread: with Config.Spread, leechers that know only a seeder (every
// chunk common) start at different points; an urgent range still comes
// first and in order.
func TestSpread(t *testing.T) {
	starts := map[uint64]bool{}
	for seed := range uint64(8) {
		p := New(4096, Config{Spread: true, Seed: seed})
		addPeer(p, 1, bin.Range{Start: 0, End: 4095})
		got := p.Next(nil, 1, 16)
		if len(got) == 0 {
			t.Fatal("nothing picked")
		}
		starts[got[0].Start] = true
		mustCheck(t, p)
	}
	if len(starts) < 6 {
		t.Fatalf("8 pickers started at only %d points: %v", len(starts), starts)
	}
	p := New(4096, Config{Spread: true, Seed: 1})
	addPeer(p, 1, bin.Range{Start: 0, End: 4095})
	p.SetUrgent([]bin.Range{{Start: 100, End: 103}})
	if got := flat(p.Next(nil, 1, 8)); !slices.Equal(got, append(seq(100, 103), seq(0, 3)...)) {
		t.Fatalf("with an urgent range, Next = %v, want 100..103 then 0..3", got)
	}
	// Without Spread, in order from the window's start.
	q := New(4096, Config{Seed: 5})
	addPeer(q, 1, bin.Range{Start: 0, End: 4095})
	if got := flat(q.Next(nil, 1, 4)); !slices.Equal(got, seq(0, 3)) {
		t.Fatalf("without Spread, Next = %v, want 0..3", got)
	}
}
