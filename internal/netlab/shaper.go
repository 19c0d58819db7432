package netlab

import (
	"math/rand/v2"
	"time"
)

// shaper decides the fate of each forwarded packet: dropped, or released at
// some time. Times are nanoseconds on the router's clock. A shaper is used
// by one goroutine.
type shaper struct {
	rng *rand.Rand
	// last is the latest release time given to a packet of each path
	// (in<<32 | out interface index); a packet that is not reordered is
	// never released before it. Only paths with jitter need it: with fixed
	// delays release times already grow with arrival times.
	last map[uint64]int64
}

func newShaper(seed uint64) *shaper {
	return &shaper{
		rng:  rand.New(rand.NewPCG(seed, 0x6e65746c6162)), // "netlab"
		last: make(map[uint64]int64),
	}
}

var noLink Link

// decide returns when a packet arriving at now on path should be released,
// or drop. up is the sending host's Up link, down the receiving host's Down
// link; nil stands for a link without impairments.
func (s *shaper) decide(now int64, path uint64, up, down *Link) (at int64, drop bool) {
	if up == nil {
		up = &noLink
	}
	if down == nil {
		down = &noLink
	}
	if up.Loss > 0 || down.Loss > 0 {
		pass := (1 - up.Loss) * (1 - down.Loss)
		if s.rng.Float64() >= pass {
			return 0, true
		}
	}
	d := up.Delay + down.Delay + s.jitter(up.Jitter) + s.jitter(down.Jitter)
	at = now + int64(d)
	if up.Jitter == 0 && down.Jitter == 0 {
		return at, false
	}
	last := s.last[path]
	reorder := (up.Reorder > 0 || down.Reorder > 0) &&
		s.rng.Float64() >= (1-up.Reorder)*(1-down.Reorder)
	if !reorder && at < last {
		at = last
	}
	if at > last {
		s.last[path] = at
	}
	return at, false
}

func (s *shaper) jitter(j time.Duration) time.Duration {
	if j <= 0 {
		return 0
	}
	return time.Duration(s.rng.Int64N(int64(j)))
}

// pktHeap is a binary min-heap of held packets ordered by release time, then
// by arrival.
type pktHeap []heldPkt

type heldPkt struct {
	at  int64  // release time
	seq uint64 // arrival order, to keep equal release times first-in-first-out
	id  uint32 // nfqueue packet id
}

func (a heldPkt) less(b heldPkt) bool {
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

func (h *pktHeap) push(p heldPkt) {
	*h = append(*h, p)
	s := *h
	i := len(s) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !s[i].less(s[parent]) {
			break
		}
		s[i], s[parent] = s[parent], s[i]
		i = parent
	}
}

// pop removes and returns the earliest packet; the heap must not be empty.
func (h *pktHeap) pop() heldPkt {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && s[r].less(s[l]) {
			m = r
		}
		if !s[m].less(s[i]) {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}
