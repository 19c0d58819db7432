package ppspp

import (
	"bytes"
	"net/netip"
	"time"

	"github.com/nextshare/nextshare/internal/bin"
	"github.com/nextshare/nextshare/internal/ledbat"
	"github.com/nextshare/nextshare/internal/merkle"
	"github.com/nextshare/nextshare/internal/ppspp/wire"
)

// protocolVersion is the PPSPP version we announce (RFC 7574 §7.2);
// libswift speaks 1 and misbehaves with 2.
const protocolVersion = 1

// Handshake option values (RFC 7574 §7.5).
const (
	cipmMerkle = 1
)

// minRTO bounds a channel's retransmission timeout from below, as Linux
// TCP's does (TCP_RTO_MIN, though higher), rather than at RFC 6298's one
// second: a channel that shares a slow uplink with dozens of others sends
// a few chunks a second, too few for three later ones to reveal a loss
// soon, so losses are found by the timer, and a second, doubled at each
// further timeout, stalls the channel until its requests expire.
const minRTO = 500 * time.Millisecond

// initCwnd is a channel's first congestion window: ten DATA datagrams
// (RFC 6928's initial window), so the first seconds of a video, which decide
// how soon playback starts, take fewer round trips than with RFC 3390's
// three or four.
const initCwnd = 10 * ledbat.DefaultMSS

func (e *Engine) handleBatch(batch []*inbound, now time.Time) {
	for _, in := range batch {
		e.handleDatagram(in, now)
		putInbound(in)
	}
	for _, s := range e.swarms {
		if err := s.st.Flush(); err != nil {
			s.fail(err)
		} else if len(s.newHave) > 0 {
			s.changes.notify()
		}
		s.afterBatch(now)
	}
}

func (e *Engine) handleDatagram(in *inbound, now time.Time) {
	id, err := e.rd.Reset(in.buf, wire.DefaultParams)
	if err != nil {
		e.stats.Malformed.Add(1)
		return
	}
	if id == 0 {
		e.handleOpen(in, now)
		return
	}
	c := e.channels[id]
	if c == nil || c.addr != in.from {
		e.stats.UnknownChannel.Add(1)
		return
	}
	if len(in.buf) == 4 {
		e.stats.MsgsIn[KeepAlive].Add(1)
	}
	e.rd.Reset(in.buf, c.params)
	e.processMessages(c, in, now)
}

// processMessages handles the messages of a datagram addressed to c.
func (e *Engine) processMessages(c *channel, in *inbound, now time.Time) {
	c.lastRecv = now
	s := c.sw
	var integ []merkle.Node
	for e.rd.Next(&e.msg) {
		m := &e.msg
		e.stats.received(m.Type)
		if m.Type != wire.TypeHandshake && !c.established {
			continue // nothing counts before the peer's handshake
		}
		switch m.Type {
		case wire.TypeHandshake:
			if !e.onHandshake(c, m, now) {
				return
			}
		case wire.TypeData:
			if len(integ) > 0 && !s.tree.Known() {
				s.tryPeaks(c, integ)
				integ = integ[:0]
			}
			s.onData(c, m, in, now)
		case wire.TypeAck:
			s.onAck(c, m.Range, m.DelaySample, now)
		case wire.TypeHave:
			s.onHave(c, m.Range, now)
		case wire.TypeIntegrity:
			if !s.tree.Known() {
				integ = append(integ, merkle.Node{Bin: rangeBin(m.Range), Hash: m.Hash})
			}
			s.onIntegrity(c, m.Range, m.Hash)
		case wire.TypeRequest:
			s.onRequest(c, m.Range)
		case wire.TypeCancel:
			c.cancelReq(m.Range)
		case wire.TypeChoke:
			c.chokedByPeer = true
			s.releaseRequests(c)
		case wire.TypeUnchoke:
			c.chokedByPeer = false
		case wire.TypePexReq:
			s.onPexReq(c, now)
		case wire.TypePexResV4, wire.TypePexResV6:
			s.onPexRes(m.Addr, now)
		case wire.TypeSignedIntegrity, wire.TypePexResCert:
			// Live streams and certificates are not handled by VoD swarms.
		}
		if e.channels[c.id] != c {
			return // dropped while handling
		}
	}
	if err := e.rd.Err(); err != nil {
		e.stats.Malformed.Add(1)
		e.log.Debug("malformed datagram", "from", in.from, "err", err)
	}
	if len(integ) > 0 && !s.tree.Known() {
		s.tryPeaks(c, integ)
	}
	if len(c.pending) > 0 {
		s.retryPending(c, now)
	}
}

