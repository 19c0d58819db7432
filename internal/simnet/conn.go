package simnet

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// RecvQueuePackets bounds each conn's receive queue. Datagrams arriving at a
// full queue are dropped and counted in Stats.DroppedRcvBuf, like a full
// socket receive buffer.
const RecvQueuePackets = 4096

// MaxDatagram is the largest payload WriteTo accepts (the UDP over IPv4
// limit).
const MaxDatagram = 65507

// Conn is a UDP endpoint on a simulated host. It implements net.PacketConn;
// its addresses are *net.UDPAddr. It is safe for concurrent use.
type Conn struct {
	host  *Host
	laddr netip.AddrPort

	// ready holds a token while the receive queue may be non-empty; a reader
	// that takes a datagram and leaves others behind puts the token back.
	ready chan struct{}
	done  chan struct{} // closed by shutdown

	mu        sync.Mutex // guards the fields below
	queue     []datagram // receive queue; entries before head are consumed
	head      int
	closed    bool
	readDL    time.Time
	writeDL   time.Time
	dlChanged chan struct{} // closed and replaced when readDL changes
}

var _ net.PacketConn = (*Conn)(nil)

func newConn(h *Host, laddr netip.AddrPort) *Conn {
	return &Conn{
		host:      h,
		laddr:     laddr,
		ready:     make(chan struct{}, 1),
		done:      make(chan struct{}),
		dlChanged: make(chan struct{}),
	}
}

// enqueue appends d to the receive queue; it reports false if the queue is
// full or the conn closed.
func (c *Conn) enqueue(d datagram) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || len(c.queue)-c.head >= RecvQueuePackets {
		return false
	}
	c.queue = append(c.queue, d)
	c.signalLocked()
	return true
}

func (c *Conn) signalLocked() {
	select {
	case c.ready <- struct{}{}:
	default:
	}
}

// popLocked removes the oldest datagram from the receive queue.
func (c *Conn) popLocked() (datagram, bool) {
	if c.head == len(c.queue) {
		return datagram{}, false
	}
	d := c.queue[c.head]
	c.queue[c.head] = datagram{}
	c.head++
	switch {
	case c.head == len(c.queue):
		c.queue, c.head = c.queue[:0], 0
	case c.head >= 1024 && c.head*2 >= len(c.queue):
		// Reclaim the consumed prefix when the reader lags steadily.
		n := copy(c.queue, c.queue[c.head:])
		clear(c.queue[n:])
		c.queue, c.head = c.queue[:n], 0
	}
	if c.head < len(c.queue) {
		c.signalLocked()
	}
	return d, true
}

// ReadFrom implements net.PacketConn. It blocks until a datagram arrives, the
// read deadline passes (the error then satisfies errors.Is(err,
// os.ErrDeadlineExceeded) and is a net.Error whose Timeout is true) or the
// conn is closed (net.ErrClosed). A datagram longer than b is truncated to
// len(b) bytes, as UDP does.
func (c *Conn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, src, err := c.ReadFromUDPAddrPort(b)
	if err != nil {
		return n, nil, err
	}
	return n, net.UDPAddrFromAddrPort(src), nil
}

