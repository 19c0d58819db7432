package ppspp

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/nextshare/nextshare/internal/merkle"
	"github.com/nextshare/nextshare/internal/ppspp/wire"
	"github.com/nextshare/nextshare/internal/udpio"
)

// ErrClosed is returned by calls on a closed engine.
var ErrClosed = errors.New("ppspp: engine closed")

// Config configures an Engine.
type Config struct {
	// Conn is the node's one UDP socket (or a simulated one).
	Conn net.PacketConn
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// OnOther receives datagrams that are not PPSPP (the first byte is 'd':
	// bencoded KRPC for a DHT sharing the socket). b is only valid during
	// the call. Nil drops them.
	OnOther func(b []byte, from netip.AddrPort)
	// MaxPeers bounds the channels of one swarm (default 64).
	MaxPeers int
	// KeepAlive is the idle interval after which a KEEPALIVE is sent
	// (default 10 s); a channel silent for 6 intervals is closed.
	KeepAlive time.Duration
	// NoUpload makes the node a leecher: it chokes every peer.
	NoUpload bool
	// Tick is the timer resolution for retransmissions and request
	// timeouts (default 5 ms).
	Tick time.Duration
}

// Engine runs PPSPP over one socket.
type Engine struct {
	cfg   Config
	conn  *udpio.Conn
	log   *slog.Logger
	stats Stats

	// params maps our channel IDs to the wire parameters agreed for them,
	// so the reader goroutine can parse and hash DATA before the loop sees
	// it. Written only by the loop.
	params sync.Map // uint32 -> wire.Params

	in    chan []*inbound
	calls chan func()
	quit  chan struct{}
	done  chan struct{}
	rdone chan struct{}
	once  sync.Once

	// Fields below are owned by the loop goroutine.
	swarms   map[string]*Swarm // by swarm ID
	channels map[uint32]*channel
	out      sender
	up       uplink
	paced    bool // a pacer held back data in the last pump
	rd       wire.Reader
	msg      wire.Msg
}

