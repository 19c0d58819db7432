package ppspp

import (
	"net/netip"
	"time"

	"github.com/nextshare/nextshare/internal/bin"
	"github.com/nextshare/nextshare/internal/merkle"
	"github.com/nextshare/nextshare/internal/ppspp/wire"
)

// perChunkWire estimates the bytes one DATA datagram puts on the wire, for
// the congestion window.
func (s *Swarm) perChunkWire() int { return s.tree.ChunkSize() + 4 + 1 + 8 + 8 + 28 }

func (s *Swarm) onRequest(c *channel, r bin.Range) {
	if !s.tree.Known() || !s.inContent(r) {
		return
	}
	if c.chokingPeer {
		return
	}
	if c.reqChunks+r.Len() > maxQueuedChunks {
		return // the peer asks faster than it could possibly drain
	}
	c.pushReq(queued{r: r}, false)
}

// markAcked records that the peer has verified the subtree b, which implies
// it holds the hashes on b's path to its peak and their siblings.
func (s *Swarm) markAcked(c *channel, b bin.Bin) {
	peak := s.peakOf(b.FirstChunk())
	if peak == bin.None {
		return
	}
	for n := b; ; n = n.Parent() {
		if added, _ := c.acked.Add(uint64(n)); !added && n != b {
			return
		}
		if n == peak || n.Layer() >= peak.Layer() {
			return
		}
		c.acked.Add(uint64(n.Sibling()))
	}
}

// markSent records that the peer will know the hashes on chunk i's path
// once it verifies i.
func (s *Swarm) markSent(c *channel, i uint64) {
	peak := s.peakOf(i)
	for n := bin.Chunk(i); ; n = n.Parent() {
		if added, _ := c.known.Add(uint64(n)); !added {
			return
		}
		if n == peak || n.Layer() >= peak.Layer() {
			return
		}
	}
}

func (s *Swarm) onAck(c *channel, r bin.Range, delayUS int64, now time.Time) {
	if !s.tree.Known() || !s.inContent(r) {
		return
	}
	c.peerHave.AddRange(r)
	s.checkSpurious(c, r, now)
	var ackedBytes, ackedPkts int
	var rtt time.Duration
	for i := r.Start; i <= r.End; i++ {
		s.markAcked(c, bin.Chunk(i))
		seq, ok := c.inflightIdx[i]
		if !ok {
			continue
		}
		delete(c.inflightIdx, i)
		e := &c.inflight[c.inflightHead+int(seq-c.inflightSeq)]
		if e.acked {
			continue
		}
		e.acked = true
		c.inflightBytes -= e.size
		ackedBytes += e.size
		ackedPkts++
		if !e.retx {
			d := now.Sub(e.at)
			rtt = d
			c.rtt.Sample(d)
			if d > 0 && (c.minRTT == 0 || d < c.minRTT) {
				c.minRTT = d
			}
			if rs, ok := c.cc.(interface{ OnRTTSample(time.Duration) }); ok {
				rs.OnRTTSample(d) // its once-per-RTT loss guard then matches ours
			}
		}
		if seq > c.maxAckedSeq {
			c.maxAckedSeq = seq
		}
	}
	if ackedBytes > 0 {
		c.lastAck = now
		delay := time.Duration(delayUS) * time.Microsecond
		// One ACK names a range of chunks, each its own datagram: slow
		// start counts one acknowledgement per datagram.
		if pa, ok := c.cc.(interface {
			OnAckPackets(time.Time, int, int, time.Duration)
		}); ok {
			pa.OnAckPackets(now, ackedBytes, ackedPkts, delay)
		} else {
			c.cc.OnAck(now, ackedBytes, delay)
		}
		s.e.up.onAck(&s.e.stats, c, now, ackedBytes, ackedPkts, rtt, delay)
	}
	// Pop acknowledged entries; an unacknowledged one that dupThresh later
	// ones overtook was lost: queue it again, at the front.
	var lost []uint64
	var lostSent time.Time // when the newest of lost was sent
	for c.inflightHead < len(c.inflight) {
		e := &c.inflight[c.inflightHead]
		seq := c.inflightSeq
		if !e.acked {
			if seq+dupThresh > c.maxAckedSeq {
				break
			}
			delete(c.inflightIdx, e.chunk)
			c.inflightBytes -= e.size
			s.e.up.inflight -= e.size
			lost = append(lost, e.chunk)
			lostSent = later(lostSent, e.at)
		}
		c.inflightHead++
		c.inflightSeq++
	}
	c.compactInflight()
	if len(lost) > 0 {
		s.e.stats.Losses.Add(uint64(len(lost)))
		if lostSent.After(c.lastLoss) {
			// Losses of datagrams sent before the last cut belong to
			// its congestion event (RFC 6582 §3.2, by time).
			if c.qd > s.e.up.qd+ownQueue {
				// The path to this peer has a queue of its own: its
				// window answers for it. A loss on a queue all channels
				// share is the uplink's to answer.
				c.cc.OnLoss(now)
			}
			s.e.up.onLoss(now, lostSent)
			c.cut = &lossCut{lost: make(map[uint64]time.Time, len(lost)), prevLoss: c.lastLoss}
			c.lastLoss = now
		}
		if c.cut != nil {
			// Losses within a round trip of the cut belong to it.
			for _, i := range lost {
				if _, ok := c.cut.lost[i]; !ok {
					c.cut.lost[i] = time.Time{}
				}
			}
		}
		for j := len(lost) - 1; j >= 0; j-- {
			c.pushReq(queued{r: bin.Range{Start: lost[j], End: lost[j]}, retx: true}, true)
		}
	}
}