// rangeBin returns the bin of an aligned range, or None.
func rangeBin(r bin.Range) bin.Bin {
	b, ok := r.IsBin()
	if !ok {
		return bin.None
	}
	return b
}

// handleOpen handles a datagram to channel 0: a peer opening a channel
// (RFC 7574 §8.4). The first message must be a HANDSHAKE with a swarm ID.
func (e *Engine) handleOpen(in *inbound, now time.Time) {
	if !e.rd.Next(&e.msg) || e.msg.Type != wire.TypeHandshake {
		e.stats.Malformed.Add(1)
		return
	}
	e.stats.received(wire.TypeHandshake)
	hs := e.msg.Handshake
	if hs.SrcChannel == 0 || !hs.Options.Has(2) {
		e.stats.BadHandshake.Add(1)
		return
	}
	s := e.swarms[string(hs.Options.SwarmID)]
	if s == nil {
		e.stats.UnknownSwarm.Add(1)
		return
	}
	if s.banned[in.from] {
		return
	}
	for _, c := range s.channels {
		if c.addr != in.from {
			continue
		}
		if c.remote == hs.SrcChannel {
			// A repeated handshake (our reply was lost): answer it again.
			s.sendHandshakeReply(c, now)
			return
		}
		if c.initiator && !c.established && c.id != hs.SrcChannel {
			// Crossed opens: each side learnt of the other (from a tracker
			// or PEX) and opened a channel before the other's arrived.
			// Both keep the one whose initiator's channel ID is smaller,
			// so that the pair shares one channel, not two that each carry
			// every HAVE.
			e.stats.CrossedOpens.Add(1)
			if c.id < hs.SrcChannel {
				return // the peer drops its own when ours arrives
			}
			e.dropChannel(c, "crossed open")
			break
		}
	}
	params, ok := s.acceptOptions(&hs.Options)
	if !ok {
		e.stats.BadHandshake.Add(1)
		return
	}
	if len(s.channels) >= e.cfg.MaxPeers {
		return
	}
	c := s.newChannel(in.from, false, now)
	c.remote = hs.SrcChannel
	c.setParams(params)
	s.peerUp(c)
	c.lastRecv = now
	s.sendHandshakeReply(c, now)
	// Anything after the handshake in the same datagram.
	e.rd.Reset(in.buf, c.params)
	e.rd.Next(&e.msg)
	e.processMessages(c, in, now)
}

// acceptOptions checks a peer's handshake options against what the swarm
// supports and returns the wire parameters to use. We do not negotiate:
// the answer mirrors the initiator's methods, as libswift expects.
func (s *Swarm) acceptOptions(o *wire.Options) (wire.Params, bool) {
	if o.Has(0) && o.Version < protocolVersion || o.Has(1) && o.MinVersion > protocolVersion {
		return wire.Params{}, false
	}
	if o.Has(3) && o.IntegrityMethod != cipmMerkle {
		return wire.Params{}, false
	}
	f := merkle.SHA1
	if o.Has(4) {
		f = merkle.Func(o.HashFunc)
	}
	if f != s.tree.Func() {
		return wire.Params{}, false
	}
	addr := wire.ChunkRange32
	if o.Has(6) {
		addr = o.ChunkAddr
	}
	if addr.Size() == 0 {
		return wire.Params{}, false
	}
	if o.Has(9) && int(o.ChunkSize) != s.tree.ChunkSize() {
		return wire.Params{}, false
	}
	return wire.Params{Addr: addr, HashSize: f.Size(), SigSize: 64, ChunkSize: uint32(s.tree.ChunkSize())}, true
}

