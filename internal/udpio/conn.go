package udpio

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"
)

const (
	// maxGSOSegments and maxGSOBytes bound one GSO message. The kernel takes
	// up to 64 (older) or 128 segments and a total below the 65,507-byte
	// IPv4 UDP payload limit; these limits stay inside both.
	maxGSOSegments = 64
	maxGSOBytes    = 65000
	// portableBufSize is the single read buffer of the portable path, large
	// enough for any UDP datagram.
	portableBufSize = 64 << 10
)

// Packet is one datagram to send.
type Packet struct {
	B    []byte
	Addr netip.AddrPort
}

// features selects which kernel mechanisms a Conn may use. New asks for all
// of them; tests and benchmarks turn some off to compare the paths.
type features struct {
	mmsg, gso, gro bool
}

// Conn reads and writes batches of datagrams on one packet connection.
type Conn struct {
	pc    net.PacketConn
	udp   *net.UDPConn   // pc when it is a UDP socket; nil otherwise
	laddr netip.AddrPort // pc's local address, unmapped
	sys   *sysConn       // the batch path; nil selects the portable path

	rmu  sync.Mutex // serializes ReadBatch; guards rbuf and sys's read state
	rbuf []byte     // portable path's read buffer, allocated on first use

	wmu sync.Mutex // serializes writes so batches keep their order; guards one and sys's write state
	one [1]Packet  // WriteTo's batch, so a single write allocates nothing

	stats counters
}

// New wraps pc. If pc is a *net.UDPConn on Linux, the Conn uses recvmmsg and
// sendmmsg, plus UDP GSO for sends and UDP GRO for receives where the kernel
// accepts them (probed once, here). Any other net.PacketConn gets a portable
// path that loops over ReadFrom and WriteTo. The Conn owns pc from now on:
// Close closes it.
func New(pc net.PacketConn) *Conn {
	return newConn(pc, features{mmsg: true, gso: true, gro: true})
}

func newConn(pc net.PacketConn, want features) *Conn {
	c := &Conn{pc: pc, laddr: addrPortOf(pc.LocalAddr())}
	if uc, ok := pc.(*net.UDPConn); ok {
		c.udp = uc
		if want.mmsg {
			c.sys = newSys(uc, want)
		}
	}
	return c
}

// ReadBatch blocks until at least one datagram arrives, the read deadline
// passes or the Conn is closed, then calls fn once per datagram received in
// this batch, in arrival order. b is valid only during that call of fn; fn
// must not call ReadBatch. A datagram too large for the read buffer is
// dropped and counted in Stats.Truncated.
func (c *Conn) ReadBatch(fn func(b []byte, from netip.AddrPort)) error {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if c.sys != nil {
		return c.sys.readBatch(c, fn)
	}
	return c.readPortable(fn)
}

// WriteBatch sends pkts in order. Runs of consecutive packets to one address
// with equal lengths (the last of a run may be shorter) go out as one GSO
// message when GSO is available; everything else goes through sendmmsg, up
// to 64 messages per call.
//
// A packet the kernel refuses is skipped and counted in Stats.SendErrors;
// the rest of the batch is still sent and the first such error is returned.
// ECONNREFUSED is not about the packet being sent but about an earlier one
// (an ICMP port unreachable, reported only on connected sockets): it is
// counted in Stats.Refused, never returned, and the packet that drew it is
// sent once more. Only a closed connection or a passed write deadline stops the
// batch early.
func (c *Conn) WriteBatch(pkts []Packet) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked(pkts)
}

// WriteTo sends one datagram, with WriteBatch's error rules.
func (c *Conn) WriteTo(b []byte, addr netip.AddrPort) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.one[0] = Packet{B: b, Addr: addr}
	err := c.writeLocked(c.one[:])
	c.one[0] = Packet{}
	return err
}

func (c *Conn) writeLocked(pkts []Packet) error {
	if c.sys != nil {
		return c.sys.writeBatch(c, pkts)
	}
	return c.writePortable(pkts)
}

// LocalAddr returns the local address of the wrapped connection, with an
// IPv4-mapped address unmapped. It is the zero AddrPort if that address is
// not an IP address and port.
func (c *Conn) LocalAddr() netip.AddrPort { return c.laddr }

// SetReadDeadline sets the deadline for ReadBatch, as net.Conn does.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.pc.SetReadDeadline(t) }

// Close closes the wrapped connection. A blocked ReadBatch returns an error
// matching net.ErrClosed.
func (c *Conn) Close() error { return c.pc.Close() }

// Features reports which kernel mechanisms are in use: UDP GSO for sends
// (false after a device refused it), UDP GRO for receives, and
// recvmmsg/sendmmsg batching.
func (c *Conn) Features() (gso, gro, mmsg bool) {
	if c.sys == nil {
		return false, false, false
	}
	gso, gro = c.sys.features()
	return gso, gro, true
}

// Stats returns the Conn's counters.
func (c *Conn) Stats() Stats { return c.stats.snapshot() }

// errInvalidAddr reports a packet whose destination is not a usable IP
// address and port for this socket.
var errInvalidAddr = errors.New("invalid destination address")

// unmap returns ap with an IPv4-mapped IPv6 address turned into IPv4, so one
// peer has one key whichever socket family saw it.
func unmap(ap netip.AddrPort) netip.AddrPort {
	if ap.Addr().Is4In6() {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return ap
}

// addrPortOf converts a net.Addr to an unmapped AddrPort. Addresses that are
// not IP:port (possible from a non-UDP PacketConn) give the zero AddrPort.
func addrPortOf(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case nil:
		return netip.AddrPort{}
	case *net.UDPAddr:
		return unmap(a.AddrPort())
	case interface{ AddrPort() netip.AddrPort }:
		return unmap(a.AddrPort())
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.AddrPort{}
	}
	return unmap(ap)
}

// opError describes a failed send or receive the way package net does, so
// callers can use errors.Is with syscall errnos and net.ErrClosed.
func (c *Conn) opError(op string, peer netip.AddrPort, err error) error {
	e := &net.OpError{Op: op, Net: "udp", Err: err}
	if c.laddr.IsValid() {
		e.Source = net.UDPAddrFromAddrPort(c.laddr)
	}
	if peer.IsValid() {
		e.Addr = net.UDPAddrFromAddrPort(peer)
	}
	return e
}