// checkSpurious looks for chunks of the latest cut among r, which the peer
// acknowledged or announced at now. One whose retransmission had not left,
// or left less than ¾ of the minimum RTT before (too soon for this to
// answer it), was not lost: its ACK was only late or reordered (the Eifel
// idea, RFC 3522, with timing in place of a timestamp echo). When every
// loss of the cut proves spurious, the cut is undone; the retransmissions
// still queued are skipped because the peer has the chunks. An answer that
// may be to the retransmission leaves the cut standing.
func (s *Swarm) checkSpurious(c *channel, r bin.Range, now time.Time) {
	cut := c.cut
	if cut == nil {
		return
	}
	check := func(i uint64, retxAt time.Time) {
		if !retxAt.IsZero() && (c.minRTT == 0 || now.Sub(retxAt) >= c.minRTT*3/4) {
			c.cut = nil
			return
		}
		delete(cut.lost, i)
		cut.spurious++
		s.e.stats.SpuriousLosses.Add(1)
	}
	if r.Len() <= uint64(len(cut.lost)) {
		for i := r.Start; i <= r.End && c.cut != nil; i++ {
			if at, ok := cut.lost[i]; ok {
				check(i, at)
			}
		}
	} else {
		for i, at := range cut.lost {
			if i >= r.Start && i <= r.End {
				if check(i, at); c.cut == nil {
					break
				}
			}
		}
	}
	if c.cut != nil && len(cut.lost) == 0 {
		c.cut = nil
		if u, ok := c.cc.(interface{ UndoLoss() bool }); ok {
			u.UndoLoss()
		}
		c.lastLoss = cut.prevLoss
		s.e.up.cc.UndoLoss()
	}
}

func (c *channel) compactInflight() {
	if c.inflightHead == len(c.inflight) {
		c.inflight = c.inflight[:0]
		c.inflightHead = 0
	} else if c.inflightHead > 4096 && c.inflightHead*2 > len(c.inflight) {
		n := copy(c.inflight, c.inflight[c.inflightHead:])
		c.inflight = c.inflight[:n]
		c.inflightHead = 0
	}
}

// ackedRecently is how long after its last ACK a peer that keeps talking
// to us counts as reachable, so that a timeout on its channel is taken as
// a loss rather than as a dead path.
const ackedRecently = 5 * time.Second