// options returns the handshake options we send: libswift's set, never 8
// or 9 (libswift drops or mis-parses them).
func (s *Swarm) options(c *channel, withSwarmID bool) wire.Options {
	var o wire.Options
	o.Present = 1<<0 | 1<<1 | 1<<3 | 1<<4 | 1<<6
	o.Version, o.MinVersion = protocolVersion, protocolVersion
	o.IntegrityMethod = cipmMerkle
	o.HashFunc = uint8(s.tree.Func())
	o.ChunkAddr = c.params.Addr
	if withSwarmID {
		o.Present |= 1 << 2
		o.SwarmID = s.root
	}
	return o
}

func (c *channel) setParams(p wire.Params) {
	c.params = p
	c.sw.e.params.Store(c.id, p)
}

func (s *Swarm) newChannel(addr netip.AddrPort, initiator bool, now time.Time) *channel {
	e := s.e
	s.nextPeer++
	c := &channel{
		id:          e.newChannelID(),
		addr:        addr,
		sw:          s,
		peer:        s.nextPeer,
		initiator:   initiator,
		created:     now,
		lastRecv:    now,
		lastSend:    now,
		chokingPeer: e.cfg.NoUpload,
		inflightIdx: make(map[uint64]uint64),
		rtt:         ledbat.RTT{MinRTO: minRTO},
		cc:          ledbat.New(ledbat.Config{InitCwnd: initCwnd}, now),
		peerHave:    bin.NewSet(0, 0),
		known:       bin.NewSet(0, 0),
		acked:       bin.NewSet(0, 0),
		cand:        merkle.NewCandidates(maxCandidates),
		pending:     make(map[uint64]pendingChunk),
		rateStart:   now,
	}
	c.knownFn = func(b bin.Bin) bool { return c.acked.Has(uint64(b)) || c.known.Has(uint64(b)) }
	c.ackedFn = func(b bin.Bin) bool { return c.acked.Has(uint64(b)) }
	c.setParams(wire.Params{Addr: wire.ChunkRange32, HashSize: s.tree.Func().Size(), SigSize: 64, ChunkSize: uint32(s.tree.ChunkSize())})
	e.channels[c.id] = c
	s.channels[c.id] = c
	e.stats.Channels.Add(1)
	return c
}

// connect opens a channel to addr as the initiator.
func (s *Swarm) connect(ip netip.Addr, port uint16, now time.Time) {
	addr := netip.AddrPortFrom(ip, port)
	if !addr.IsValid() || port == 0 || s.banned[addr] || len(s.channels) >= s.e.cfg.MaxPeers {
		return
	}
	if local := s.e.LocalAddr(); local.Port() == port && (local.Addr() == ip || local.Addr().IsUnspecified() && ip.IsLoopback()) {
		return // ourselves
	}
	for _, c := range s.channels {
		if c.addr == addr {
			return
		}
	}
	c := s.newChannel(addr, true, now)
	s.sendHandshake(c, now)
}

func (s *Swarm) sendHandshake(c *channel, now time.Time) {
	b := s.e.out.begin(0)
	b = wire.Handshake{SrcChannel: c.id, Options: s.options(c, true)}.Append(b, c.params)
	s.e.stats.sent(wire.TypeHandshake)
	b = s.appendOpening(c, b, now)
	s.e.out.commit(b, c.addr)
	c.hsSent = now
	c.hsTries++
	c.lastSend = now
}

// sendHandshakeReply answers an initiator with our handshake and our
// availability in the same datagram, as libswift does.
func (s *Swarm) sendHandshakeReply(c *channel, now time.Time) {
	b := s.e.out.begin(c.remote)
	b = wire.Handshake{SrcChannel: c.id, Options: s.options(c, false)}.Append(b, c.params)
	s.e.stats.sent(wire.TypeHandshake)
	b = s.appendHaves(c, b, func(yield func(bin.Range) bool) { s.have.Ranges(yield) })
	s.e.out.commit(b, c.addr)
	c.lastSend = now
}

