package ppspp

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nextshare/nextshare/internal/bin"
	"github.com/nextshare/nextshare/internal/merkle"
	"github.com/nextshare/nextshare/internal/picker"
	"github.com/nextshare/nextshare/internal/store"
)

// Swarm is one piece of content served and, if incomplete, downloaded by
// the engine. Its methods are safe for concurrent use.
type Swarm struct {
	e       *Engine
	content *Content
	tree    *merkle.Tree
	st      *store.Store
	root    []byte

	done     chan struct{}
	doneOnce sync.Once
	failed   chan struct{}
	changes  changes // readers waiting for chunks; see Changed
	sizeHint atomic.Int64
	err      error // why the swarm failed; set before failed is closed

	// Fields below are owned by the loop goroutine.
	pk            *picker.Picker // nil once complete
	have          *bin.Set       // verified chunks: a copy of the store's, kept by the loop
	channels      map[uint32]*channel
	established   int // channels whose handshake completed
	lastHousekeep time.Time
	upBacklog     int // requests queued on all channels after the last pump
	nextPeer      picker.PeerID
	banned        map[netip.AddrPort]bool
	peaks         []bin.Bin
	newHave       []bin.Range // chunks verified during this batch, for HAVE
	bytesFrom     map[netip.AddrPort]uint64
	bytesTo       map[netip.AddrPort]uint64
	lastCkpt      time.Time
	dirty         bool
	started       time.Time
	scratch       []uint64
	retxs         []bool
	nodes         []merkle.Node
	chunkNodes    []merkle.Node
	haveOut       []bin.Range
	haveKeep      []pendingHave
	ranges        []bin.Range
	play          playback // where readers are; see SetReaders
}

func newSwarm(e *Engine, c *Content) *Swarm {
	s := &Swarm{
		e:         e,
		content:   c,
		tree:      c.Tree,
		st:        c.Store,
		root:      append([]byte(nil), c.Tree.Root()...),
		done:      make(chan struct{}),
		failed:    make(chan struct{}),
		channels:  make(map[uint32]*channel),
		banned:    make(map[netip.AddrPort]bool),
		bytesFrom: make(map[netip.AddrPort]uint64),
		bytesTo:   make(map[netip.AddrPort]uint64),
		started:   time.Now(),
		have:      c.Store.Have().Clone(),
	}
	s.sizeHint.Store(-1)
	if c.Tree.Known() {
		s.layout()
	}
	if s.complete() {
		s.finish()
	} else {
		cfg := picker.DefaultConfig()
		cfg.Spread = true // readers set urgent ranges, which keep their order
		// Leechers that start together must break ties differently, or
		// they ask the seeder for the same chunks and have nothing to
		// trade: the seed mixes the clock with our address and the
		// content, which differ between peers even when clocks agree (in
		// a simulation, or on hosts started at once).
		cfg.Seed = pickerSeed(time.Now(), e.conn.LocalAddr(), c.Tree.Root())
		s.pk = picker.New(c.Tree.NumChunks(), cfg)
		if s.tree.Known() {
			s.have.Ranges(func(r bin.Range) bool {
				for i := r.Start; i <= r.End; i++ {
					s.pk.Have(i)
				}
				return true
			})
		}
	}
	return s
}

// pickerSeed derives a picker's seed from t, addr and root with FNV-1a.
func pickerSeed(t time.Time, addr netip.AddrPort, root []byte) uint64 {
	h := fnv.New64a()
	b, _ := addr.MarshalBinary()
	var ts [8]byte
	binary.LittleEndian.PutUint64(ts[:], uint64(t.UnixNano()))
	h.Write(ts[:])
	h.Write(b)
	h.Write(root)
	return h.Sum64()
}

// Root returns the swarm ID (the Merkle root hash).
func (s *Swarm) Root() []byte { return s.root }

// Content returns the swarm's content.
func (s *Swarm) Content() *Content { return s.content }

// Done is closed when every chunk is verified and stored.
func (s *Swarm) Done() <-chan struct{} { return s.done }

// Failed is closed when the download cannot go on: its content could not
// be written (a full disk, say). Err says why.
func (s *Swarm) Failed() <-chan struct{} { return s.failed }

