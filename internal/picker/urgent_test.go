package picker

import (
	"slices"
	"testing"

	"github.com/nextshare/nextshare/internal/bin"
)

// Urgent ranges come first, in order and in the order given, even where
// rarest-first would pick elsewhere.
func TestUrgentFirst(t *testing.T) {
	const n = 4096
	p := New(n, Config{Seed: 9, Endgame: true})
	addPeer(p, 1, bin.Range{Start: 0, End: n - 1})
	p.AddPeer(2) // makes every chunk rare: rotation would start anywhere
	p.SetUrgent([]bin.Range{{Start: 3000, End: 3009}, {Start: 0, End: 4}})
	got := flat(p.Next(nil, 1, 15))
	want := append(seq(3000, 3009), seq(0, 4)...)
	if !slices.Equal(got, want) {
		t.Fatalf("Next = %v, want %v", got, want)
	}
	mustCheck(t, p)
	// Requested or verified urgent chunks are skipped.
	p.Have(5)
	p.SetUrgent([]bin.Range{{Start: 0, End: 7}})
	if got := flat(p.Next(nil, 1, 2)); !slices.Equal(got, []uint64{6, 7}) {
		t.Fatalf("Next = %v, want [6 7]", got)
	}
	mustCheck(t, p)
}

// A peer with a lead gets no urgent chunk while one without could serve
// it, but does when every peer has one.
func TestUrgentSkipsSlowPeers(t *testing.T) {
	p := New(1000, Config{Seed: 1, Endgame: true})
	addPeer(p, 1, bin.Range{Start: 0, End: 999})
	addPeer(p, 2, bin.Range{Start: 0, End: 999})
	p.SetUrgent([]bin.Range{{Start: 100, End: 109}})
	p.SetLead(1, 10)
	for _, c := range flat(p.Next(nil, 1, 20)) {
		if p.IsUrgent(c) {
			t.Fatalf("slow peer 1 got urgent chunk %d", c)
		}
	}
	// Nor through the window or after it, and its cursors do not pass
	// the urgent chunks, which it gets once it is no longer slow.
	for _, c := range flat(p.Next(nil, 1, 500)) {
		if p.IsUrgent(c) {
			t.Fatalf("slow peer 1 got urgent chunk %d", c)
		}
	}
	mustCheck(t, p)
	p.SetLead(1, 0)
	if got := flat(p.Next(nil, 1, 10)); !slices.Equal(got, seq(100, 109)) {
		t.Fatalf("peer 1, no longer slow, got %v, want 100..109", got)
	}
	mustCheck(t, p)
	p.Release(1, bin.Range{Start: 100, End: 109})
	if got := flat(p.Next(nil, 2, 10)); !slices.Equal(got, seq(100, 109)) {
		t.Fatalf("fast peer 2 got %v, want 100..109", got)
	}
	mustCheck(t, p)

	q := New(1000, Config{Seed: 1})
	addPeer(q, 1, bin.Range{Start: 0, End: 999})
	q.SetUrgent([]bin.Range{{Start: 500, End: 501}})
	q.SetLead(1, 10)
	if got := flat(q.Next(nil, 1, 2)); !slices.Equal(got, []uint64{500, 501}) {
		t.Fatalf("lone slow peer got %v, want the urgent chunks", got)
	}
}

func TestRequestAgain(t *testing.T) {
	p := New(100, Config{Seed: 1})
	addPeer(p, 1, bin.Range{Start: 0, End: 99})
	addPeer(p, 2, bin.Range{Start: 0, End: 49})
	addPeer(p, 3, bin.Range{Start: 0, End: 99})
	p.SetUrgent([]bin.Range{{Start: 60, End: 60}})
	if got := flat(p.Next(nil, 1, 1)); !slices.Equal(got, []uint64{60}) {
		t.Fatalf("Next = %v", got)
	}
	if p.RequestAgain(2, 60) {
		t.Fatal("peer 2 lacks chunk 60 but got it requested")
	}
	if p.RequestAgain(1, 60) {
		t.Fatal("chunk 60 requested twice from peer 1")
	}
	if p.RequestAgain(3, 61) {
		t.Fatal("unrequested chunk 61 requested again")
	}
	if !p.RequestAgain(3, 60) {
		t.Fatal("peer 3 could not take over chunk 60")
	}
	mustCheck(t, p)
	var cancel []PeerID
	p.Duplicates(60, 3, func(id PeerID) { cancel = append(cancel, id) })
	if !slices.Equal(cancel, []PeerID{1}) {
		t.Fatalf("Duplicates = %v, want [1]", cancel)
	}
	p.Received(3, 60)
	p.Have(60)
	mustCheck(t, p)
	if p.Outstanding(1) != 0 || p.Outstanding(3) != 0 {
		t.Fatalf("outstanding %d and %d after delivery", p.Outstanding(1), p.Outstanding(3))
	}
}

func TestTake(t *testing.T) {
	p := New(100, Config{Seed: 1})
	addPeer(p, 1, bin.Range{Start: 0, End: 9})
	p.Have(2)
	if n := p.Take(1, bin.Range{Start: 0, End: 20}); n != 9 {
		t.Fatalf("Take marked %d chunks, want 9 (0..9 but the verified 2)", n)
	}
	mustCheck(t, p)
	if got := p.Next(nil, 1, 10); len(got) != 0 {
		t.Fatalf("Next after Take = %v, want nothing", got)
	}
	p.Release(1, bin.Range{Start: 0, End: 0})
	if got := flat(p.Next(nil, 1, 10)); !slices.Equal(got, []uint64{0}) {
		t.Fatalf("Next after Release = %v, want [0]", got)
	}
	mustCheck(t, p)
}

// A lead longer than the urgent range keeps the peer off the chunks after
// it too: a reader gets there before a slow peer would deliver them.
func TestLeadBeyondUrgent(t *testing.T) {
	p := New(2000, Config{Seed: 1})
	addPeer(p, 1, bin.Range{Start: 0, End: 1999})
	addPeer(p, 2, bin.Range{Start: 0, End: 1999})
	p.SetPosition(100)
	p.SetUrgent([]bin.Range{{Start: 100, End: 109}})
	p.SetLead(1, 300)
	got := flat(p.Next(nil, 1, 200))
	if len(got) == 0 {
		t.Fatal("peer 1 got nothing")
	}
	for _, c := range got {
		if c >= 100 && c < 400 {
			t.Fatalf("peer 1 got chunk %d, within its lead of 300 from 100", c)
		}
	}
	mustCheck(t, p)
}
