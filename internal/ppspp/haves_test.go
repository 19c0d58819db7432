package ppspp

import (
	"slices"
	"testing"
	"time"

	"github.com/nextshare/nextshare/internal/bin"
)

// TestDueHaves: complete aligned blocks are announced at once, merged with
// neighbours; chunks of incomplete blocks wait until they are old enough;
// the last, short block of the content counts as complete.
func TestDueHaves(t *testing.T) {
	t0 := time.Unix(1000, 0)
	now := t0.Add(time.Second)
	have := bin.NewSet(0, 0)
	add := func(a, b uint64) {
		if _, err := have.AddRange(bin.Range{Start: a, End: b}); err != nil {
			t.Fatal(err)
		}
	}
	add(0, 15)  // block 0 complete
	add(16, 20) // block 1 partial
	add(30, 31)
	add(32, 47) // block 2 complete
	add(96, 99) // the content's last block (n = 100), complete
	pending := []pendingHave{
		{r: bin.Range{Start: 10, End: 20}, at: t0}, // spans block 0 (complete) and 1 (partial)
		{r: bin.Range{Start: 30, End: 40}, at: t0}, // block 1 partial, block 2 complete
		{r: bin.Range{Start: 0, End: 9}, at: now},  // rest of block 0, queued later
		{r: bin.Range{Start: 96, End: 99}, at: now},
	}
	out, keep := dueHaves(nil, nil, pending, have, 100, false, 5*time.Second, now)
	want := []bin.Range{{Start: 0, End: 15}, {Start: 32, End: 40}, {Start: 96, End: 99}}
	if !slices.Equal(out, want) {
		t.Errorf("announced %v, want %v", out, want)
	}
	wantKeep := []pendingHave{{r: bin.Range{Start: 16, End: 20}, at: t0}, {r: bin.Range{Start: 30, End: 31}, at: t0}}
	if !slices.Equal(keep, wantKeep) {
		t.Errorf("kept %v, want %v", keep, wantKeep)
	}

	// Old enough, the partial runs go too, merged where adjacent.
	out, keep = dueHaves(nil, nil, keep, have, 100, false, time.Second, now)
	if want := []bin.Range{{Start: 16, End: 20}, {Start: 30, End: 31}}; !slices.Equal(out, want) || len(keep) != 0 {
		t.Errorf("after the age: announced %v, kept %v; want %v and nothing", out, keep, want)
	}
	// all announces everything.
	out, keep = dueHaves(nil, nil, []pendingHave{{r: bin.Range{Start: 16, End: 17}, at: now}, {r: bin.Range{Start: 18, End: 20}, at: now}}, have, 100, true, time.Hour, now)
	if want := []bin.Range{{Start: 16, End: 20}}; !slices.Equal(out, want) || len(keep) != 0 {
		t.Errorf("all: announced %v, kept %v; want %v and nothing", out, keep, want)
	}
}

// TestAnnounceable: runs the peer holds are left out; with join, runs
// separated only by chunks we have go as one range, and not across a
// chunk we lack.
func TestAnnounceable(t *testing.T) {
	set := func(rs ...bin.Range) *bin.Set {
		s := bin.NewSet(0, 0)
		for _, r := range rs {
			if _, err := s.AddRange(r); err != nil {
				t.Fatal(err)
			}
		}
		return s
	}
	have := set(bin.Range{Start: 0, End: 40}, bin.Range{Start: 42, End: 60})
	peer := set(bin.Range{Start: 20, End: 22})
	runs := func() []bin.Range {
		return []bin.Range{{Start: 2, End: 3}, {Start: 9, End: 9}, {Start: 20, End: 22}, {Start: 30, End: 31}, {Start: 45, End: 46}, {Start: 50, End: 50}}
	}
	if got, want := announceable(runs(), have, peer, true), []bin.Range{{Start: 2, End: 31}, {Start: 45, End: 50}}; !slices.Equal(got, want) {
		t.Errorf("joined: %v, want %v", got, want)
	}
	want := []bin.Range{{Start: 2, End: 3}, {Start: 9, End: 9}, {Start: 30, End: 31}, {Start: 45, End: 46}, {Start: 50, End: 50}}
	if got := announceable(runs(), have, peer, false); !slices.Equal(got, want) {
		t.Errorf("not joined: %v, want %v", got, want)
	}
}
