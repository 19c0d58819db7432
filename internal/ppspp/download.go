package ppspp

import (
	"errors"
	"time"

	"github.com/nextshare/nextshare/internal/bin"
	"github.com/nextshare/nextshare/internal/merkle"
	"github.com/nextshare/nextshare/internal/picker"
	"github.com/nextshare/nextshare/internal/ppspp/wire"
)

// Request window, in chunks per peer: it starts at initWindow and then
// covers windowSpan, or two request round trips if longer, of the rate the
// peer delivers at, within [minWindow, maxWindow]. minWindow is small: a
// peer on a slow uplink that is given more than it sends in a second or
// so holds chunks that faster peers could have sent, and its requests
// time out and are fetched twice.
const (
	minWindow  = 16
	initWindow = 256
	maxWindow  = 4096
	windowSpan = 250 * time.Millisecond
)

// openingChunks is how many chunks a downloader asks for in its handshake,
// before it knows the tree's size: twice a sender's initial window (ten
// datagrams), so the first round trip carries the first chunks rather
// than only the peaks. Without a size hint it asks for one chunk, as a
// request past the end would be refused whole.
const openingChunks = 32

// tryPeaks looks for the peak hashes among the leading INTEGRITY messages
// of a datagram (RFC 7574 §5.6.2: the seeder sends them first). Any prefix
// that has the shape of bin.Peaks(n) and combines to the root fixes the
// content's size.
func (s *Swarm) tryPeaks(c *channel, integ []merkle.Node) {
	for k := len(integ); k >= 1; k-- {
		var next uint64
		ok := true
		for _, nd := range integ[:k] {
			if nd.Bin == bin.None || nd.Bin.FirstChunk() != next {
				ok = false
				break
			}
			next = nd.Bin.LastChunk() + 1
		}
		if !ok {
			continue
		}
		want := bin.Peaks(next)
		if len(want) != k {
			continue
		}
		for i, p := range want {
			if integ[i].Bin != p {
				ok = false
			}
		}
		if !ok {
			continue
		}
		if err := s.tree.SetPeaks(integ[:k]); err != nil {
			continue
		}
		s.onLayout(next)
		return
	}
}

// onLayout runs once the number of chunks is known.
func (s *Swarm) onLayout(n uint64) {
	if err := s.st.SetLayout(n); err != nil {
		s.e.log.Warn("set layout", "err", err)
		return
	}
	for _, p := range s.tree.Peaks() {
		s.st.PutHash(uint64(p.Bin), p.Hash)
	}
	s.have.SetLimit(n)
	s.layout()
	s.dirty = true
	s.changes.notify() // NumChunks is known now
	if s.pk != nil {
		s.pk.SetNumChunks(n)
		for _, c := range s.channels {
			c.peerHave.SetLimit(n)
			c.peerHave.Ranges(func(r bin.Range) bool {
				s.pk.PeerHave(c.peer, r)
				return true
			})
			// Requests sent before the size was known (appendOpening):
			// the picker must not hand those chunks out again.
			for _, rq := range c.requests[c.reqsHead:] {
				s.pk.Take(c.peer, rq.r)
			}
		}
		s.applyReaders(time.Now(), false)
	}
}

// peerUp starts counting an established channel's peer in the picker.
// Channels still opening (a peer learnt from PEX that never answers, say)
// stay out of it: the picker's rarity counts every peer it knows, and an
// empty one makes every chunk look rare.
func (s *Swarm) peerUp(c *channel) {
	if s.pk != nil {
		s.pk.AddPeer(c.peer)
	}
}

// appendOpening adds to our handshake a REQUEST for the first chunks when
// the tree's size is still unknown, so that the peer sends the peaks and
// the first chunks one round trip earlier (it processes the messages that
// follow a handshake in the same datagram, RFC 7574 §8.4). A retried
// handshake repeats the same request.
func (s *Swarm) appendOpening(c *channel, b []byte, now time.Time) []byte {
	if s.pk == nil || s.tree.Known() {
		return b
	}
	if c.reqsHead == len(c.requests) {
		k := uint64(1)
		if hint := s.sizeHint.Load(); hint > 0 {
			cs := int64(s.tree.ChunkSize())
			k = min(openingChunks, uint64((hint+cs-1)/cs))
		}
		c.requests = append(c.requests, request{r: bin.Range{Start: 0, End: k - 1}, sent: now, deadline: now.Add(2 * time.Second)})
	}
	for _, rq := range c.requests[c.reqsHead:] {
		b = wire.Request{Range: rq.r}.Append(b, c.params)
		s.e.stats.sent(wire.TypeRequest)
	}
	return b
}

