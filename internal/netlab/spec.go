package netlab

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"time"
)

// Link describes one direction of a host's access link: Up is what the host
// sends towards the router, Down what the router sends to the host.
type Link struct {
	// Delay is the one-way delay added to every packet in this direction.
	Delay time.Duration
	// Jitter adds a uniformly distributed extra delay in [0, Jitter) to each
	// packet, so Delay is the minimum. Packets keep their order unless
	// Reorder lets them overtake.
	Jitter time.Duration
	// Loss is the probability (0..1) that a packet is dropped.
	Loss float64
	// Reorder is the probability (0..1) that a packet is exempt from the
	// link's first-in-first-out order, so that with Jitter it may overtake
	// packets sent before it. Without Jitter it has no effect.
	Reorder float64
	// Rate is the link's capacity in bits per second (counting IP and
	// Ethernet headers); 0 means unlimited.
	Rate int64
	// Queue bounds how long a packet may wait for the rate limiter before
	// it is dropped (tc tbf latency); 0 means DefaultQueue. Only used with
	// Rate.
	Queue time.Duration
}

// DefaultQueue is the rate limiter's queue bound when Link.Queue is 0.
const DefaultQueue = 50 * time.Millisecond

// MinRate is the lowest non-zero Link.Rate accepted, in bits per second.
const MinRate = 8000

// impaired reports whether the link needs the router's packet queue, that is
// whether it delays or drops packets (rates are enforced by tc instead).
func (l Link) impaired() bool {
	return l.Delay > 0 || l.Jitter > 0 || l.Loss > 0
}

func (l Link) validate() error {
	switch {
	case l.Delay < 0:
		return fmt.Errorf("negative delay %v", l.Delay)
	case l.Jitter < 0:
		return fmt.Errorf("negative jitter %v", l.Jitter)
	case !(l.Loss >= 0 && l.Loss <= 1):
		return fmt.Errorf("loss %v outside [0, 1]", l.Loss)
	case !(l.Reorder >= 0 && l.Reorder <= 1):
		return fmt.Errorf("reorder %v outside [0, 1]", l.Reorder)
	case l.Rate < 0 || (l.Rate > 0 && l.Rate < MinRate):
		return fmt.Errorf("rate %d bit/s: must be 0 or at least %d", l.Rate, MinRate)
	case l.Queue < 0:
		return fmt.Errorf("negative queue %v", l.Queue)
	}
	return nil
}

// NAT kinds for HostSpec.NAT.
const (
	// NATNone puts the host directly on the router.
	NATNone = ""
	// NATPortRestricted maps each inside address and port to one outside
	// port (iptables MASQUERADE, which keeps the port when it can) and lets
	// in only replies from the address and port the host sent to.
	NATPortRestricted = "port-restricted"
	// NATFullCone is NATPortRestricted plus forwarding of every other UDP
	// packet that reaches the outside address to the inside host, on the
	// same port. This is a superset of a full-cone NAT: a port is open even
	// before the host has sent from it.
	NATFullCone = "full-cone"
	// NATSymmetric picks a random outside port for each new destination
	// (MASQUERADE --random-fully), so peers cannot predict the mapping.
	NATSymmetric = "symmetric"
)

// HostSpec describes one emulated host.
type HostSpec struct {
	// Name identifies the host: 1 to MaxNameLen characters of [a-z0-9-],
	// unique in the network.
	Name string
	// Up and Down are the two directions of the host's access link. For a
	// host behind a NAT this is the link between the NAT and the router.
	Up, Down Link
	// NAT is NATNone or one of the NAT kinds.
	NAT string
}

// MaxNameLen is the longest HostSpec.Name accepted.
const MaxNameLen = 20

// MaxHosts is the largest number of hosts in one Network: each has a /24 of
// 10.0.0.0/8 other than 10.0.0.0/24.
const MaxHosts = 1<<16 - 1

func validName(s string) bool {
	if s == "" || len(s) > MaxNameLen {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func validateSpecs(hosts []HostSpec) error {
	if len(hosts) > MaxHosts {
		return fmt.Errorf("netlab: %d hosts, at most %d", len(hosts), MaxHosts)
	}
	seen := make(map[string]bool, len(hosts))
	for _, h := range hosts {
		if !validName(h.Name) {
			return fmt.Errorf("netlab: host name %q: want 1 to %d characters of [a-z0-9-]", h.Name, MaxNameLen)
		}
		if seen[h.Name] {
			return fmt.Errorf("netlab: duplicate host name %q", h.Name)
		}
		seen[h.Name] = true
		if err := h.Up.validate(); err != nil {
			return fmt.Errorf("netlab: host %s: up link: %w", h.Name, err)
		}
		if err := h.Down.validate(); err != nil {
			return fmt.Errorf("netlab: host %s: down link: %w", h.Name, err)
		}
		switch h.NAT {
		case NATNone, NATPortRestricted, NATFullCone, NATSymmetric:
		default:
			return fmt.Errorf("netlab: host %s: unknown NAT kind %q", h.Name, h.NAT)
		}
	}
	return nil
}

// validPrefix accepts lowercase letters and '-' only, so that the PID that
// follows the prefix in a namespace name can be parsed back unambiguously.
func validPrefix(p string) error {
	if p == "" || len(p) > 32 {
		return errors.New("netlab: prefix must be 1 to 32 characters")
	}
	for _, c := range []byte(p) {
		if !(c >= 'a' && c <= 'z' || c == '-') {
			return fmt.Errorf("netlab: prefix %q: only [a-z-] allowed", p)
		}
	}
	return nil
}

// addrs holds the addresses of host index i. The access link of host i is
// 10.x.y.0/24 with x.y = i+1: the router is .1, the host (or its NAT) .2.
// Behind a NAT the host is 192.168.z.2 with z = i mod 256 and the NAT's
// inside address is 192.168.z.1; these repeat after 256 hosts, which is
// harmless because every NAT's inside network is a namespace of its own.
type addrs struct {
	router, outside   netip.Addr // access link: router side, host/NAT side
	natInside, inside netip.Addr // behind a NAT only
}

func hostAddrs(i int, nat bool) addrs {
	s := i + 1
	a := addrs{
		router:  netip.AddrFrom4([4]byte{10, byte(s >> 8), byte(s), 1}),
		outside: netip.AddrFrom4([4]byte{10, byte(s >> 8), byte(s), 2}),
	}
	if nat {
		a.natInside = netip.AddrFrom4([4]byte{192, 168, byte(i), 1})
		a.inside = netip.AddrFrom4([4]byte{192, 168, byte(i), 2})
	}
	return a
}

// tbfArgs returns the arguments of a tc tbf qdisc enforcing l.Rate. The
// bucket holds about a millisecond of traffic (at least two full-size
// frames), and the queue as many bytes as drain in l.Queue on top of that.
func tbfArgs(l Link) string {
	bytesPerSec := float64(l.Rate) / 8
	burst := max(int64(bytesPerSec/1000), 4096)
	q := l.Queue
	if q == 0 {
		q = DefaultQueue
	}
	limit := burst + int64(math.Ceil(bytesPerSec*q.Seconds()))
	return fmt.Sprintf("tbf rate %dbit burst %d limit %d", l.Rate, burst, limit)
}
