package netlab

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHeapOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h pktHeap
	var want []heldPkt
	for i := range 1000 {
		p := heldPkt{at: rng.Int64N(50), seq: uint64(i), id: uint32(i)}
		h.push(p)
		want = append(want, p)
	}
	slices.SortStableFunc(want, func(a, b heldPkt) int { return int(a.at - b.at) })
	for i, w := range want {
		if got := h.pop(); got != w {
			t.Fatalf("pop %d = %+v, want %+v", i, got, w)
		}
	}
	if len(h) != 0 {
		t.Fatalf("%d left after popping all", len(h))
	}
}

func TestShaperDelaySums(t *testing.T) {
	s := newShaper(1)
	up := &Link{Delay: 30 * time.Millisecond}
	down := &Link{Delay: 12 * time.Millisecond}
	at, drop := s.decide(1000, 1, up, down)
	if drop || at != 1000+int64(42*time.Millisecond) {
		t.Errorf("decide = %d, %v; want %d, false", at, drop, 1000+int64(42*time.Millisecond))
	}
	at, drop = s.decide(1000, 1, nil, nil)
	if drop || at != 1000 {
		t.Errorf("decide without links = %d, %v; want 1000, false", at, drop)
	}
}

func TestShaperJitterKeepsOrder(t *testing.T) {
	s := newShaper(7)
	up := &Link{Delay: 10 * time.Millisecond, Jitter: 20 * time.Millisecond}
	var last int64
	for i := range 10000 {
		now := int64(i) * int64(100*time.Microsecond)
		at, drop := s.decide(now, 1, up, nil)
		if drop {
			t.Fatal("dropped without loss")
		}
		if at < last {
			t.Fatalf("packet %d released at %d before the previous one (%d)", i, at, last)
		}
		if earliest := now + int64(up.Delay); at < earliest {
			t.Fatalf("packet %d released after %v, less than the delay", i, time.Duration(at-now))
		}
		last = at
	}
}

func TestShaperReorder(t *testing.T) {
	s := newShaper(7)
	up := &Link{Delay: 10 * time.Millisecond, Jitter: 20 * time.Millisecond, Reorder: 0.3}
	var prev []int64
	for i := range 10000 {
		at, _ := s.decide(int64(i)*int64(100*time.Microsecond), 1, up, nil)
		prev = append(prev, at)
	}
	overtakes := 0
	for i := 1; i < len(prev); i++ {
		if prev[i] < prev[i-1] {
			overtakes++
		}
	}
	if overtakes < 500 || overtakes > 3000 {
		t.Errorf("%d of 10000 packets overtook their predecessor, want some but not most", overtakes)
	}
}

func TestShaperLoss(t *testing.T) {
	s := newShaper(3)
	up := &Link{Loss: 0.2}
	down := &Link{Loss: 0.5}
	const n = 100000
	dropped := 0
	for i := range n {
		if _, drop := s.decide(int64(i), 1, up, down); drop {
			dropped++
		}
	}
	// 1 - 0.8*0.5 = 0.6
	if got := float64(dropped) / n; got < 0.59 || got > 0.61 {
		t.Errorf("dropped %.3f, want 0.6", got)
	}
}

func TestValidate(t *testing.T) {
	bad := [][]HostSpec{
		{{Name: ""}},
		{{Name: "Upper"}},
		{{Name: "a_b"}},
		{{Name: "abcdefghijklmnopqrstu"}},
		{{Name: "a"}, {Name: "a"}},
		{{Name: "a", Up: Link{Loss: 1.5}}},
		{{Name: "a", Down: Link{Delay: -1}}},
		{{Name: "a", Down: Link{Rate: 100}}},
		{{Name: "a", NAT: "cone"}},
	}
	for _, specs := range bad {
		if err := validateSpecs(specs); err == nil {
			t.Errorf("validateSpecs(%+v) = nil, want an error", specs)
		}
	}
	good := []HostSpec{{Name: "a-1", Up: Link{Rate: 1e6, Loss: 1}, NAT: NATSymmetric}, {Name: "abcdefghijklmnopqrst"}}
	if err := validateSpecs(good); err != nil {
		t.Errorf("validateSpecs(%+v) = %v", good, err)
	}
}

func TestNames(t *testing.T) {
	for _, c := range []struct {
		name, prefix string
		pid          int
		ok           bool
	}{
		{"nslab123-1-r", "nslab", 123, true},
		{"nslab123-1-h-x", "nslab", 123, true},
		{"nslabx123-1-r", "nslab", 0, false},
		{"nslab-1-r", "nslab", 0, false},
		{"nslab0123-1-r", "nslab", 0, false},
		{"other123-1-r", "nslab", 0, false},
		{"nslab123", "nslab", 0, false},
	} {
		pid, ok := nsPID(c.name, c.prefix)
		if pid != c.pid || ok != c.ok {
			t.Errorf("nsPID(%q, %q) = %d, %v; want %d, %v", c.name, c.prefix, pid, ok, c.pid, c.ok)
		}
	}
	for _, p := range []string{"", "a1", "A", "a_b"} {
		if validPrefix(p) == nil {
			t.Errorf("validPrefix(%q) = nil, want an error", p)
		}
	}
}

func TestAddrs(t *testing.T) {
	a := hostAddrs(0, true)
	if a.router.String() != "10.0.1.1" || a.outside.String() != "10.0.1.2" ||
		a.natInside.String() != "192.168.0.1" || a.inside.String() != "192.168.0.2" {
		t.Errorf("hostAddrs(0) = %+v", a)
	}
	a = hostAddrs(499, false)
	if a.router.String() != "10.1.244.1" || a.outside.String() != "10.1.244.2" {
		t.Errorf("hostAddrs(499) = %+v", a)
	}
	if got, want := tbfArgs(Link{Rate: 10_000_000}), "tbf rate 10000000bit burst 4096 limit 66596"; got != want {
		t.Errorf("tbfArgs = %q, want %q", got, want)
	}
}

func TestMinPathDelay(t *testing.T) {
	ms := time.Millisecond
	links := func(specs ...HostSpec) map[uint32]*HostSpec {
		m := make(map[uint32]*HostSpec)
		for i := range specs {
			m[uint32(i+2)] = &specs[i]
		}
		return m
	}
	for _, c := range []struct {
		links map[uint32]*HostSpec
		want  time.Duration
	}{
		{links(), 0},
		{links(HostSpec{Up: Link{Delay: ms}}), 0},
		// The fastest Up and Down belong to one host: pair with runners-up.
		{links(HostSpec{Up: Link{Delay: 1 * ms}, Down: Link{Delay: 1 * ms}},
			HostSpec{Up: Link{Delay: 5 * ms}, Down: Link{Delay: 9 * ms}},
			HostSpec{Up: Link{Delay: 7 * ms}, Down: Link{Delay: 8 * ms}}), 6 * ms},
		// Senders delay up, receivers down, the reverse paths not at all.
		{links(HostSpec{Up: Link{Delay: 5 * ms}}, HostSpec{Down: Link{Delay: 5 * ms}}), 0},
		{links(HostSpec{Up: Link{Delay: 5 * ms}, Down: Link{Delay: 5 * ms}},
			HostSpec{Up: Link{Delay: 3 * ms}, Down: Link{Delay: 4 * ms}}), 8 * ms},
	} {
		if got := time.Duration(minPathDelay(c.links)); got != c.want {
			t.Errorf("minPathDelay = %v, want %v", got, c.want)
		}
	}
}