// inContent reports whether r lies inside the content, counting a bad
// range when it does not.
func (s *Swarm) inContent(r bin.Range) bool {
	n := s.tree.NumChunks()
	if r.End < r.Start || n > 0 && r.End >= n {
		s.e.stats.BadRange.Add(1)
		return false
	}
	return true
}

func (s *Swarm) onHave(c *channel, r bin.Range, now time.Time) {
	if !s.inContent(r) {
		return
	}
	if _, err := c.peerHave.AddRange(r); err != nil {
		s.e.stats.BadRange.Add(1)
		return
	}
	if s.tree.Known() {
		s.checkSpurious(c, r, now)
		for _, b := range r.Bins() {
			s.markAcked(c, b)
		}
		if s.pk != nil {
			s.pk.PeerHave(c.peer, r)
		}
	}
}

func (s *Swarm) onIntegrity(c *channel, r bin.Range, h []byte) {
	b := rangeBin(r)
	if b == bin.None || len(h) != s.tree.Func().Size() {
		s.e.stats.BadRange.Add(1)
		return
	}
	if s.tree.Known() && b.LastChunk() >= uint64(2)*s.tree.NumChunks()+2 {
		s.e.stats.BadRange.Add(1)
		return
	}
	if vh, ok := s.tree.Hash(b); ok {
		if string(vh) != string(h) {
			s.e.stats.BadHashes.Add(1)
		}
		return
	}
	if !c.cand.Put(b, h) {
		// Full of hashes that never got used (their DATA was lost): start
		// over rather than refuse every new one; retransmissions resend them.
		c.cand.Reset()
		c.cand.Put(b, h)
	}
}

// chunkLenOK checks a DATA payload's length for chunk i.
func (s *Swarm) chunkLenOK(i uint64, n int) bool {
	cs := s.tree.ChunkSize()
	if i+1 < s.tree.NumChunks() {
		return n == cs
	}
	if sz := s.tree.Size(); sz >= 0 {
		return int64(n) == sz-int64(i)*int64(cs)
	}
	return n >= 1 && n <= cs
}

func (s *Swarm) onData(c *channel, m *wire.Msg, in *inbound, now time.Time) {
	if !s.tree.Known() {
		return // cannot verify anything before the peaks
	}
	r := m.Range
	if !s.inContent(r) {
		return
	}
	cs := s.tree.ChunkSize()
	payload := m.Payload
	// The ACK's delay sample (RFC 7574 §8.7) is taken when the ACK leaves;
	// move the timestamp by the time the datagram waited for the loop, so
	// the sample measures the path, not this process's scheduling.
	ts := m.Timestamp
	if lag := now.Sub(in.at); !in.at.IsZero() && lag > 0 {
		ts += uint64(lag.Microseconds())
	}
	for i := r.Start; i <= r.End; i++ {
		n := cs
		if len(payload) < n {
			n = len(payload)
		}
		chunk := payload[:n]
		payload = payload[n:]
		var leaf []byte
		if r.Start == r.End && in.leafLen > 0 {
			leaf = in.leaf[:in.leafLen]
		}
		s.onChunk(c, i, chunk, leaf, ts, now)
		if s.e.channels[c.id] != c {
			return
		}
	}
}

// onChunk verifies one received chunk and stores it.
func (s *Swarm) onChunk(c *channel, i uint64, data, leaf []byte, ts uint64, now time.Time) {
	if s.pk != nil {
		s.pk.Received(c.peer, i)
	}
	if s.have.Has(i) {
		s.e.stats.Duplicates.Add(1)
		c.noteRecv(i, ts)
		return
	}
	if !s.chunkLenOK(i, len(data)) {
		s.e.stats.CorruptChunks.Add(1)
		s.ban(c, "bad chunk length")
		return
	}
	if leaf == nil {
		var buf [64]byte
		leaf = merkle.LeafHash(s.tree.Func(), buf[:0], data)
	}
	err := s.tree.VerifyLeaf(i, leaf, c.cand, s.persistNode)
	switch {
	case err == nil:
		s.gotChunk(c, i, data, ts, now)
	case errors.Is(err, merkle.ErrMissingHashes):
		if len(c.pending) < maxPending {
			if _, dup := c.pending[i]; !dup {
				c.pending[i] = pendingChunk{data: append([]byte(nil), data...), ts: ts}
				s.e.stats.ChunksPending.Add(1)
			}
		}
	default:
		s.e.stats.CorruptChunks.Add(1)
		s.ban(c, "chunk failed verification")
	}
}