// Err returns why the swarm failed, once Failed is closed; nil before.
func (s *Swarm) Err() error {
	select {
	case <-s.failed:
		return s.err
	default:
		return nil
	}
}

// fail stops downloading: chunks can no longer be stored. Uploads of what
// is stored go on.
func (s *Swarm) fail(err error) {
	if s.err != nil {
		return
	}
	s.e.log.Error("download failed", "swarm", fmt.Sprintf("%x", s.root), "err", err)
	s.err = err
	s.pk = nil
	close(s.failed)
	s.changes.notify()
}

// layout records the tree's peaks once they are known.
func (s *Swarm) layout() {
	s.peaks = s.peaks[:0]
	for _, p := range s.tree.Peaks() {
		s.peaks = append(s.peaks, p.Bin)
	}
}

func (s *Swarm) complete() bool {
	n := s.tree.NumChunks()
	return n > 0 && s.have.Count() == n
}

// peakOf returns the peak covering chunk i.
func (s *Swarm) peakOf(i uint64) bin.Bin {
	for _, p := range s.peaks {
		if p.FirstChunk() <= i && i <= p.LastChunk() {
			return p
		}
	}
	return bin.None
}

func (s *Swarm) finish() {
	if s.st.Meta().Size < 0 && s.tree.Size() > 0 {
		s.st.SetSize(s.tree.Size())
	}
	if !s.st.Complete() {
		if err := s.st.Finish(); err != nil {
			s.e.log.Warn("finish download", "err", err)
			return
		}
	}
	s.pk = nil
	s.doneOnce.Do(func() { close(s.done) })
	s.changes.notify()
}

func (s *Swarm) checkpoint() {
	if s.dirty {
		if err := s.st.CheckpointAsync(); err != nil {
			s.e.log.Warn("checkpoint", "err", err)
		}
		s.dirty = false
	}
}

// PeerInfo describes one channel.
type PeerInfo struct {
	Addr      netip.AddrPort
	BytesFrom uint64
	BytesTo   uint64
}

// Info is a snapshot of a swarm's progress.
type Info struct {
	Root       []byte
	NumChunks  uint64 // 0 while unknown
	HaveChunks uint64
	Size       int64 // -1 while unknown
	// SizeHint is the size a link claimed (SetSizeHint), -1 if none. It is
	// not verified: Size is, once the last chunk is.
	SizeHint int64
	Complete bool
	Peers    []PeerInfo
	// BytesFrom counts verified payload bytes by source address, including
	// peers whose channels have closed.
	BytesFrom map[netip.AddrPort]uint64
	// BytesTo counts payload bytes sent in DATA by destination address,
	// retransmissions included, and including peers whose channels have
	// closed.
	BytesTo map[netip.AddrPort]uint64
}

// Info returns a snapshot of the swarm's progress.
func (s *Swarm) Info() Info {
	var in Info
	s.e.do(func() {
		in = Info{
			Root:       s.root,
			NumChunks:  s.tree.NumChunks(),
			HaveChunks: s.have.Count(),
			Size:       s.tree.Size(),
			SizeHint:   s.sizeHint.Load(),
			Complete:   s.complete(),
			BytesFrom:  make(map[netip.AddrPort]uint64, len(s.bytesFrom)+len(s.channels)),
			BytesTo:    make(map[netip.AddrPort]uint64, len(s.bytesTo)+len(s.channels)),
		}
		for a, n := range s.bytesFrom {
			in.BytesFrom[a] += n
		}
		for a, n := range s.bytesTo {
			in.BytesTo[a] += n
		}
		for _, c := range s.channels {
			if !c.established {
				continue
			}
			in.Peers = append(in.Peers, PeerInfo{Addr: c.addr, BytesFrom: c.bytesFrom, BytesTo: c.bytesTo})
			if c.bytesFrom > 0 {
				in.BytesFrom[c.addr] += c.bytesFrom
			}
			if c.bytesTo > 0 {
				in.BytesTo[c.addr] += c.bytesTo
			}
		}
	})
	return in
}