// checkRTO retransmits everything in flight when the oldest datagram has
// waited longer than the retransmission timeout (RFC 6298, RFC 6817 §2.4.2).
func (s *Swarm) checkRTO(c *channel, now time.Time) {
	if c.inflightLen() == 0 {
		return
	}
	first := c.inflight[c.inflightHead]
	if now.Sub(first.at) < c.rtt.RTO() {
		return
	}
	var lost []uint64
	for _, e := range c.inflight[c.inflightHead:] {
		if !e.acked {
			lost = append(lost, e.chunk)
			delete(c.inflightIdx, e.chunk)
		}
	}
	c.inflightSeq += uint64(len(c.inflight) - c.inflightHead)
	c.inflight = c.inflight[:0]
	c.inflightHead = 0
	s.e.up.inflight -= c.inflightBytes // one silent peer does not stall the others
	c.inflightBytes = 0
	if c.lastRecv.After(first.at) && now.Sub(c.lastAck) < ackedRecently && c.qd <= s.e.up.qd+ownQueue {
		// The peer went on talking to us after the oldest datagram left,
		// and acknowledged our data not long ago, through a path with no
		// queue of its own: the path works and the datagrams were lost,
		// most likely to our own uplink's queue overflowing, which takes
		// a channel's few datagrams in flight all at once. That is the
		// uplink's loss to answer; a timeout would shrink this channel to
		// one datagram and back off its timer, stalling it for seconds
		// while the uplink idles.
		s.e.up.onLoss(now, first.at)
	} else {
		c.cc.OnTimeout(now)
		c.rtt.Backoff() // RFC 6298 §5.5; a peer that vanished is probed ever more rarely
	}
	c.cut = nil // a timeout is never undone
	s.e.stats.Losses.Add(uint64(len(lost)))
	for j := len(lost) - 1; j >= 0; j-- {
		c.pushReq(queued{r: bin.Range{Start: lost[j], End: lost[j]}, retx: true}, true)
	}
}

// refillPacer adds the bytes c may send since the last refill at the rate
// cwnd/SRTT, twice that in slow start, and reports whether pacing applies.
// Sending a whole window at once, as one GSO burst, builds a queue at the
// bottleneck that LEDBAT reads as congestion: it leaves slow start early
// and then grows a fraction of a datagram per round trip. Paced, the queue
// stays near empty while the window grows. In slow start the window
// doubles every round trip, which a sender paced at cwnd/SRTT cannot fill
// (it sends this round trip's window at the last one's rate): like Linux
// TCP (tcp_pacing_ss_ratio, 200%), the pacer then runs at twice the rate.
// The bucket holds at most a quarter window (and never less than
// pacerMinBurst datagrams), so bursts stay short; before any RTT sample
// there is no pacing.
func (s *Swarm) refillPacer(c *channel, now time.Time, per int) bool {
	srtt := c.rtt.SRTT()
	if srtt <= 0 {
		return false
	}
	cwnd := float64(c.cc.Window())
	if ss, ok := c.cc.(interface{ InSlowStart() bool }); ok && ss.InSlowStart() {
		srtt /= 2
	}
	if !c.paceAt.IsZero() {
		c.paceTokens += cwnd * float64(now.Sub(c.paceAt)) / float64(srtt)
	}
	c.paceAt = now
	c.paceTokens = min(c.paceTokens, max(cwnd/4, float64(pacerMinBurst*per)))
	return true
}

// pacerMinBurst is the smallest burst, in datagrams, the pacer allows.
const pacerMinBurst = 16

// sendData sends queued chunks to c as far as its congestion window, the
// uplink's and the pacer allow, one DATA datagram per chunk, each after
// the INTEGRITY messages the peer needs for it (peaks, then uncles largest
// first, RFC 7574 §5.6).
func (s *Swarm) sendData(c *channel, now time.Time) {
	if !c.established || c.chokingPeer || c.queueLen() == 0 || !s.tree.Known() {
		return
	}
	per := s.perChunkWire()
	have := s.have
	pace := s.refillPacer(c, now, per)
	for round := 0; round < 8 && c.queueLen() > 0; round++ {
		budget := c.cc.Window() - c.inflightBytes
		if budget < per {
			if c.inflightLen() > 0 {
				return
			}
			budget = per
		}
		if budget = min(budget, s.e.up.room(per)); budget < per {
			return
		}
		if pace && int(c.paceTokens) < budget {
			budget = int(c.paceTokens)
			if budget < per {
				s.e.paced = true // the tick must come back soon
				return
			}
		}
		chunks, retxs := s.scratch[:0], s.retxs[:0]
		for len(chunks) < 64 && budget >= per {
			i, retx, ok := c.popChunk()
			if !ok {
				break
			}
			if !have.Has(i) || c.peerHave.Has(i) {
				continue
			}
			if _, busy := c.inflightIdx[i]; busy {
				continue
			}
			chunks = append(chunks, i)
			retxs = append(retxs, retx)
			budget -= per
		}
		s.scratch, s.retxs = chunks, retxs
		if len(chunks) == 0 {
			return
		}
		// Peaks go first on a channel, and again while the peer has
		// verified nothing (the datagram that carried them may be lost).
		peaks := !c.peaksSent || retxs[0] && c.acked.Count() == 0
		c.peaksSent = true
		ts := uint64(now.UnixMicro())
		if len(chunks) <= piggybackMax {
			// A few chunks, as a channel sharing a slow uplink with many
			// others sends: each carries its own hashes in front of it
			// (RFC 7574 §5.6), which saves a datagram per chunk.
			for k, i := range chunks {
				nodes := s.integrityFor(c, i, retxs[k], peaks && k == 0)
				s.sendChunk(c, nodes, i, retxs[k], ts, per, pace, now)
			}
		} else {
			// A burst: all the hashes in datagrams of their own, then
			// DATA datagrams all of one size, which leave in one GSO send.
			nodes := s.nodes[:0]
			for k, i := range chunks {
				nodes = append(nodes, s.integrityFor(c, i, retxs[k], peaks && k == 0)...)
			}
			s.nodes = nodes
			s.sendIntegrity(c, nodes)
			for k, i := range chunks {
				s.sendChunk(c, nil, i, retxs[k], ts, per, pace, now)
			}
		}
		c.lastSend = now
	}
}