func (s *Swarm) persistNode(nd merkle.Node) {
	s.st.PutHash(uint64(nd.Bin), nd.Hash)
}

// retryPending verifies held-back chunks whose hashes may have arrived.
func (s *Swarm) retryPending(c *channel, now time.Time) {
	for i, p := range c.pending {
		if s.have.Has(i) {
			delete(c.pending, i)
			continue
		}
		var buf [64]byte
		leaf := merkle.LeafHash(s.tree.Func(), buf[:0], p.data)
		err := s.tree.VerifyLeaf(i, leaf, c.cand, s.persistNode)
		if errors.Is(err, merkle.ErrMissingHashes) {
			continue
		}
		delete(c.pending, i)
		if err != nil {
			s.e.stats.CorruptChunks.Add(1)
			s.ban(c, "chunk failed verification")
			return
		}
		s.gotChunk(c, i, p.data, p.ts, now)
	}
}

// gotChunk stores a verified chunk and schedules its HAVE and ACK.
func (s *Swarm) gotChunk(c *channel, i uint64, data []byte, ts uint64, now time.Time) {
	if err := s.st.Stage(i, data); err != nil {
		s.fail(err)
		return
	}
	if _, err := s.have.Add(i); err != nil {
		s.e.log.Warn("record chunk", "chunk", i, "err", err)
		return
	}
	s.dirty = true
	s.e.stats.ChunksVerified.Add(1)
	if i+1 == s.tree.NumChunks() && s.tree.Size() < 0 {
		size := int64(i)*int64(s.tree.ChunkSize()) + int64(len(data))
		s.tree.SetSize(size)
		s.st.SetSize(size)
	}
	if s.pk != nil {
		s.pk.Duplicates(i, c.peer, func(p picker.PeerID) {
			if o := s.channelOf(p); o != nil {
				b := s.e.out.begin(o.remote)
				b = wire.Cancel{Range: bin.Range{Start: i, End: i}}.Append(b, o.params)
				s.e.stats.sent(wire.TypeCancel)
				s.e.out.commit(b, o.addr)
			}
		})
		s.pk.Have(i)
	}
	s.newHave = appendRun(s.newHave, i)
	c.noteRecv(i, ts)
	if c.reqsHead < len(c.requests) {
		if rq := c.requests[c.reqsHead]; rq.r.Start == i {
			if d := now.Sub(rq.sent); c.reqRTT == 0 || d < c.reqRTT {
				c.reqRTT = d
			}
		}
	}
	c.bytesFrom += uint64(len(data))
	c.rateBytes++
	if el := now.Sub(c.rateStart); el >= 100*time.Millisecond {
		r := float64(c.rateBytes) / el.Seconds()
		c.rate = 0.6*c.rate + 0.4*r
		c.rateBytes = 0
		c.rateStart = now
	}
	if s.complete() {
		s.finish()
	}
}

func (s *Swarm) channelOf(p picker.PeerID) *channel {
	for _, c := range s.channels {
		if c.peer == p {
			return c
		}
	}
	return nil
}

func (c *channel) noteRecv(i uint64, ts uint64) {
	c.recvRuns = appendRun(c.recvRuns, i)
	if ts > c.lastTS {
		c.lastTS = ts
	}
	c.dirtyRecv = true
}

// appendRun adds chunk i to a list of ranges, extending the last one when
// i follows it.
func appendRun(rs []bin.Range, i uint64) []bin.Range {
	if n := len(rs); n > 0 && rs[n-1].End+1 == i {
		rs[n-1].End = i
		return rs
	}
	return append(rs, bin.Range{Start: i, End: i})
}

// releaseRequests gives back everything outstanding from c.
func (s *Swarm) releaseRequests(c *channel) {
	if s.pk != nil {
		for _, rq := range c.requests[c.reqsHead:] {
			s.pk.Release(c.peer, rq.r)
		}
	}
	c.requests = c.requests[:0]
	c.reqsHead = 0
}