// New starts an engine on cfg.Conn. Close stops it.
func New(cfg Config) (*Engine, error) {
	if cfg.Conn == nil {
		return nil, errors.New("ppspp: no connection")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxPeers <= 0 {
		cfg.MaxPeers = 64
	}
	if cfg.KeepAlive <= 0 {
		cfg.KeepAlive = 10 * time.Second
	}
	if cfg.Tick <= 0 {
		cfg.Tick = 5 * time.Millisecond
	}
	e := &Engine{
		cfg:      cfg,
		conn:     udpio.New(cfg.Conn),
		log:      cfg.Logger,
		in:       make(chan []*inbound, 16),
		calls:    make(chan func()),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		rdone:    make(chan struct{}),
		swarms:   make(map[string]*Swarm),
		channels: make(map[uint32]*channel),
		up:       newUplink(time.Now()),
	}
	e.out.init(e)
	go e.reader()
	go e.loop()
	return e, nil
}

// LocalAddr returns the socket's address.
func (e *Engine) LocalAddr() netip.AddrPort { return e.conn.LocalAddr() }

// Stats returns the engine's counters.
func (e *Engine) Stats() *Stats { return &e.stats }

// Close sends an explicit close on every channel, stops the engine's
// goroutines and closes the socket. It does not close swarm content.
func (e *Engine) Close() error {
	e.once.Do(func() {
		close(e.quit)
		<-e.done
		e.conn.Close()
		<-e.rdone
	})
	return nil
}

// do runs f on the loop goroutine and waits for it.
func (e *Engine) do(f func()) error {
	ch := make(chan struct{})
	select {
	case e.calls <- func() { f(); close(ch) }:
	case <-e.done:
		return ErrClosed
	}
	select {
	case <-ch:
		return nil
	case <-e.done:
		return ErrClosed
	}
}

// WriteTo sends a raw datagram from the engine's socket (for a DHT sharing
// it). Safe for concurrent use.
func (e *Engine) WriteTo(b []byte, to netip.AddrPort) error { return e.conn.WriteTo(b, to) }

// newChannelID returns a random channel ID that is not 0, not in use, and
// whose first byte on the wire is not 'd' (RFC 7574 leaves the choice to the
// allocating peer; the DHT demultiplexer relies on it).
func (e *Engine) newChannelID() uint32 {
	var b [4]byte
	for {
		crand.Read(b[:])
		id := binary.BigEndian.Uint32(b[:])
		if id == 0 || b[0] == 'd' {
			continue
		}
		if _, used := e.channels[id]; !used {
			return id
		}
	}
}

func (e *Engine) loop() {
	defer close(e.done)
	period := e.cfg.Tick
	tick := time.NewTicker(period)
	defer tick.Stop()
	// The engine ticks every Tick while a pacer holds back data, and
	// every idleTick (or Tick, if longer) otherwise: timers need no finer
	// steps, and dozens of engines on one machine waking every few
	// milliseconds for nothing cost more than their data.
	retick := func() {
		p := max(e.cfg.Tick, idleTick)
		if e.paced {
			p = e.cfg.Tick
		}
		if p != period {
			period = p
			tick.Reset(p)
		}
	}
	for {
		select {
		case batch := <-e.in:
			// Every step reads the clock afresh. Handling a batch
			// takes a while on a busy machine, and the reader takes
			// more datagrams off the socket meanwhile: a time read
			// before them would make their DATA look older than
			// when it arrived (RFC 7574 §8.7's delay samples read
			// low, even below zero, and LEDBAT's base delay with
			// them) and stamp the DATA sent after them early.
			e.handleBatch(batch, time.Now())
			// Drain what else is queued before sending, so ACKs coalesce.
			for i := 0; i < 8; i++ {
				select {
				case batch = <-e.in:
					e.handleBatch(batch, time.Now())
					continue
				default:
				}
				break
			}
			e.afterInput(time.Now())
			retick()
		case f := <-e.calls:
			f()
			e.afterInput(time.Now())
			retick()
		case <-tick.C:
			// The tick's own time is when it was due, which on a
			// busy machine may be well before it is received.
			now := time.Now()
			e.onTick(now)
			e.afterInput(now)
			retick()
		case <-e.quit:
			for _, ch := range e.channels {
				e.sendClose(ch)
			}
			e.out.flush()
			return
		}
	}
}

// idleTick is the engine's tick while no pacer holds back data.
const idleTick = 20 * time.Millisecond

// afterInput runs the senders and flushes queued datagrams.
func (e *Engine) afterInput(now time.Time) {
	e.paced = false
	for _, s := range e.swarms {
		s.pump(now)
	}
	e.out.flush()
}

func (e *Engine) onTick(now time.Time) {
	for _, s := range e.swarms {
		s.onTick(now)
	}
}

// AddSwarm starts serving (and, if incomplete, downloading) content. The
// swarm ID is the tree's root hash.
func (e *Engine) AddSwarm(c *Content) (*Swarm, error) {
	var s *Swarm
	var err error
	derr := e.do(func() {
		id := string(c.Tree.Root())
		if _, dup := e.swarms[id]; dup {
			err = fmt.Errorf("swarm %x already added", c.Tree.Root())
			return
		}
		s = newSwarm(e, c)
		e.swarms[id] = s
	})
	if derr != nil {
		return nil, derr
	}
	return s, err
}

// RemoveSwarm closes every channel of s and forgets it. Its content stays
// open; the caller closes it.
func (e *Engine) RemoveSwarm(s *Swarm) error {
	return e.do(func() {
		for _, ch := range s.channels {
			e.sendClose(ch)
			e.dropChannel(ch, "swarm removed")
		}
		s.checkpoint()
		delete(e.swarms, string(s.content.Tree.Root()))
	})
}

// Connect opens a channel to a peer for swarm s.
func (e *Engine) Connect(s *Swarm, addr netip.AddrPort) error {
	return e.do(func() { s.connect(addr.Addr().Unmap(), addr.Port(), time.Now()) })
}

// Run blocks until ctx is done or the engine is closed.
func (e *Engine) Run(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-e.done:
		return ErrClosed
	}
}

// paramsFor returns the wire parameters of our channel id.
func (e *Engine) paramsFor(id uint32) wire.Params {
	if v, ok := e.params.Load(id); ok {
		return v.(wire.Params)
	}
	return wire.DefaultParams
}

// hashFuncOf maps a hash size to the function used for leaf hashing in the
// reader; swarms use SHA-1 or SHA-256.
func hashFuncOf(size int) merkle.Func {
	if size == 32 {
		return merkle.SHA256
	}
	return merkle.SHA1
}