// appendHaves appends HAVE messages for the ranges iter yields, starting
// new datagrams to c as needed; it returns the unsent last datagram.
func (s *Swarm) appendHaves(c *channel, b []byte, iter func(func(bin.Range) bool)) []byte {
	iter(func(r bin.Range) bool {
		for _, rr := range s.wireRanges(c, r) {
			b = appendMsg(s, c, b, wire.Have{Range: rr})
		}
		return true
	})
	return b
}

// wireRanges splits r into what c's chunk addressing can carry: aligned
// bins for bin addressing, r itself for chunk ranges. (libswift sends only
// aligned blocks, but takes any chunk range apart into bins itself, in
// every message: one message per run saves a HAVE per bin of it.)
func (s *Swarm) wireRanges(c *channel, r bin.Range) []bin.Range {
	s.ranges = s.ranges[:0]
	if c.params.Addr.IsBin() {
		for _, b := range r.Bins() {
			s.ranges = append(s.ranges, b.Range())
		}
		return s.ranges
	}
	return append(s.ranges, r)
}

// onHandshake handles a HANDSHAKE on an existing channel: the reply to our
// initiation, or an explicit close (source channel 0, RFC 7574 §8.4).
func (e *Engine) onHandshake(c *channel, m *wire.Msg, now time.Time) bool {
	hs := &m.Handshake
	if hs.SrcChannel == 0 {
		e.dropChannel(c, "closed by peer")
		return false
	}
	if c.established {
		return true
	}
	if hs.Options.Has(2) && !bytes.Equal(hs.Options.SwarmID, c.sw.root) {
		e.stats.BadHandshake.Add(1)
		e.dropChannel(c, "swarm mismatch")
		return false
	}
	p, ok := c.sw.acceptOptions(&hs.Options)
	if !ok || p.Addr != c.params.Addr {
		// libswift refuses methods it does not support by closing.
		e.stats.BadHandshake.Add(1)
		e.dropChannel(c, "handshake refused")
		return false
	}
	c.remote = hs.SrcChannel
	c.setParams(p)
	c.sw.peerUp(c)
	c.sw.announceAll(c, now)
	return true
}

// announceAll tells the peer of a channel we opened what we have: the
// responder's reply carried its HAVEs (sendHandshakeReply), and from now
// on the chunks we verify are queued for it, but the chunks verified before
// the peer answered would otherwise never be announced to it. In a flash
// crowd those are the first chunks a leecher got from the seeder, which
// the peers it meets through PEX need most.
func (s *Swarm) announceAll(c *channel, now time.Time) {
	if s.have.Count() == 0 {
		return
	}
	b := s.e.out.begin(c.remote)
	b = s.appendHaves(c, b, func(yield func(bin.Range) bool) { s.have.Ranges(yield) })
	s.e.out.commit(b, c.addr)
	c.lastSend = now
}

// sendClose sends an explicit close: a HANDSHAKE with source channel 0 and
// no options.
func (e *Engine) sendClose(c *channel) {
	if c.remote == 0 {
		return
	}
	b := e.out.begin(c.remote)
	b = append(b, byte(wire.TypeHandshake), 0, 0, 0, 0, 0xff)
	e.stats.sent(wire.TypeHandshake)
	e.out.commit(b, c.addr)
}

// dropChannel forgets c.
func (e *Engine) dropChannel(c *channel, reason string) {
	if e.channels[c.id] != c {
		return
	}
	s := c.sw
	e.log.Debug("channel closed", "peer", c.addr, "reason", reason)
	delete(e.channels, c.id)
	delete(s.channels, c.id)
	if c.established {
		s.established--
	}
	e.up.inflight -= c.inflightBytes
	e.params.Delete(c.id)
	if s.pk != nil {
		s.pk.RemovePeer(c.peer)
	}
	s.bytesFrom[c.addr] += c.bytesFrom
	s.bytesTo[c.addr] += c.bytesTo
	e.stats.Channels.Add(-1)
}

// ban drops c and refuses its address for this swarm from now on.
func (s *Swarm) ban(c *channel, reason string) {
	s.banned[c.addr] = true
	s.e.stats.PeersDropped.Add(1)
	s.e.log.Info("peer dropped", "peer", c.addr, "reason", reason)
	s.e.sendClose(c)
	s.e.dropChannel(c, reason)
}