// window returns how many chunks to keep requested from c: windowSpan (or
// two request round trips) of the rate it delivers at, by the smoothed
// rate or, while the rate climbs (a sender in slow start doubles it every
// round trip), by what arrived since the last measurement, whichever is
// higher, so that requests stay ahead of the peer's congestion window. Until the first full measurement
// it is at least initWindow.
func (c *channel) window(now time.Time) int {
	rate := c.rate
	if el := now.Sub(c.rateStart); el >= 20*time.Millisecond {
		rate = max(rate, float64(c.rateBytes)/el.Seconds())
	}
	w := int(rate * max(windowSpan, 2*c.reqRTT).Seconds())
	if c.rate == 0 {
		w = max(w, initWindow) // no full measurement yet
	}
	return min(max(w, minWindow), maxWindow)
}

// afterBatch sends, per channel, one datagram with the HAVEs of chunks
// verified during the batch, the ACKs for data received from that peer
// (with a one-way delay sample, RFC 7574 §8.7), and new REQUESTs; a
// channel with nothing to acknowledge gets its REQUESTs at once too, so
// the first ones leave as soon as the peer's handshake arrives rather
// than at the next tick.
func (s *Swarm) afterBatch(now time.Time) {
	nowUS := uint64(now.UnixMicro())
	for _, c := range s.channels {
		if !c.established {
			continue
		}
		c.queueHaves(s.newHave)
		if !c.dirtyRecv && !c.havesDue(now) {
			// Nothing to acknowledge or announce yet, but a channel that
			// just opened, or whose peer just announced chunks, may have
			// room for requests.
			if b := s.appendRequests(c, s.e.out.begin(c.remote), now); len(b) > 4 {
				s.e.out.commit(b, c.addr)
				c.lastSend = now
			}
			continue
		}
		b := s.e.out.begin(c.remote)
		b = s.flushHaves(c, b, now)
		if c.dirtyRecv {
			delay := int64(nowUS - c.lastTS)
			for _, r := range c.recvRuns {
				for _, rr := range s.wireRanges(c, r, true) {
					m := wire.Ack{Range: rr, DelaySample: delay}
					if len(b)+m.Len(c.params) > maxPayload {
						s.e.out.commit(b, c.addr)
						b = s.e.out.begin(c.remote)
					}
					b = m.Append(b, c.params)
					s.e.stats.sent(wire.TypeAck)
				}
			}
			c.recvRuns = c.recvRuns[:0]
			c.dirtyRecv = false
		}
		b = s.appendRequests(c, b, now)
		s.e.out.commit(b, c.addr)
		c.lastSend = now
	}
	s.newHave = s.newHave[:0]
}

// HAVEs to a peer wait up to haveDelay, or until maxPendingHaves runs
// pile up, unless a datagram goes to that peer anyway (an ACK): with many
// peers, announcing every batch's chunks at once to each of them costs a
// datagram per peer per batch, far more than the data itself.
const (
	haveDelay       = 250 * time.Millisecond
	maxPendingHaves = 64
)

// queueHaves adds runs of newly verified chunks to c's pending HAVEs.
func (c *channel) queueHaves(rs []bin.Range) {
	for _, r := range rs {
		if n := len(c.haves); n > 0 && c.haves[n-1].End+1 == r.Start {
			c.haves[n-1].End = r.End
		} else {
			c.haves = append(c.haves, r)
		}
	}
}

// havesDue tells whether c's pending HAVEs should go now.
func (c *channel) havesDue(now time.Time) bool {
	return len(c.haves) > 0 && (now.Sub(c.haveSent) >= haveDelay || len(c.haves) >= maxPendingHaves)
}

// flushHaves appends c's pending HAVEs to b, leaving out runs the peer
// already has: it will not ask us for those, and in a swarm where chunks
// arrive scattered (rarest first) the HAVEs to every peer cost uplink
// bytes in proportion to the number of peers.
func (s *Swarm) flushHaves(c *channel, b []byte, now time.Time) []byte {
	if len(c.haves) == 0 {
		return b
	}
	b = s.appendHaves(c, b, func(yield func(bin.Range) bool) {
		for _, r := range c.haves {
			if c.peerHave.HasRange(r) {
				continue
			}
			if !yield(r) {
				return
			}
		}
	})
	c.haves = c.haves[:0]
	c.haveSent = now
	return b
}

