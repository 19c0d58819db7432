package ppspp

import (
	"slices"
	"sync"
	"time"

	"github.com/nextshare/nextshare/internal/bin"
)

// changes broadcasts "more of the content is readable" to any number of
// waiting readers (an HTTP gateway, say) without a goroutine per reader.
type changes struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns a channel closed at the next notify.
func (c *changes) wait() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch == nil {
		c.ch = make(chan struct{})
	}
	return c.ch
}

func (c *changes) notify() {
	c.mu.Lock()
	if c.ch != nil {
		close(c.ch)
		c.ch = nil
	}
	c.mu.Unlock()
}

// Changed returns a channel that is closed the next time chunks become
// readable from the swarm's store, or the swarm completes or fails. Take a
// new one each time it fires. Safe from any goroutine.
func (s *Swarm) Changed() <-chan struct{} { return s.changes.wait() }

// Playback tuning.
const (
	// DefaultBitrate is the stream bitrate assumed, in bytes per second,
	// until SetBitrate gives the real one: 2 Mbit/s, a typical web video.
	DefaultBitrate = 2_000_000 / 8
	// urgentLead is how much playback the urgent range at a reader covers
	// beyond the time a request takes.
	urgentLead = time.Second
	// Bounds of the urgent range, in chunks.
	minUrgent = 16
	maxUrgent = 1024
	// rttGuess stands in for the round trip to the fastest peer before
	// any REQUEST was answered.
	rttGuess = 200 * time.Millisecond
	// hurryChunks is how many missing chunks at the front of each urgent
	// range are watched for requests that would arrive too late.
	hurryChunks = 32
	// rankEvery is how often peers' leads are updated.
	rankEvery = 100 * time.Millisecond
	// slowRatio: a peer delivering less than the best peer's rate divided
	// by slowRatio is slow: it gets a lead (see rankPeers).
	slowRatio = 4
	// maxLead bounds a slow peer's lead, in chunks.
	maxLead = 1 << 16
)

// playback is what a swarm knows of its readers. Owned by the loop
// goroutine.
type playback struct {
	// readers are the chunk ranges readers want, the most pressing first;
	// each starts where its reader waits. Kept while the size is unknown
	// and applied once it is.
	readers  []bin.Range
	bitrate  int64 // bytes per second; 0 means DefaultBitrate
	lastRank time.Time
}

// SetPosition tells the picker where playback reads, for a single reader:
// SetReaders with one range from chunk i to the end.
func (s *Swarm) SetPosition(i uint64) {
	s.SetReaders([]bin.Range{{Start: i, End: bin.MaxChunks - 1}})
}

// SetReaders tells the picker which chunks readers want: one range per
// reader, from the chunk it waits for to the last it asked for, the most
// pressing first (a player stalled at a seek, say). Each range's first
// chunks, as many as playback consumes at the stream's bitrate during a
// second plus two round trips to the fastest peer, are urgent: requested
// before anything else, in order, from peers that are not much slower than
// the best one, and requested again from a faster peer when the first
// request would arrive after playback needs the chunk. A slow peer gets
// nothing a reader reaches before that peer could deliver it. The first
// range also starts the picker's in-order window; past the urgent chunks
// the picker spreads rare chunks as usual. No readers means the window
// starts at chunk 0.
//
// A seek (the first range moving back, or far ahead) cancels outstanding
// requests that the new position does not need soon (CANCEL to the peer,
// released in the picker), so the bandwidth they held goes to it at once;
// the other readers' urgent chunks are requested again behind it.
// Safe from any goroutine; it returns once the picker has moved.
func (s *Swarm) SetReaders(rs []bin.Range) {
	rs = slices.Clone(rs)
	s.e.do(func() {
		s.play.readers = rs
		s.applyReaders(time.Now(), true)
	})
}

// SetBitrate sets the stream's bitrate in bytes per second (0 restores
// DefaultBitrate), which sizes the urgent ranges. Safe from any goroutine.
func (s *Swarm) SetBitrate(bytesPerSec int64) {
	s.e.do(func() { s.play.bitrate = max(bytesPerSec, 0) })
}

// Bitrate returns the bitrate SetBitrate gave, 0 if none.
func (s *Swarm) Bitrate() int64 {
	var r int64
	s.e.do(func() { r = s.play.bitrate })
	return r
}

