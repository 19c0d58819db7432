package udpio

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"syscall"
)

// readPortable receives one datagram with ReadFrom: a generic PacketConn has
// no way to ask for more than one without blocking again. Called with rmu
// held.
func (c *Conn) readPortable(fn func([]byte, netip.AddrPort)) error {
	if c.rbuf == nil {
		c.rbuf = make([]byte, portableBufSize)
	}
	var (
		n    int
		from netip.AddrPort
		err  error
	)
	if c.udp != nil {
		n, from, err = c.udp.ReadFromUDPAddrPort(c.rbuf)
	} else {
		var a net.Addr
		n, a, err = c.pc.ReadFrom(c.rbuf)
		from = addrPortOf(a)
	}
	t := tally{syscalls: 1}
	if err == nil || n > 0 {
		fn(c.rbuf[:n:n], unmap(from))
		t.datagrams, t.bytes = 1, uint64(n)
	}
	c.stats.addRead(&t)
	return err
}

// writePortable sends pkts one WriteTo at a time, with WriteBatch's error
// rules. Called with wmu held.
func (c *Conn) writePortable(pkts []Packet) error {
	var (
		t       tally
		first   error
		retried = -1 // index of the packet already resent after ECONNREFUSED
	)
	defer c.stats.addWrite(&t)
	for i := 0; i < len(pkts); i++ {
		p := &pkts[i]
		err := c.writeOnePortable(p)
		t.syscalls++
		switch {
		case err == nil:
			t.datagrams++
			t.bytes += uint64(len(p.B))
		case fatalWriteError(err):
			return err
		case errors.Is(err, syscall.ECONNREFUSED):
			t.refused++
			if retried != i {
				retried = i
				i-- // the error was about an earlier datagram: send this one again
			}
		default:
			t.sendErrs++
			if first == nil {
				first = err
			}
		}
	}
	return first
}

func (c *Conn) writeOnePortable(p *Packet) error {
	if !p.Addr.IsValid() {
		return c.opError("write", p.Addr, errInvalidAddr)
	}
	var err error
	if c.udp != nil {
		_, err = c.udp.WriteToUDPAddrPort(p.B, p.Addr)
	} else {
		_, err = c.pc.WriteTo(p.B, net.UDPAddrFromAddrPort(p.Addr))
	}
	return err
}

// fatalWriteError reports whether err ends a whole batch rather than one
// packet.
func fatalWriteError(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded)
}