// appendRequests adds REQUESTs to b when c's window has room.
func (s *Swarm) appendRequests(c *channel, b []byte, now time.Time) []byte {
	if s.pk == nil || c.chokedByPeer || !c.established {
		return b
	}
	if !s.tree.Known() {
		// Until the peaks arrive, ask for the first chunk the peer has; the
		// seeder sends the peaks before it (RFC 7574 §5.6.2).
		if len(c.requests) > c.reqsHead {
			if c.peerHave.Count() == 0 || c.peerHave.Has(c.requests[c.reqsHead].r.Start) {
				return b
			}
			// The peer lacks what our handshake asked for: ask for what
			// it has instead.
			c.requests, c.reqsHead = c.requests[:0], 0
		}
		first, ok := c.peerHave.NextPresent(0)
		if !ok {
			return b
		}
		r := bin.Range{Start: first, End: first}
		b = s.appendRequest(c, b, r, now)
		return b
	}
	w := c.window(now)
	want := w - s.pk.Outstanding(c.peer)
	if u := s.pk.UrgentOpen(); u > 0 && (s.pk.Blocked() || u >= uint64(w/8)) {
		// Urgent chunks nobody was asked for go out now, even past a
		// full window, when a reader waits for one or they are many.
		want = max(want, int(min(u, uint64(w))))
	} else if want < w/8 {
		return b
	}
	s.ranges = s.pk.Next(s.ranges[:0], c.peer, want)
	rs := append([]bin.Range(nil), s.ranges...)
	for _, r := range rs {
		b = s.appendRequest(c, b, r, now)
	}
	return b
}

func (s *Swarm) appendRequest(c *channel, b []byte, r bin.Range, now time.Time) []byte {
	backlog := float64(s.pk.Outstanding(c.peer))
	rate := c.rate
	if rate < 100 {
		rate = 100
	}
	wait := 2*time.Second + time.Duration(backlog/rate*float64(time.Second))
	if wait > 30*time.Second {
		wait = 30 * time.Second
	}
	c.requests = append(c.requests, request{r: r, sent: now, deadline: now.Add(wait)})
	for _, rr := range s.wireRanges(c, r, false) {
		m := wire.Request{Range: rr}
		if len(b)+m.Len(c.params)+1 > maxPayload {
			s.e.out.commit(b, c.addr)
			b = s.e.out.begin(c.remote)
		}
		b = m.Append(b, c.params)
		s.e.stats.sent(wire.TypeRequest)
	}
	if !c.pexAsked {
		c.pexAsked = true
		b = wire.PexReq{}.Append(b, c.params)
		s.e.stats.sent(wire.TypePexReq)
	}
	return b
}

// expireRequests releases requests from c that passed their deadline and
// cancels them (RFC 7574 §3.8): the chunks go to other peers now, and a
// slow peer that still sent them would spend its uplink on duplicates.
func (s *Swarm) expireRequests(c *channel, now time.Time) {
	b := s.e.out.begin(c.remote)
	for c.reqsHead < len(c.requests) {
		rq := c.requests[c.reqsHead]
		if s.have.HasRange(rq.r) {
			c.reqsHead++
			continue
		}
		if now.Before(rq.deadline) {
			break
		}
		s.e.stats.RequestTimeouts.Add(1)
		if s.pk != nil {
			s.pk.Release(c.peer, rq.r)
		}
		b = s.appendCancel(c, b, rq.r)
		c.reqsHead++
	}
	if len(b) > 4 {
		s.e.out.commit(b, c.addr)
		c.lastSend = now
	}
	if c.reqsHead == len(c.requests) {
		c.requests = c.requests[:0]
		c.reqsHead = 0
	}
}

// appendCancel adds CANCELs for r to b, starting a new datagram to c when
// b is full.
func (s *Swarm) appendCancel(c *channel, b []byte, r bin.Range) []byte {
	for _, rr := range s.wireRanges(c, r, false) {
		m := wire.Cancel{Range: rr}
		if len(b)+m.Len(c.params) > maxPayload {
			s.e.out.commit(b, c.addr)
			b = s.e.out.begin(c.remote)
		}
		b = m.Append(b, c.params)
		s.e.stats.sent(wire.TypeCancel)
	}
	return b
}