// applyReaders points the picker at the readers and sends the requests
// that follow. With seek set, a jump of the first reader cancels stale
// requests.
func (s *Swarm) applyReaders(now time.Time, seek bool) {
	if s.pk == nil || !s.tree.Known() {
		return
	}
	n := s.tree.NumChunks()
	var rs []bin.Range
	for _, r := range s.play.readers {
		if r.Start < n && r.End >= r.Start {
			rs = append(rs, bin.Range{Start: r.Start, End: min(r.End, n-1)})
		}
	}
	var pos uint64
	if len(rs) > 0 {
		pos = rs[0].Start
	}
	old := s.pk.Position()
	s.pk.SetPosition(pos)
	u := s.urgentChunks()
	urgent := make([]bin.Range, 0, len(rs))
	for _, r := range rs {
		urgent = append(urgent, bin.Range{Start: r.Start, End: min(r.End, r.Start+u-1)})
	}
	s.pk.SetUrgent(urgent)
	for _, c := range s.channels {
		if !c.established {
			continue
		}
		// A seek, not playback moving on: cancel what the new position
		// does not need soon. The other readers' urgent chunks among
		// them are asked for again at once, after the new position's:
		// the peer serves requests in order, and this puts them behind.
		// (It skips a chunk it still has in flight, so nothing is sent
		// twice.)
		span := uint64(2 * c.window(now))
		if seek && (pos < old || pos > old+span) {
			s.cancelOutside(c, []bin.Range{{Start: pos, End: pos + span - 1}}, now)
		}
		if b := s.appendRequests(c, s.e.out.begin(c.remote), now); len(b) > 4 {
			s.e.out.commit(b, c.addr)
			c.lastSend = now
		}
	}
}

// urgentChunks sizes the urgent range at each reader: the chunks playback
// consumes, at the stream's bitrate, during urgentLead plus two round
// trips to the fastest peer (one to ask, one to ask another peer if the
// answer is late).
func (s *Swarm) urgentChunks() uint64 {
	rtt := time.Duration(0)
	for _, c := range s.channels {
		if c.established && c.reqRTT > 0 && (rtt == 0 || c.reqRTT < rtt) {
			rtt = c.reqRTT
		}
	}
	if rtt == 0 {
		rtt = rttGuess
	}
	rate := s.play.bitrate
	if rate <= 0 {
		rate = DefaultBitrate
	}
	chunks := uint64(float64(rate) * (urgentLead + 2*rtt).Seconds() / float64(s.tree.ChunkSize()))
	return min(max(chunks, minUrgent), maxUrgent)
}

// cancelOutside cancels c's outstanding requests that lie wholly outside
// every range of keep.
func (s *Swarm) cancelOutside(c *channel, keep []bin.Range, now time.Time) {
	needed := func(r bin.Range) bool {
		for _, k := range keep {
			if r.End >= k.Start && r.Start <= k.End {
				return true
			}
		}
		return s.have.HasRange(r)
	}
	kept := c.requests[:c.reqsHead]
	b := s.e.out.begin(c.remote)
	for _, rq := range c.requests[c.reqsHead:] {
		if needed(rq.r) {
			kept = append(kept, rq)
			continue
		}
		b = s.appendCancel(c, b, rq.r)
		s.pk.Release(c.peer, rq.r)
		s.e.stats.Cancelled.Add(1)
	}
	if len(b) > 4 {
		s.e.out.commit(b, c.addr)
		c.lastSend = now
	}
	c.requests = kept
}

// rankPeers gives each peer its lead in the picker (picker.SetLead): none
// for a peer delivering at least the best peer's rate divided by
// slowRatio; for a slower one, the chunks playback consumes, at the
// stream's bitrate, while it delivers a window of requests. What readers
// need before that comes from faster peers.
func (s *Swarm) rankPeers(now time.Time) {
	if s.pk == nil || now.Sub(s.play.lastRank) < rankEvery {
		return
	}
	s.play.lastRank = now
	best := 0.0
	for _, c := range s.channels {
		if c.established {
			best = max(best, c.rate)
		}
	}
	rate := s.play.bitrate
	if rate <= 0 {
		rate = DefaultBitrate
	}
	perSec := float64(rate) / float64(s.tree.ChunkSize()) // chunks played per second
	for _, c := range s.channels {
		if !c.established {
			continue
		}
		var lead uint64
		if best > 0 && c.rate < best/slowRatio {
			busy := float64(c.window(now))/max(c.rate, 1) + c.reqRTT.Seconds()
			lead = uint64(min(perSec*busy, maxLead))
		}
		s.pk.SetLead(c.peer, lead)
	}
}

