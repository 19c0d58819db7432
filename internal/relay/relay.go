// Package relay emulates a network path in userspace: a UDP relay on
// loopback that forwards datagrams between its clients and one target with
// a configured one-way delay, rate limit, loss and bounded queue in each
// direction. This machine's kernel has no netem, so benchmarks that need a
// 50 ms path run their peers through a relay instead.
//
// A client sends to the relay's address; the relay forwards from a socket
// of its own per client, so the target sees one address per client and its
// replies find their way back.
package relay

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes the path, the same in both directions.
type Config struct {
	Listen string         // the relay's address (default 127.0.0.1:0)
	Target netip.AddrPort // where clients' datagrams go
	Delay  time.Duration  // one-way propagation delay
	Rate   int64          // bytes per second (0: unlimited)
	Loss   float64        // drop probability per datagram
	Queue  int            // bytes waiting for the link before tail drop (default 256 KiB)
	Seed   uint64         // for the loss decisions
}

// Stats counts datagrams.
type Stats struct {
	Forwarded, Dropped, QueueDrops uint64
}

// Relay is a running relay.
type Relay struct {
	cfg  Config
	ln   *net.UDPConn
	mu   sync.Mutex
	ups  map[netip.AddrPort]*pipe // by client address
	rng  *rand.Rand
	quit chan struct{}
	wg   sync.WaitGroup

	forwarded, dropped, queueDrops atomic.Uint64
}

// pipe is one client's pair of directions.
type pipe struct {
	up     *net.UDPConn // to the target
	toTgt  *line
	toCli  *line
	client netip.AddrPort
}

// Start opens the relay.
func Start(cfg Config) (*Relay, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 256 << 10
	}
	ua, err := net.ResolveUDPAddr("udp", cfg.Listen)
	if err != nil {
		return nil, err
	}
	ln, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, err
	}
	ln.SetReadBuffer(4 << 20)
	r := &Relay{cfg: cfg, ln: ln, ups: make(map[netip.AddrPort]*pipe),
		rng: rand.New(rand.NewPCG(cfg.Seed, 1)), quit: make(chan struct{})}
	r.wg.Add(1)
	go r.readClients()
	return r, nil
}

// Addr is where clients send.
func (r *Relay) Addr() netip.AddrPort { return r.ln.LocalAddr().(*net.UDPAddr).AddrPort() }

// Stats returns the counters.
func (r *Relay) Stats() Stats {
	return Stats{Forwarded: r.forwarded.Load(), Dropped: r.dropped.Load(), QueueDrops: r.queueDrops.Load()}
}

// Close stops the relay and waits for its goroutines.
func (r *Relay) Close() error {
	close(r.quit)
	err := r.ln.Close()
	r.mu.Lock()
	for _, p := range r.ups {
		p.up.Close()
		p.toTgt.stop()
		p.toCli.stop()
	}
	r.mu.Unlock()
	r.wg.Wait()
	return err
}

func (r *Relay) lose() bool {
	if r.cfg.Loss <= 0 {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rng.Float64() < r.cfg.Loss
}

func (r *Relay) readClients() {
	defer r.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, from, err := r.ln.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		p, err := r.pipeFor(from)
		if err != nil {
			continue
		}
		r.offer(p.toTgt, buf[:n])
	}
}

// pipeFor returns the client's pipe, creating it (and its goroutines).
func (r *Relay) pipeFor(client netip.AddrPort) (*pipe, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.ups[client]; p != nil {
		return p, nil
	}
	up, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(r.cfg.Target))
	if err != nil {
		return nil, err
	}
	up.SetReadBuffer(4 << 20)
	p := &pipe{up: up, client: client}
	p.toTgt = newLine(r, func(b []byte) { up.Write(b) })
	p.toCli = newLine(r, func(b []byte) { r.ln.WriteToUDPAddrPort(b, client) })
	r.ups[client] = p
	r.wg.Add(3)
	go p.toTgt.run()
	go p.toCli.run()
	go func() {
		defer r.wg.Done()
		buf := make([]byte, 65536)
		for {
			n, err := up.Read(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				select {
				case <-r.quit:
					return
				default:
					continue
				}
			}
			r.offer(p.toCli, buf[:n])
		}
	}()
	return p, nil
}

// offer puts a copy of b on the line unless it is lost or the queue is full.
func (r *Relay) offer(l *line, b []byte) {
	if r.lose() {
		r.dropped.Add(1)
		return
	}
	if !l.push(b, time.Now()) {
		r.queueDrops.Add(1)
		r.dropped.Add(1)
	}
}

// line is one direction: a FIFO link with a rate and a delay. A datagram
// leaves the link (its last bit sent) at max(arrival, previous leave) +
// size/rate, and is delivered Delay later.
type line struct {
	r       *Relay
	deliver func([]byte)
	mu      sync.Mutex
	cond    *sync.Cond
	q       []packet
	free    time.Time // when the link finishes its current backlog
	closing bool
}

type packet struct {
	b   []byte
	out time.Time // when serialization ends
	due time.Time // delivery time
}

func newLine(r *Relay, deliver func([]byte)) *line {
	l := &line{r: r, deliver: deliver}
	l.cond = sync.NewCond(&l.mu)
	return l
}

// stop makes run return.
func (l *line) stop() {
	l.mu.Lock()
	l.closing = true
	l.cond.Broadcast()
	l.mu.Unlock()
}

func (l *line) push(b []byte, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := now
	if l.free.After(now) {
		start = l.free
	}
	// Bytes still waiting to be serialized at now.
	backlog := 0
	for _, p := range l.q {
		if p.out.After(now) {
			backlog += len(p.b)
		}
	}
	if l.r.cfg.Rate > 0 && backlog+len(b) > l.r.cfg.Queue {
		return false
	}
	out := start
	if l.r.cfg.Rate > 0 {
		out = start.Add(time.Duration(int64(len(b)) * int64(time.Second) / l.r.cfg.Rate))
	}
	l.free = out
	l.q = append(l.q, packet{b: append([]byte(nil), b...), out: out, due: out.Add(l.r.cfg.Delay)})
	l.cond.Signal()
	return true
}

// sleepUntil waits until t, false if the relay closes first. Timers wake
// up to a millisecond or more late on a busy machine, so it sleeps until
// just before t and yields the processor for the rest.
func (r *Relay) sleepUntil(t time.Time) bool {
	if d := time.Until(t) - spinBefore; d > 0 {
		tm := time.NewTimer(d)
		select {
		case <-tm.C:
		case <-r.quit:
			tm.Stop()
			return false
		}
	}
	for time.Now().Before(t) {
		runtime.Gosched()
	}
	return true
}

// spinBefore is how early sleepUntil's timer fires.
const spinBefore = 1500 * time.Microsecond

func (l *line) run() {
	defer l.r.wg.Done()
	for {
		l.mu.Lock()
		for len(l.q) == 0 && !l.closing {
			l.cond.Wait()
		}
		if l.closing {
			l.mu.Unlock()
			return
		}
		p := l.q[0]
		l.mu.Unlock()
		if !l.r.sleepUntil(p.due) {
			return
		}
		l.mu.Lock()
		l.q = l.q[1:]
		l.mu.Unlock()
		l.deliver(p.b)
		l.r.forwarded.Add(1)
	}
}