// piggybackMax is the largest batch whose chunks carry their INTEGRITY
// messages in their own DATA datagrams.
const piggybackMax = 2

// integrityFor returns the hashes the peer needs to verify chunk i (the
// peaks first if peaks is set) and records them as sent. A retransmission
// repeats every hash the peer has not acknowledged, since the datagram
// that carried them may be lost too. The slice is valid until the next
// call.
func (s *Swarm) integrityFor(c *channel, i uint64, retx, peaks bool) []merkle.Node {
	nodes := s.chunkNodes[:0]
	if peaks {
		for _, p := range s.tree.Peaks() {
			nodes = append(nodes, p)
			c.known.Add(uint64(p.Bin))
		}
	}
	from := len(nodes)
	if retx {
		nodes = s.tree.Uncles(nodes, i, c.ackedFn)
	} else {
		nodes = s.tree.Uncles(nodes, i, c.knownFn)
	}
	for _, nd := range nodes[from:] {
		c.known.Add(uint64(nd.Bin))
	}
	s.markSent(c, i)
	s.chunkNodes = nodes
	return nodes
}

// sendChunk sends chunk i to c in one DATA datagram, behind the INTEGRITY
// messages of nodes if they fit in it (in a datagram of their own before it
// if not), and records it in flight.
func (s *Swarm) sendChunk(c *channel, nodes []merkle.Node, i uint64, retx bool, ts uint64, per int, pace bool, now time.Time) {
	data, err := s.st.Chunk(i)
	if err != nil {
		return
	}
	m := wire.Data{Range: bin.Range{Start: i, End: i}, Timestamp: ts, Payload: data}
	size := 4 + m.Len(c.params)
	integ := 0
	for _, nd := range nodes {
		integ += wire.Integrity{Range: nd.Bin.Range(), Hash: nd.Hash}.Len(c.params)
	}
	if size+integ > maxPayload {
		// Too many hashes to fit: they go first, on their own. (Before
		// this datagram is begun: the sender builds one at a time.)
		s.sendIntegrity(c, nodes)
		nodes, integ = nil, 0
	}
	b := s.e.out.begin(c.remote)
	if c.dirtyRecv && size+integ+s.acksLen(c) <= maxPayload {
		// ACKs for what the peer sent us ride along.
		b = s.appendAcks(c, b, now)
	}
	for _, nd := range nodes {
		b = wire.Integrity{Range: nd.Bin.Range(), Hash: nd.Hash}.Append(b, c.params)
	}
	s.e.stats.MsgsOut[wire.TypeIntegrity].Add(uint64(len(nodes)))
	b = m.Append(b, c.params)
	s.e.stats.sent(wire.TypeData)
	s.e.out.commit(b, c.addr)
	c.inflightIdx[i] = c.inflightSeq + uint64(c.inflightLen())
	c.inflight = append(c.inflight, sent{chunk: i, at: now, size: per, retx: retx})
	c.inflightBytes += per
	s.e.up.inflight += per
	if pace {
		c.paceTokens -= float64(per)
	}
	c.bytesTo += uint64(len(data))
	s.e.stats.ChunksSent.Add(1)
	if retx {
		s.e.stats.Retransmits.Add(1)
		if c.cut != nil {
			if at, ok := c.cut.lost[i]; ok && at.IsZero() {
				c.cut.lost[i] = now
			}
		}
	}
}

