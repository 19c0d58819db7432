package ppspp

import (
	"cmp"
	"errors"
	"slices"
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
	// minRate, in chunks per second, is the slowest delivery a request's
	// deadline allows for.
	minRate = 4
	// stallTimeout is how long a peer may send no DATA while we wait on
	// it before its requests expire.
	stallTimeout = 4 * time.Second
)

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

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

// peerUp marks c established and starts counting its peer in the picker.
// Channels still opening (a peer learnt from PEX that never answers, say)
// stay out of it: the picker's rarity counts every peer it knows, and an
// empty one makes every chunk look rare.
func (s *Swarm) peerUp(c *channel) {
	c.established = true
	c.peerNews = true
	s.established++
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
	c.peerNews = true
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
	// The ACK's delay sample (RFC 7574 §8.7) is now minus the timestamp;
	// shift the timestamp by the time since the reader took the datagram
	// off the socket, so that the sample measures the path, not this
	// process's scheduling.
	ts := m.Timestamp
	if !in.at.IsZero() {
		ts += uint64(now.Sub(in.at).Microseconds())
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
	c.lastData = now
	if s.have.Has(i) {
		if s.pk != nil {
			s.pk.Received(c.peer, i)
		}
		s.e.stats.Duplicates.Add(1)
		c.noteRecv(i, ts, now)
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
	if err != nil && s.pk != nil {
		// Not verified (yet): the chunk may be asked of another peer.
		s.pk.Received(c.peer, i)
	}
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
		s.pk.Got(c.peer, i)
	}
	s.newHave = appendRun(s.newHave, i)
	c.noteRecv(i, ts, now)
	if c.reqsHead < len(c.requests) {
		if rq := c.requests[c.reqsHead]; rq.r.Start == i {
			if d := now.Sub(rq.sent); c.reqRTT == 0 || d < c.reqRTT {
				c.reqRTT = d
			}
		}
	}
	if c.firstData.IsZero() {
		c.firstData = now
	}
	c.chunksFrom++
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

// deliveryRate is the rate, in chunks per second, that a request's
// deadline allows for: the smoothed rate, but no more than the average
// since the peer's first chunk. Over dozens of peers each sends a few
// chunks a second, in bursts, and the smoothed rate of a burst would set
// deadlines that the peer's next quiet spell misses: the request expires,
// is cancelled and asked of someone else.
func (c *channel) deliveryRate(now time.Time) float64 {
	if el := now.Sub(c.firstData); !c.firstData.IsZero() && el >= time.Second {
		return min(c.rate, float64(c.chunksFrom)/el.Seconds())
	}
	return c.rate
}

func (s *Swarm) channelOf(p picker.PeerID) *channel {
	for _, c := range s.channels {
		if c.peer == p {
			return c
		}
	}
	return nil
}

// noteRecv records chunk i, timestamped ts by the peer and taken in at
// now, for the next ACK to c.
func (c *channel) noteRecv(i uint64, ts uint64, now time.Time) {
	if !c.dirtyRecv {
		c.ackDue = now.Add(ackDelay)
	}
	c.recvRuns = appendRun(c.recvRuns, i)
	c.recvCount++
	if ts > c.lastTS {
		c.lastTS, c.lastAt = ts, now
	}
	c.dirtyRecv = true
}

// ACKs are delayed, as TCP's are (RFC 1122 §4.2.3.2, RFC 5681 §4.2): one
// goes once ackEvery chunks wait for it, or ackDelay after the first, or
// with DATA to the peer. Among dozens of peers each sending a few chunks a
// second, an ACK per chunk in its own datagram is nearly as many
// datagrams as the data. The delay sample is taken at arrival, so the
// hold does not count as queuing delay.
const (
	ackEvery = 2
	ackDelay = 40 * time.Millisecond
)

// ackNow tells whether the ACKs pending for c should go now.
func (c *channel) ackNow(now time.Time) bool {
	return c.dirtyRecv && (c.recvCount >= ackEvery || !now.Before(c.ackDue))
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
		// No full measurement yet. The first peer gets initWindow, so a
		// download from a fast seeder starts at speed; later ones share
		// it, or every new peer would be asked for initWindow chunks and
		// a peer with dozens of channels would hold more requests than
		// it can serve in many seconds.
		w = max(w, initWindow/max(c.sw.established, 1))
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
	for _, c := range s.channels {
		if !c.established {
			continue
		}
		if c.dirtyRecv && c.queueLen() > 0 {
			// DATA that leaves for the peer now carries the ACKs.
			s.sendData(c, now)
		}
		c.queueHaves(s.newHave, now)
		ack := c.ackNow(now)
		if !ack && !s.havesDue(c, now, false) {
			// Nothing to acknowledge or announce yet, but a channel that
			// just opened, or whose peer just announced chunks, or any
			// channel once requests were released, may have room for
			// requests. (The tick looks at the others.)
			if s.pk != nil && (c.peerNews || c.reqEpoch != s.pk.Epoch()) {
				c.peerNews, c.reqEpoch = false, s.pk.Epoch()
				if b := s.appendRequests(c, s.e.out.begin(c.remote), now); len(b) > 4 {
					s.e.out.commit(b, c.addr)
					c.lastSend = now
				}
			}
			continue
		}
		if b := s.control(c, now, ack); len(b) > 4 {
			s.e.out.commit(b, c.addr)
			c.lastSend = now
		}
	}
	s.newHave = s.newHave[:0]
}

// control returns a datagram to c with the HAVEs due, the pending ACKs if
// ack is set, and the REQUESTs its window has room for; it holds only the
// channel ID if none of those is due.
func (s *Swarm) control(c *channel, now time.Time, ack bool) []byte {
	b := s.e.out.begin(c.remote)
	if s.havesDue(c, now, ack) {
		b = s.flushHaves(c, b, now)
	}
	if ack {
		b = s.appendAcks(c, b, now)
	}
	return s.appendRequests(c, b, now)
}

// appendAcks appends to b the ACKs for the chunks received from c since
// the last ones, with a one-way delay sample (RFC 7574 §8.7) taken when the
// newest of them arrived, starting a new datagram when b is full.
func (s *Swarm) appendAcks(c *channel, b []byte, now time.Time) []byte {
	delay := int64(uint64(c.lastAt.UnixMicro()) - c.lastTS)
	for _, r := range c.recvRuns {
		for _, rr := range s.wireRanges(c, r) {
			b = appendMsg(s, c, b, wire.Ack{Range: rr, DelaySample: delay})
		}
	}
	c.recvRuns = c.recvRuns[:0]
	c.recvCount = 0
	c.dirtyRecv = false
	return b
}

// acksLen returns the bytes appendAcks would add.
func (s *Swarm) acksLen(c *channel) int {
	n := 0
	for _, r := range c.recvRuns {
		n += len(s.wireRanges(c, r))
	}
	return n * wire.Ack{}.Len(c.params)
}

// HAVEs to a peer go every haveDelay with other messages to it, or every
// quarter of haveAge in a datagram of their own (see havesDue). They
// announce the aligned blocks of haveBlock chunks completed since, and
// chunks of blocks still incomplete once they have waited haveAge. A HAVE
// per chunk per peer costs nine bytes for every peer per KiB verified: a
// third of a leecher's uplink with 37 peers. Announced by blocks, as
// BitTorrent announces pieces, the chunks of a block take one message; the
// more peers, the longer a partial block waits for its other chunks, and
// the more peers there are to fetch it from meanwhile. maxPendingHaves
// bounds the runs waiting; past it they all go.
const (
	haveDelay       = 250 * time.Millisecond
	haveAgePerPeer  = 200 * time.Millisecond
	haveMaxAge      = 8 * time.Second
	haveBlock       = 16
	maxPendingHaves = 1024
)

// haveAge is how long a chunk of an incomplete block waits before it is
// announced. While no requests wait for our uplink, HAVEs cost bytes it
// has to spare, and they are what brings requests: nothing waits then.
func (s *Swarm) haveAge() time.Duration {
	if s.upBacklog == 0 {
		return haveDelay
	}
	return min(max(time.Duration(s.established)*haveAgePerPeer, haveDelay), haveMaxAge)
}

// pendingHave is a run of verified chunks not yet announced to a peer.
type pendingHave struct {
	r  bin.Range
	at time.Time // when its first chunk was verified
}

// queueHaves adds runs of newly verified chunks to c's pending HAVEs.
func (c *channel) queueHaves(rs []bin.Range, now time.Time) {
	for _, r := range rs {
		if n := len(c.haves); n > 0 && c.haves[n-1].r.End+1 == r.Start {
			c.haves[n-1].r.End = r.End
		} else {
			c.haves = append(c.haves, pendingHave{r: r, at: now})
		}
	}
}

// havesDue tells whether c's pending HAVEs should be looked at now:
// haveDelay after the last time when they can go in a datagram that goes
// to c anyway (piggy), a quarter of haveAge after it when they would take
// a datagram of their own.
func (s *Swarm) havesDue(c *channel, now time.Time, piggy bool) bool {
	every := haveDelay
	if !piggy {
		every = max(s.haveAge()/4, haveDelay)
	}
	return len(c.haves) > 0 && (now.Sub(c.haveSent) >= every || len(c.haves) >= maxPendingHaves)
}

// flushHaves appends to b HAVEs for c's pending chunks whose block is
// complete or which have waited haveAge (all of them when too many
// wait), leaving out runs the peer already has: it will not ask us for
// those.
func (s *Swarm) flushHaves(c *channel, b []byte, now time.Time) []byte {
	if len(c.haves) == 0 {
		return b
	}
	all := len(c.haves) >= maxPendingHaves
	var merged []bin.Range
	merged, s.haveKeep = dueHaves(s.haveOut[:0], s.haveKeep[:0], c.haves, s.have, s.tree.NumChunks(), all, s.haveAge(), now)
	c.haves = append(c.haves[:0], s.haveKeep...)
	s.haveOut = merged
	// Bin addressing would take joined runs apart into more bins.
	runs := announceable(merged, s.have, c.peerHave, !c.params.Addr.IsBin())
	b = s.appendHaves(c, b, func(yield func(bin.Range) bool) {
		for _, r := range runs {
			if !yield(r) {
				return
			}
		}
	})
	c.haveSent = now
	return b
}

// announceable compacts runs, sorted and merged, in place to the HAVEs
// that go to a peer holding peer: it leaves out runs the peer has, and,
// if join, runs separated only by chunks we have (announced before) become
// one range. A HAVE may name chunks again, and one message then does for
// several.
func announceable(runs []bin.Range, have, peer *bin.Set, join bool) []bin.Range {
	out := runs[:0]
	for _, r := range runs {
		if peer.HasRange(r) {
			continue
		}
		if k := len(out); k > 0 && join && have.HasRange(bin.Range{Start: out[k-1].End + 1, End: r.Start - 1}) {
			out[k-1].End = r.End
			continue
		}
		out = append(out, r)
	}
	return out
}

// dueHaves splits pending, runs of chunks verified and not yet announced
// to one peer, among the content's n chunks (have holds the verified
// ones): it appends to out, sorted and merged, the runs to announce now
// (those of complete aligned blocks of haveBlock chunks, those that have
// waited age, or all of them), and to keep the rest.
func dueHaves(out []bin.Range, keep, pending []pendingHave, have *bin.Set, n uint64, all bool, age time.Duration, now time.Time) ([]bin.Range, []pendingHave) {
	for _, h := range pending {
		if all || now.Sub(h.at) >= age {
			out = append(out, h.r)
			continue
		}
		for blk := h.r.Start &^ (haveBlock - 1); blk <= h.r.End; blk += haveBlock {
			seg := bin.Range{Start: max(blk, h.r.Start), End: min(blk+haveBlock-1, h.r.End)}
			if have.HasRange(bin.Range{Start: blk, End: min(blk+haveBlock, n) - 1}) {
				out = append(out, seg)
			} else {
				keep = append(keep, pendingHave{r: seg, at: h.at})
			}
		}
	}
	// Runs queued at different times may be adjacent: one message each
	// for the merged runs.
	slices.SortFunc(out, func(x, y bin.Range) int { return cmp.Compare(x.Start, y.Start) })
	merged := out[:0]
	for _, r := range out {
		if k := len(merged); k > 0 && merged[k-1].End+1 >= r.Start {
			merged[k-1].End = max(merged[k-1].End, r.End)
			continue
		}
		merged = append(merged, r)
	}
	return merged, keep
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
	} else if want < w/8 || len(b) <= 4 && want < w/2 {
		// Top the window up with messages going to the peer anyway; on
		// their own, requests wait until half the window is free, so
		// that they take a datagram per several chunks, not per chunk.
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
	// The peer serves what we asked before this first: allow for that at
	// the rate it delivers (at least minRate, so a peer that has sent
	// nothing yet is not waited for forever).
	backlog := float64(s.pk.Outstanding(c.peer))
	rate := max(c.deliveryRate(now), minRate)
	wait := 2*time.Second + time.Duration(backlog/rate*float64(time.Second))
	if wait > 30*time.Second {
		wait = 30 * time.Second
	}
	c.requests = append(c.requests, request{r: r, sent: now, deadline: now.Add(wait)})
	for _, rr := range s.wireRanges(c, r) {
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

// expireRequests releases requests from c that passed their deadline, or
// that wait on a peer that has sent nothing for stallTimeout, and cancels
// them (RFC 7574 §3.8): the chunks go to other peers now, and a slow peer
// that still sent them would spend its uplink on duplicates. A peer that
// keeps delivering, however slowly, keeps its requests until their
// deadline, which allows for the requests before them at the rate it
// delivers: expiring them sooner sends them to another busy peer, whose
// queue is no shorter.
func (s *Swarm) expireRequests(c *channel, now time.Time) {
	b := s.e.out.begin(c.remote)
	for c.reqsHead < len(c.requests) {
		rq := c.requests[c.reqsHead]
		if s.have.HasRange(rq.r) {
			c.reqsHead++
			continue
		}
		if now.Before(rq.deadline) && now.Sub(later(rq.sent, c.lastData)) < stallTimeout {
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
	for _, rr := range s.wireRanges(c, r) {
		b = appendMsg(s, c, b, wire.Cancel{Range: rr})
	}
	return b
}
