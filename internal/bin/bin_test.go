package bin

import (
	"reflect"
	"testing"
)

func TestBinNumbers(t *testing.T) {
	// RFC 7574 §4.2, figure 2: bins over chunks 0..7.
	cases := []struct {
		b            Bin
		layer        uint
		first, last  uint64
		parent, sibl Bin
	}{
		{0, 0, 0, 0, 1, 2},
		{2, 0, 1, 1, 1, 0},
		{1, 1, 0, 1, 3, 5},
		{5, 1, 2, 3, 3, 1},
		{3, 2, 0, 3, 7, 11},
		{11, 2, 4, 7, 7, 3},
		{7, 3, 0, 7, 15, 23},
		{8, 0, 4, 4, 9, 10},
	}
	for _, c := range cases {
		if c.b.Layer() != c.layer || c.b.FirstChunk() != c.first || c.b.LastChunk() != c.last {
			t.Errorf("%d: layer %d chunks %d..%d, want %d %d..%d", c.b, c.b.Layer(), c.b.FirstChunk(), c.b.LastChunk(), c.layer, c.first, c.last)
		}
		if c.b.Parent() != c.parent || c.b.Sibling() != c.sibl {
			t.Errorf("%d: parent %d sibling %d, want %d %d", c.b, c.b.Parent(), c.b.Sibling(), c.parent, c.sibl)
		}
		if c.b.Layer() > 0 && (c.b.Left().Parent() != c.b || c.b.Right().Parent() != c.b) {
			t.Errorf("%d: children do not lead back", c.b)
		}
	}
	if !Bin(7).Contains(8) || Bin(3).Contains(8) || !Bin(3).Contains(3) {
		t.Error("Contains")
	}
}

func TestPeaksAndRoot(t *testing.T) {
	if got := Peaks(5); !reflect.DeepEqual(got, []Bin{3, 8}) {
		t.Errorf("Peaks(5) = %v", got)
	}
	// 977 chunks: peaks from merkle-peaks.tsv.
	var rs []Range
	for _, p := range Peaks(977) {
		rs = append(rs, p.Range())
	}
	want := []Range{{0, 511}, {512, 767}, {768, 895}, {896, 959}, {960, 975}, {976, 976}}
	if !reflect.DeepEqual(rs, want) {
		t.Errorf("Peaks(977) = %v", rs)
	}
	for n, r := range map[uint64]Bin{1: 0, 2: 1, 5: 7, 8: 7, 9: 15} {
		if Root(n) != r {
			t.Errorf("Root(%d) = %d, want %d", n, Root(n), r)
		}
	}
}

func TestRangeBins(t *testing.T) {
	got := Range{1, 6}.Bins()
	want := []Bin{2, 5, 9, 12}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("[1..6] = %v, want %v", got, want)
	}
	for s := uint64(0); s < 40; s++ {
		for e := s; e < 40; e++ {
			var n uint64
			next := s
			for _, b := range (Range{s, e}).Bins() {
				if b.FirstChunk() != next {
					t.Fatalf("[%d..%d] not contiguous at %v", s, e, b)
				}
				n += b.Chunks()
				next = b.LastChunk() + 1
			}
			if n != e-s+1 {
				t.Fatalf("[%d..%d] covers %d", s, e, n)
			}
		}
	}
	if b, ok := (Range{4, 7}).IsBin(); !ok || b != 11 {
		t.Errorf("IsBin [4..7] = %d %v", b, ok)
	}
	if _, ok := (Range{1, 2}).IsBin(); ok {
		t.Error("[1..2] is not a bin")
	}
}

func TestSet(t *testing.T) {
	s := NewSet(0, 1000)
	if _, err := s.AddRange(Range{3, 130}); err != nil {
		t.Fatal(err)
	}
	s.Add(200)
	if s.Count() != 129 || !s.Has(3) || !s.Has(130) || s.Has(131) || s.Has(2) {
		t.Fatalf("count %d", s.Count())
	}
	if n, _ := s.NextMissing(3); n != 131 {
		t.Errorf("NextMissing = %d", n)
	}
	var rs []Range
	s.Ranges(func(r Range) bool { rs = append(rs, r); return true })
	if !reflect.DeepEqual(rs, []Range{{3, 130}, {200, 200}}) {
		t.Errorf("Ranges = %v", rs)
	}
	if _, err := s.Add(1000); err != ErrTooLarge {
		t.Errorf("Add beyond limit: %v", err)
	}
	b, _ := s.MarshalBinary()
	var u Set
	if err := u.UnmarshalBinary(b); err != nil || u.Count() != s.Count() || !u.HasRange(Range{3, 130}) {
		t.Errorf("round trip: %v", err)
	}
	s.SetLimit(100)
	if s.Count() != 97 {
		t.Errorf("after SetLimit count %d", s.Count())
	}
	r := NewSet(0, 0)
	r.Add(140)
	r.SetLimit(100)
	r.SetLimit(1000)
	r.Add(150)
	if r.Has(140) || r.Count() != 1 {
		t.Error("chunks dropped by SetLimit came back")
	}
	if _, ok := NewSet(10, 10).NextMissing(10); ok {
		t.Error("NextMissing past limit")
	}
}

func FuzzSetUnmarshal(f *testing.F) {
	s := NewSet(0, 300)
	s.AddRange(Range{5, 77})
	b, _ := s.MarshalBinary()
	f.Add(b)
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Set
		if err := s.UnmarshalBinary(b); err != nil {
			return
		}
		b2, _ := s.MarshalBinary()
		var u Set
		if err := u.UnmarshalBinary(b2); err != nil || u.Count() != s.Count() {
			t.Fatalf("re-parse: %v", err)
		}
	})
}
