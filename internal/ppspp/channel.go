package ppspp

import (
	"net/netip"
	"time"

	"github.com/nextshare/nextshare/internal/bin"
	"github.com/nextshare/nextshare/internal/ledbat"
	"github.com/nextshare/nextshare/internal/merkle"
	"github.com/nextshare/nextshare/internal/picker"
	"github.com/nextshare/nextshare/internal/ppspp/wire"
)

// channel is one PPSPP channel (RFC 7574 §3.1): our end of a conversation
// with one peer about one swarm. Owned by the loop goroutine.
type channel struct {
	id     uint32 // ours: peers send to it
	remote uint32 // theirs: 0 until their handshake arrives
	addr   netip.AddrPort
	sw     *Swarm
	peer   picker.PeerID
	params wire.Params

	initiator   bool
	established bool
	hsSent      time.Time
	hsTries     int
	created     time.Time
	lastRecv    time.Time
	lastSend    time.Time

	chokedByPeer bool // they will not serve our requests
	chokingPeer  bool // we will not serve theirs
	pexAsked     bool

	// Upload side (RFC 7574 §8.6, RFC 6817).
	reqQ          []queued // FIFO of chunk ranges the peer asked for
	reqHead       int
	reqChunks     uint64
	inflight      []sent // FIFO by send sequence
	inflightHead  int
	inflightSeq   uint64 // sequence number of inflight[inflightHead]
	inflightIdx   map[uint64]uint64
	inflightBytes int
	paceTokens    float64   // bytes the pacer lets us send now
	paceAt        time.Time // when paceTokens was last refilled
	maxAckedSeq   uint64
	lastLoss      time.Time
	lastAck       time.Time // when an ACK last acknowledged data of ours
	cut           *lossCut  // losses of the latest window cut, while undoable
	cc            ledbat.Controller
	rtt           ledbat.RTT
	minRTT        time.Duration // shortest RTT sample; 0 before any
	qd            time.Duration // queuing delay at the last ACK, for the uplink
	peerHave      *bin.Set      // chunks the peer has (HAVE, ACK)
	known         *bin.Set      // tree nodes whose hashes the peer has or was sent
	acked         *bin.Set      // tree nodes the peer has verified (from ACK/HAVE)
	peaksSent     bool
	knownFn       func(bin.Bin) bool // peer has or was sent the node's hash
	ackedFn       func(bin.Bin) bool // peer has verified the node

	// Download side.
	cand       *merkle.Candidates
	pending    map[uint64]pendingChunk
	requests   []request // FIFO of outstanding REQUESTs
	reqsHead   int
	recvRuns   []bin.Range   // chunks verified from this peer in the current batch
	haves      []pendingHave // chunks verified (from anyone) not yet announced to this peer
	haveSent   time.Time     // when HAVEs last went to this peer
	lastTS     uint64        // timestamp of the newest DATA not yet acknowledged
	lastAt     time.Time     // when that DATA was taken in
	recvCount  int           // chunks in recvRuns
	ackDue     time.Time     // when the pending ACKs must go
	rateBytes  uint64        // bytes verified since rateStart
	rateStart  time.Time
	rate       float64       // chunks per second, smoothed
	reqRTT     time.Duration // shortest REQUEST-to-DATA time seen; 0 before any
	lastData   time.Time     // when DATA last came from the peer
	firstData  time.Time     // when the first verified chunk came from the peer
	chunksFrom uint64        // verified chunks from the peer
	peerNews   bool          // the peer announced chunks since we last tried to request
	reqEpoch   uint64        // the picker's epoch when we last tried to request
	bytesFrom  uint64
	bytesTo    uint64
	dirtyRecv  bool
}

type queued struct {
	r    bin.Range
	retx bool
}

type sent struct {
	chunk uint64
	at    time.Time
	size  int
	retx  bool
	acked bool
}

// lossCut records the chunks declared lost since the congestion window was
// last cut, so the cut can be undone if they all turn out not to have been
// lost: receivers hold a chunk's ACK until its uncle hashes arrive, so ACKs
// come late and out of order.
type lossCut struct {
	lost     map[uint64]time.Time // chunk → when its retransmission left; zero before
	spurious int                  // chunks of lost acknowledged as not lost
	prevLoss time.Time            // channel.lastLoss before the cut
}

type pendingChunk struct {
	data []byte
	ts   uint64
}

type request struct {
	r        bin.Range
	sent     time.Time
	deadline time.Time
}

// maxQueuedChunks bounds what one peer may have us queue for it.
const maxQueuedChunks = 1 << 16

// maxCandidates bounds the unverified hashes kept per channel.
const maxCandidates = 4096

// maxPending bounds DATA held back for missing hashes, per channel.
const maxPending = 256

// dupThresh is how many later-sent chunks must be acknowledged before an
// unacknowledged one is taken as lost (as TCP's duplicate-ACK threshold).
const dupThresh = 3

func (c *channel) queueLen() int { return len(c.reqQ) - c.reqHead }

func (c *channel) pushReq(q queued, front bool) {
	if front {
		if c.reqHead > 0 {
			c.reqHead--
			c.reqQ[c.reqHead] = q
		} else {
			c.reqQ = append([]queued{q}, c.reqQ...)
		}
	} else {
		c.reqQ = append(c.reqQ, q)
	}
	c.reqChunks += q.r.Len()
}

// popChunk removes and returns the first queued chunk.
func (c *channel) popChunk() (uint64, bool, bool) {
	for c.reqHead < len(c.reqQ) {
		q := &c.reqQ[c.reqHead]
		if q.r.End < q.r.Start {
			c.reqHead++
			continue
		}
		i := q.r.Start
		retx := q.retx
		if q.r.Start == q.r.End {
			c.reqHead++
		} else {
			q.r.Start++
		}
		c.reqChunks--
		if c.reqHead == len(c.reqQ) {
			c.reqQ = c.reqQ[:0]
			c.reqHead = 0
		}
		return i, retx, true
	}
	return 0, false, false
}

// cancelReq removes the chunks of r from the request queue (RFC 7574 §8.11).
func (c *channel) cancelReq(r bin.Range) {
	var out []queued
	for _, q := range c.reqQ[c.reqHead:] {
		if q.r.End < r.Start || q.r.Start > r.End {
			out = append(out, q)
			continue
		}
		if q.r.Start < r.Start {
			out = append(out, queued{bin.Range{Start: q.r.Start, End: r.Start - 1}, q.retx})
		}
		if q.r.End > r.End {
			out = append(out, queued{bin.Range{Start: r.End + 1, End: q.r.End}, q.retx})
		}
	}
	c.reqQ = out
	c.reqHead = 0
	c.reqChunks = 0
	for _, q := range out {
		c.reqChunks += q.r.Len()
	}
}

func (c *channel) inflightLen() int { return len(c.inflight) - c.inflightHead }
