package simnet

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// Ports handed out for Listen(0), as in the IANA dynamic range.
const (
	firstEphemeralPort = 49152
	lastEphemeralPort  = 65535
)

// ErrPortInUse is returned by Listen when a conn is already bound to the port.
var ErrPortInUse = errors.New("simnet: port in use")

// Host is a simulated machine with one address and one access link (an
// uplink and a downlink). Its state is guarded by its Network's mutex.
type Host struct {
	net  *Network
	addr netip.Addr

	up, down *link
	conns    map[uint16]*Conn
	nextPort uint16 // next candidate for Listen(0)
	stats    Stats
}

// Addr returns the host's address.
func (h *Host) Addr() netip.Addr { return h.addr }

// SetLink changes the host's links, as Network.SetLink.
func (h *Host) SetLink(up, down LinkConfig) {
	h.net.SetLink(h.addr, up, down)
}

// Listen binds a conn to port on this host; port 0 picks a free port from
// the dynamic range 49152–65535, in increasing order.
func (h *Host) Listen(port uint16) (*Conn, error) {
	n := h.net
	n.mu.Lock()
	defer n.mu.Unlock()
	laddr := netip.AddrPortFrom(h.addr, port)
	fail := func(err error) (*Conn, error) {
		return nil, &net.OpError{Op: "listen", Net: "udp", Addr: net.UDPAddrFromAddrPort(laddr), Err: err}
	}
	if n.closed {
		return fail(net.ErrClosed)
	}
	if port == 0 {
		var ok bool
		if port, ok = h.freePortLocked(); !ok {
			return fail(fmt.Errorf("simnet: no free port on %v", h.addr))
		}
		laddr = netip.AddrPortFrom(h.addr, port)
	} else if h.conns[port] != nil {
		return fail(ErrPortInUse)
	}
	c := newConn(h, laddr)
	h.conns[port] = c
	return c, nil
}

func (h *Host) freePortLocked() (uint16, bool) {
	const span = lastEphemeralPort - firstEphemeralPort + 1
	for range span {
		p := h.nextPort
		if h.nextPort == lastEphemeralPort {
			h.nextPort = firstEphemeralPort
		} else {
			h.nextPort++
		}
		if h.conns[p] == nil {
			return p, true
		}
	}
	return 0, false
}

// Stats returns the host's counters and the current state of its queues.
func (h *Host) Stats() HostStats {
	n := h.net
	n.mu.Lock()
	defer n.mu.Unlock()
	now := time.Now()
	return HostStats{
		Stats:             h.stats,
		UpQueueDelay:      h.up.backlog(now),
		MaxUpQueueDelay:   h.up.maxWait,
		DownQueueDelay:    h.down.backlog(now),
		MaxDownQueueDelay: h.down.maxWait,
	}
}