func (s *Swarm) sendIntegrity(c *channel, nodes []merkle.Node) {
	if len(nodes) == 0 {
		return
	}
	b := s.e.out.begin(c.remote)
	for _, nd := range nodes {
		b = appendMsg(s, c, b, wire.Integrity{Range: nd.Bin.Range(), Hash: nd.Hash})
	}
	s.e.out.commit(b, c.addr)
}

// pump runs the upload side of every channel.
func (s *Swarm) pump(now time.Time) {
	// With the uplink's window full, no channel may send: most pumps in a
	// busy swarm, each of which would otherwise visit every channel's
	// windows and pacer.
	room := s.e.up.room(s.perChunkWire()) >= s.perChunkWire()
	backlog := 0
	for _, c := range s.channels {
		if room {
			s.sendData(c, now)
		}
		backlog += c.queueLen()
	}
	s.upBacklog = backlog
}

// housekeepEvery is how often onTick looks at every channel's timers
// (retransmission, request deadlines, HAVEs, keepalives). The engine ticks
// more often, for the pacers; with dozens of channels per process and
// dozens of processes per machine, visiting each channel every tick costs
// more than the data.
const housekeepEvery = 20 * time.Millisecond

// checkpointEvery is how often a download's store checkpoints: syncs its
// content and state to disk, so that a power loss costs at most the last
// few seconds of chunks. A process that is killed loses nothing by it (the
// page cache keeps what it wrote, and Recover re-verifies chunks the last
// checkpoint does not name), so the cadence is a matter of disk work: each
// checkpoint is a sync of the content file and a journal commit, and with
// dozens of nodes on one machine a sync every second took 4% of it.
const checkpointEvery = 5 * time.Second

func (s *Swarm) onTick(now time.Time) {
	if now.Sub(s.lastHousekeep) < housekeepEvery {
		return
	}
	s.lastHousekeep = now
	s.rankPeers(now)
	s.hurry(now)
	ka := s.e.cfg.KeepAlive
	for _, c := range s.channels {
		if !c.established {
			if now.Sub(c.hsSent) >= time.Second<<min(c.hsTries-1, 4) {
				if c.hsTries >= 5 {
					s.e.dropChannel(c, "no handshake reply")
					continue
				}
				s.sendHandshake(c, now)
			}
			continue
		}
		if now.Sub(c.lastRecv) > 6*ka {
			s.e.sendClose(c)
			s.e.dropChannel(c, "timed out")
			continue
		}
		s.checkRTO(c, now)
		s.expireRequests(c, now)
		if b := s.control(c, now, c.ackNow(now)); len(b) > 4 {
			s.e.out.commit(b, c.addr)
			c.lastSend = now
		} else if now.Sub(c.lastSend) >= ka {
			s.e.out.commit(b, c.addr) // KEEPALIVE: the channel ID alone (§8.14)
			s.e.stats.MsgsOut[KeepAlive].Add(1)
			c.lastSend = now
		}
	}
	if s.dirty && now.Sub(s.lastCkpt) >= checkpointEvery {
		s.checkpoint()
		s.lastCkpt = now
	}
}

// onPexReq answers with the addresses of other peers in the swarm
// (RFC 7574 §8.13).
func (s *Swarm) onPexReq(c *channel, now time.Time) {
	b := s.e.out.begin(c.remote)
	n := 0
	for _, o := range s.channels {
		if o == c || !o.established || n >= 16 {
			continue
		}
		var m wire.Message
		if o.addr.Addr().Is4() {
			m = wire.PexResV4{Addr: o.addr}
		} else {
			m = wire.PexResV6{Addr: o.addr}
		}
		if len(b)+m.Len(c.params) > maxPayload {
			break
		}
		b = m.Append(b, c.params)
		s.e.stats.sent(m.Type())
		n++
	}
	if n > 0 {
		s.e.out.commit(b, c.addr)
		c.lastSend = now
	}
}

func (s *Swarm) onPexRes(a netip.AddrPort, now time.Time) {
	if s.pk == nil {
		return // a seeder does not need more peers; they come to it
	}
	s.connect(a.Addr().Unmap(), a.Port(), now)
}
