package simnet

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Network is a set of simulated hosts and the packets in flight between
// them. It is safe for concurrent use.
type Network struct {
	seed int64

	mu         sync.Mutex // guards the fields below
	hosts      map[netip.Addr]*Host
	events     eventQueue
	seq        uint64
	timer      *time.Timer // fires fire(); nil until the first event
	timerArmed bool
	timerAt    time.Time
	closed     bool
}

// New returns an empty network whose randomness is derived from seed.
func New(seed int64) *Network {
	return &Network{seed: seed, hosts: make(map[netip.Addr]*Host)}
}

// AddHost adds a host with the given uplink (packets it sends) and downlink
// (packets it receives) and returns it. If the host exists, its links are
// reconfigured as by SetLink and the existing host is returned. addr must be
// a valid IPv4 or IPv6 address; an IPv4-mapped IPv6 address names the IPv4
// host.
func (n *Network) AddHost(addr netip.Addr, up, down LinkConfig) *Host {
	if !addr.IsValid() {
		panic("simnet: AddHost with an invalid address")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.addHostLocked(canonical(addr), up, down)
}

func (n *Network) addHostLocked(addr netip.Addr, up, down LinkConfig) *Host {
	if h := n.hosts[addr]; h != nil {
		h.up.cfg = up.normalized()
		h.down.cfg = down.normalized()
		return h
	}
	h := &Host{
		net:      n,
		addr:     addr,
		up:       newLink(n.seed, addr, dirUp, up),
		down:     newLink(n.seed, addr, dirDown, down),
		conns:    make(map[uint16]*Conn),
		nextPort: firstEphemeralPort,
	}
	n.hosts[addr] = h
	return h
}

// SetLink changes a host's link configuration at run time, adding the host
// if it does not exist. Packets already past a link are not affected; the
// queue backlog of a link is kept.
func (n *Network) SetLink(addr netip.Addr, up, down LinkConfig) {
	n.AddHost(addr, up, down)
}

// Host returns the host with the given address, or nil.
func (n *Network) Host(addr netip.Addr) *Host {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.hosts[canonical(addr)]
}

// ListenUDP binds a conn to addr. The host is created with unlimited,
// lossless, zero-delay links if it does not exist. Port 0 picks a free port.
func (n *Network) ListenUDP(addr netip.AddrPort) (*Conn, error) {
	a := canonical(addr.Addr())
	if !a.IsValid() || a.IsUnspecified() {
		return nil, &net.OpError{Op: "listen", Net: "udp", Addr: net.UDPAddrFromAddrPort(addr),
			Err: fmt.Errorf("simnet: address %v is not a host address", addr.Addr())}
	}
	n.mu.Lock()
	h := n.hosts[a]
	if h == nil && !n.closed {
		h = n.addHostLocked(a, LinkConfig{}, LinkConfig{})
	}
	n.mu.Unlock()
	if h == nil {
		return nil, &net.OpError{Op: "listen", Net: "udp", Addr: net.UDPAddrFromAddrPort(addr), Err: net.ErrClosed}
	}
	return h.Listen(addr.Port())
}

// Stats returns the totals over all hosts.
func (n *Network) Stats() Stats {
	n.mu.Lock()
	defer n.mu.Unlock()
	var s Stats
	for _, h := range n.hosts {
		s = s.plus(h.stats)
	}
	return s
}

// Close closes every conn, discards the packets in flight (they are not
// counted) and stops the timer; a timer callback already under way returns
// without effect. Further writes and listens fail with net.ErrClosed.
func (n *Network) Close() {
	n.mu.Lock()
	n.closed = true
	n.events = nil
	if n.timer != nil {
		n.timer.Stop()
	}
	var conns []*Conn
	for _, h := range n.hosts {
		for port, c := range h.conns {
			conns = append(conns, c)
			delete(h.conns, port)
		}
	}
	n.mu.Unlock()
	for _, c := range conns {
		c.shutdown()
	}
}

// sendLocked carries d from the sending host's uplink towards its
// destination (see the package comment for the path).
func (n *Network) sendLocked(src *Host, d datagram) {
	now := time.Now()
	size := len(d.data)
	src.stats.Sent.add(size)

	dst := n.hosts[d.dst.Addr()]
	if dst == src {
		// Loopback: the packet never touches the host's links.
		n.deliverLocked(d)
		return
	}
	if src.up.lose() {
		src.stats.DroppedLoss.add(size)
		return
	}
	departure, ok := src.up.enqueue(now, size)
	if !ok {
		src.stats.DroppedQueue.add(size)
		return
	}
	copies := 1
	if src.up.duplicate() {
		src.stats.Duplicated.add(size)
		copies = 2
	}
	for range copies {
		if dst == nil {
			src.stats.DroppedNoListener.add(size)
			continue
		}
		prop := src.up.cfg.Delay + src.up.jitter() + dst.down.cfg.Delay + dst.down.jitter()
		n.scheduleLocked(departure.Add(prop), evArrive, d)
	}
}

// arriveLocked passes a packet that reached the destination at time at
// through the destination's downlink.
func (n *Network) arriveLocked(at time.Time, d datagram) {
	dst := n.hosts[d.dst.Addr()]
	size := len(d.data)
	if dst.down.lose() {
		dst.stats.DroppedLoss.add(size)
		return
	}
	departure, ok := dst.down.enqueue(at, size)
	if !ok {
		dst.stats.DroppedQueue.add(size)
		return
	}
	copies := 1
	if dst.down.duplicate() {
		dst.stats.Duplicated.add(size)
		copies = 2
	}
	for range copies {
		if departure.After(at) {
			n.scheduleLocked(departure, evDeliver, d)
		} else {
			n.deliverLocked(d)
		}
	}
}

// deliverLocked hands d to the conn bound to its destination address.
func (n *Network) deliverLocked(d datagram) {
	size := len(d.data)
	dst := n.hosts[d.dst.Addr()]
	if dst == nil {
		return // unreachable: only sends to existing hosts are scheduled
	}
	c := dst.conns[d.dst.Port()]
	if c == nil {
		dst.stats.DroppedNoListener.add(size)
		return
	}
	if !c.enqueue(d) {
		dst.stats.DroppedRcvBuf.add(size)
		return
	}
	dst.stats.Delivered.add(size)
}

// canonical maps IPv4-mapped IPv6 addresses to IPv4 and drops zones, so that
// each host has exactly one key.
func canonical(a netip.Addr) netip.Addr {
	return a.Unmap().WithZone("")
}