// hurry requests again, from a faster peer, the first missing chunks of
// each urgent range that their peer will deliver only after playback
// needs them: the chunk at the reader's position is needed now, each one
// after it a chunk's worth of playback later, at the stream's bitrate. The
// chunk then comes from whichever peer answers first; Duplicates cancels
// the other.
func (s *Swarm) hurry(now time.Time) {
	if s.pk == nil || len(s.channels) < 2 {
		return
	}
	rate := s.play.bitrate
	if rate <= 0 {
		rate = DefaultBitrate
	}
	perChunk := time.Duration(float64(s.tree.ChunkSize()) / float64(rate) * float64(time.Second))
	for _, r := range s.pk.Urgent() {
		seen := 0
		for i := r.Start; i <= r.End && seen < hurryChunks; i++ {
			if s.have.Has(i) {
				continue
			}
			seen++
			from := s.requester(i)
			if from == nil {
				continue
			}
			due := now.Add(time.Duration(i-r.Start) * perChunk)
			if !s.expected(from, i, now).After(due) {
				continue
			}
			if to := s.fastestOther(from, i); to != nil && s.expected(to, i, now).Before(s.expected(from, i, now)) &&
				s.pk.RequestAgain(to.peer, i) {
				b := s.appendRequest(to, s.e.out.begin(to.remote), bin.Range{Start: i, End: i}, now)
				s.e.out.commit(b, to.addr)
				to.lastSend = now
			}
		}
	}
}

// requester returns the channel that chunk i is requested from, if exactly
// one is.
func (s *Swarm) requester(i uint64) *channel {
	var from *channel
	for _, c := range s.channels {
		if c.established && s.pk.Requested(c.peer, i) {
			if from != nil {
				return nil // requested twice already
			}
			from = c
		}
	}
	return from
}

// expected estimates when chunk i arrives from c: a round trip after it
// was asked for, or, if c already has it requested, once c has also
// delivered, at its rate, what was asked of it before i and is still
// missing. A peer with no rate yet counts as slow.
func (s *Swarm) expected(c *channel, i uint64, now time.Time) time.Time {
	rtt := c.reqRTT
	if rtt == 0 {
		rtt = rttGuess
	}
	rate := max(c.rate, 10)
	var ahead uint64
	sent := now
	for _, rq := range c.requests[c.reqsHead:] {
		if rq.r.Start <= i && i <= rq.r.End {
			ahead += s.missing(bin.Range{Start: rq.r.Start, End: i})
			sent = rq.sent
			break
		}
		ahead += s.missing(rq.r)
	}
	t := sent.Add(rtt)
	if q := now.Add(time.Duration(float64(ahead) / rate * float64(time.Second))); q.After(t) {
		t = q
	}
	return t
}

// missing counts the chunks of r not verified yet.
func (s *Swarm) missing(r bin.Range) uint64 {
	var n uint64
	for i := r.Start; i <= r.End; {
		j, ok := s.have.NextMissing(i)
		if !ok || j > r.End {
			break
		}
		k, ok := s.have.NextPresent(j)
		if !ok || k > r.End+1 {
			k = r.End + 1
		}
		n += k - j
		i = k
	}
	return n
}

// fastestOther returns the established, unchoked channel other than c
// whose peer has chunk i and delivers fastest.
func (s *Swarm) fastestOther(c *channel, i uint64) *channel {
	var best *channel
	for _, o := range s.channels {
		if o == c || !o.established || o.chokedByPeer || !o.peerHave.Has(i) {
			continue
		}
		if best == nil || o.rate > best.rate {
			best = o
		}
	}
	return best
}

// SetSizeHint records the content size a link claimed, for a gateway that
// must announce a length before the last chunk, which proves the size, has
// arrived. Safe from any goroutine.
func (s *Swarm) SetSizeHint(n int64) { s.sizeHint.Store(n) }

// Swarm returns the swarm with the given ID (root hash), or nil. Safe from
// any goroutine.
func (e *Engine) Swarm(root []byte) *Swarm {
	var s *Swarm
	e.do(func() { s = e.swarms[string(root)] })
	return s
}
