package udpio

import (
	"net"
	"net/netip"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawSockaddr holds either a sockaddr_in or a sockaddr_in6; the IPv6 form is
// the larger.
type rawSockaddr = unix.RawSockaddrInet6

// putSockaddr encodes ap for a socket of the given family into sa and
// returns its length. An AF_INET6 socket reaches IPv4 peers through
// IPv4-mapped addresses; an AF_INET socket cannot reach IPv6 peers.
func putSockaddr(sa *rawSockaddr, ap netip.AddrPort, family int) (uint32, error) {
	a := ap.Addr()
	if !a.IsValid() {
		return 0, errInvalidAddr
	}
	if family == unix.AF_INET {
		a = a.Unmap()
		if !a.Is4() {
			return 0, errInvalidAddr
		}
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		*sa4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: a.As4()}
		putPort(&sa4.Port, ap.Port())
		return unix.SizeofSockaddrInet4, nil
	}
	*sa = rawSockaddr{Family: unix.AF_INET6, Addr: a.As16()}
	putPort(&sa.Port, ap.Port())
	if z := a.Zone(); z != "" {
		id, err := zoneIndex(z)
		if err != nil {
			return 0, err
		}
		sa.Scope_id = id
	}
	return unix.SizeofSockaddrInet6, nil
}

// zoneIndex maps an IPv6 zone (an interface index or name) to its index.
// Named zones cost a lookup; received addresses carry numeric zones.
func zoneIndex(z string) (uint32, error) {
	if n, err := strconv.ParseUint(z, 10, 32); err == nil {
		return uint32(n), nil
	}
	ifi, err := net.InterfaceByName(z)
	if err != nil {
		return 0, err
	}
	return uint32(ifi.Index), nil
}

// addrPortFromSockaddr decodes a received source address, unmapping
// IPv4-mapped IPv6 addresses. A scoped IPv6 address gets its interface index
// as zone. An unknown family gives the zero AddrPort.
func addrPortFromSockaddr(sa *rawSockaddr) netip.AddrPort {
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), getPort(&sa4.Port))
	case unix.AF_INET6:
		a := netip.AddrFrom16(sa.Addr).Unmap()
		if sa.Scope_id != 0 && a.Is6() {
			a = a.WithZone(strconv.FormatUint(uint64(sa.Scope_id), 10))
		}
		return netip.AddrPortFrom(a, getPort(&sa.Port))
	}
	return netip.AddrPort{}
}

// Ports sit in sockaddrs in network byte order whatever the host's order.
func putPort(p *uint16, port uint16) {
	b := (*[2]byte)(unsafe.Pointer(p))
	b[0], b[1] = byte(port>>8), byte(port)
}

func getPort(p *uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(p))
	return uint16(b[0])<<8 | uint16(b[1])
}