// ReadFromUDPAddrPort is ReadFrom returning the source as a netip.AddrPort,
// like (*net.UDPConn).ReadFromUDPAddrPort.
func (c *Conn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return 0, netip.AddrPort{}, c.opError("read", nil, net.ErrClosed)
		}
		if d, ok := c.popLocked(); ok {
			c.mu.Unlock()
			return copy(b, d.data), d.src, nil
		}
		deadline, changed := c.readDL, c.dlChanged
		c.mu.Unlock()

		var expired <-chan time.Time
		var timer *time.Timer
		if !deadline.IsZero() {
			wait := time.Until(deadline)
			if wait <= 0 {
				return 0, netip.AddrPort{}, c.opError("read", nil, os.ErrDeadlineExceeded)
			}
			timer = time.NewTimer(wait)
			expired = timer.C
		}
		select {
		case <-c.ready:
		case <-c.done:
		case <-changed:
		case <-expired:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// WriteTo implements net.PacketConn. It copies b and never blocks: like UDP,
// a datagram that does not fit in a queue is dropped silently. addr must be a
// *net.UDPAddr or an address whose String is "host:port".
func (c *Conn) WriteTo(b []byte, addr net.Addr) (int, error) {
	dst, err := addrPort(addr)
	if err != nil {
		return 0, c.opError("write", addr, err)
	}
	return c.WriteToUDPAddrPort(b, dst)
}

// WriteToUDPAddrPort is WriteTo with a netip.AddrPort destination, like
// (*net.UDPConn).WriteToUDPAddrPort.
func (c *Conn) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	dst := netip.AddrPortFrom(canonical(addr.Addr()), addr.Port())
	if !dst.IsValid() || dst.Port() == 0 {
		return 0, c.opError("write", net.UDPAddrFromAddrPort(addr), fmt.Errorf("simnet: invalid destination %v", addr))
	}
	if len(b) > MaxDatagram {
		return 0, c.opError("write", net.UDPAddrFromAddrPort(addr),
			fmt.Errorf("simnet: datagram of %d bytes exceeds %d", len(b), MaxDatagram))
	}
	c.mu.Lock()
	closed, deadline := c.closed, c.writeDL
	c.mu.Unlock()
	if closed {
		return 0, c.opError("write", net.UDPAddrFromAddrPort(addr), net.ErrClosed)
	}
	if !deadline.IsZero() && !time.Now().Before(deadline) {
		return 0, c.opError("write", net.UDPAddrFromAddrPort(addr), os.ErrDeadlineExceeded)
	}
	d := datagram{src: c.laddr, dst: dst, data: bytes.Clone(b)}
	n := c.host.net
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return 0, c.opError("write", net.UDPAddrFromAddrPort(addr), net.ErrClosed)
	}
	n.sendLocked(c.host, d)
	return len(b), nil
}

// Close implements net.PacketConn: it unbinds the port, discards queued
// datagrams and unblocks pending reads, which return net.ErrClosed.
func (c *Conn) Close() error {
	n := c.host.net
	n.mu.Lock()
	if c.host.conns[c.laddr.Port()] == c {
		delete(c.host.conns, c.laddr.Port())
	}
	n.mu.Unlock()
	if !c.shutdown() {
		return c.opError("close", nil, net.ErrClosed)
	}
	return nil
}

// shutdown marks the conn closed; it reports false if it already was.
func (c *Conn) shutdown() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.closed = true
	clear(c.queue)
	c.queue, c.head = nil, 0
	close(c.done)
	return true
}

// LocalAddr implements net.PacketConn.
func (c *Conn) LocalAddr() net.Addr { return net.UDPAddrFromAddrPort(c.laddr) }

// LocalAddrPort returns the bound address.
func (c *Conn) LocalAddrPort() netip.AddrPort { return c.laddr }

// SetDeadline implements net.PacketConn.
func (c *Conn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

// SetReadDeadline implements net.PacketConn. It also applies to a ReadFrom
// already blocked; the zero time means no deadline.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readDL = t
	close(c.dlChanged)
	c.dlChanged = make(chan struct{})
	return nil
}

// SetWriteDeadline implements net.PacketConn. Writes never block, so a write
// deadline only makes writes fail once it has passed.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writeDL = t
	return nil
}

func (c *Conn) opError(op string, remote net.Addr, err error) error {
	return &net.OpError{Op: op, Net: "udp", Source: net.UDPAddrFromAddrPort(c.laddr), Addr: remote, Err: err}
}

// addrPort converts a destination address given as net.Addr.
func addrPort(a net.Addr) (netip.AddrPort, error) {
	switch a := a.(type) {
	case *net.UDPAddr:
		if a == nil {
			return netip.AddrPort{}, fmt.Errorf("simnet: nil destination address")
		}
		return a.AddrPort(), nil
	case nil:
		return netip.AddrPort{}, fmt.Errorf("simnet: nil destination address")
	default:
		ap, err := netip.ParseAddrPort(a.String())
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("simnet: destination %q: %w", a.String(), err)
		}
		return ap, nil
	}
}
