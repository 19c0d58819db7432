package ppspp

import (
	"sync/atomic"
	"time"

	"github.com/nextshare/nextshare/internal/ppspp/wire"
)

// Message counters are indexed by wire message type (RFC 7574 §8.2), with
// one more slot for KEEPALIVE, which has no type byte.
const (
	// KeepAlive is the counter slot of KEEPALIVE: a datagram that holds a
	// channel ID and no message (RFC 7574 §8.14).
	KeepAlive = 14
	// NumMsgKinds is the number of message counter slots.
	NumMsgKinds = KeepAlive + 1
)

// MsgName returns the RFC 7574 name of counter slot i ("DATA", "KEEPALIVE").
func MsgName(i int) string {
	if i == KeepAlive {
		return "KEEPALIVE"
	}
	return wire.MsgType(i).String()
}

// MsgCounts counts messages by kind, indexed as described at KeepAlive.
type MsgCounts [NumMsgKinds]uint64

// ByName returns the non-zero counts keyed by MsgName.
func (c *MsgCounts) ByName() map[string]uint64 {
	m := make(map[string]uint64)
	for i, n := range c {
		if n > 0 {
			m[MsgName(i)] = n
		}
	}
	return m
}

// Stats counts what the engine did and, above all, what it refused. All
// fields are updated atomically and may be read at any time.
type Stats struct {
	DatagramsIn, DatagramsOut atomic.Uint64
	BytesIn, BytesOut         atomic.Uint64

	// Messages parsed from datagrams addressed to our channels, and
	// messages sent, by kind (see KeepAlive).
	MsgsIn, MsgsOut [NumMsgKinds]atomic.Uint64

	// Refused input, one counter per reason.
	Malformed      atomic.Uint64 // datagram or message that does not parse
	UnknownChannel atomic.Uint64 // destination channel we never allocated
	UnknownSwarm   atomic.Uint64 // handshake for a swarm we do not serve
	BadHandshake   atomic.Uint64 // unsupported version, method or missing option
	BadRange       atomic.Uint64 // chunk range outside the content
	CorruptChunks  atomic.Uint64 // DATA that failed Merkle verification
	BadHashes      atomic.Uint64 // INTEGRITY that contradicted verified hashes
	PeersDropped   atomic.Uint64 // channels closed because the peer misbehaved
	Other          atomic.Uint64 // datagrams handed to the non-PPSPP handler (DHT)

	ChunksVerified  atomic.Uint64
	ChunksPending   atomic.Uint64 // DATA held until its uncle hashes arrive
	Duplicates      atomic.Uint64 // verified chunk received again
	ChunksSent      atomic.Uint64
	Retransmits     atomic.Uint64
	RequestTimeouts atomic.Uint64
	Cancelled       atomic.Uint64 // requests cancelled after a seek
	Losses          atomic.Uint64
	SpuriousLosses  atomic.Uint64 // losses the original's late ACK or HAVE disproved
	CrossedOpens    atomic.Uint64 // a peer's open that crossed ours (one of the two is dropped)
	Channels        atomic.Int64

	// Gauges of the uplink window all channels share (see uplink), as of
	// its latest acknowledgement: window and bytes in flight, and the
	// queuing delay it reads, in nanoseconds.
	UplinkWindow, UplinkInflight, UplinkQueueDelay atomic.Int64
}

// received counts a parsed message; the wire reader yields known types only.
func (s *Stats) received(t wire.MsgType) {
	if int(t) < KeepAlive {
		s.MsgsIn[t].Add(1)
	}
}

// sent counts a message appended to an outgoing datagram.
func (s *Stats) sent(t wire.MsgType) {
	if int(t) < KeepAlive {
		s.MsgsOut[t].Add(1)
	}
}

// Snapshot is a plain copy of Stats.
type Snapshot struct {
	DatagramsIn, DatagramsOut, BytesIn, BytesOut                       uint64
	MsgsIn, MsgsOut                                                    MsgCounts
	Malformed, UnknownChannel, UnknownSwarm, BadHandshake, BadRange    uint64
	CorruptChunks, BadHashes, PeersDropped, Other                      uint64
	ChunksVerified, ChunksPending, Duplicates, ChunksSent, Retransmits uint64
	RequestTimeouts, Cancelled, Losses, SpuriousLosses, CrossedOpens   uint64
	Channels                                                           int64
	UplinkWindow, UplinkInflight                                       int64
	UplinkQueueDelay                                                   time.Duration
}

// Snapshot returns a copy of the counters.
func (s *Stats) Snapshot() Snapshot {
	sn := Snapshot{
		DatagramsIn: s.DatagramsIn.Load(), DatagramsOut: s.DatagramsOut.Load(),
		BytesIn: s.BytesIn.Load(), BytesOut: s.BytesOut.Load(),
		Malformed: s.Malformed.Load(), UnknownChannel: s.UnknownChannel.Load(),
		UnknownSwarm: s.UnknownSwarm.Load(), BadHandshake: s.BadHandshake.Load(),
		BadRange: s.BadRange.Load(), CorruptChunks: s.CorruptChunks.Load(),
		BadHashes: s.BadHashes.Load(), PeersDropped: s.PeersDropped.Load(), Other: s.Other.Load(),
		ChunksVerified: s.ChunksVerified.Load(), ChunksPending: s.ChunksPending.Load(),
		Duplicates: s.Duplicates.Load(), ChunksSent: s.ChunksSent.Load(),
		Retransmits: s.Retransmits.Load(), RequestTimeouts: s.RequestTimeouts.Load(), Cancelled: s.Cancelled.Load(),
		Losses: s.Losses.Load(), SpuriousLosses: s.SpuriousLosses.Load(), CrossedOpens: s.CrossedOpens.Load(), Channels: s.Channels.Load(),
		UplinkWindow: s.UplinkWindow.Load(), UplinkInflight: s.UplinkInflight.Load(),
		UplinkQueueDelay: time.Duration(s.UplinkQueueDelay.Load()),
	}
	for i := range sn.MsgsIn {
		sn.MsgsIn[i] = s.MsgsIn[i].Load()
		sn.MsgsOut[i] = s.MsgsOut[i].Load()
	}
	return sn
}
