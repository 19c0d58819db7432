package wire

import (
	"math"
	"net/netip"
)

// Peer exchange messages, RFC 7574 §8.13.

// PexReq is a PEX_REQ message: send me addresses of other peers. No body.
//
//	06
type PexReq struct{}

// PexResV4 is a PEX_RESv4 message: one IPv4 peer address.
//
//	05 | IPv4 address (4) | port (2)
type PexResV4 struct{ Addr netip.AddrPort }

// PexResV6 is a PEX_RESv6 message: one IPv6 peer address.
//
//	0c | IPv6 address (16) | port (2)
type PexResV6 struct{ Addr netip.AddrPort }

// PexResCert is a PEX_REScert message: a membership certificate (§13.2).
//
//	0d | length (2) | certificate
type PexResCert struct{ Cert []byte }

// Type returns TypePexReq.
func (PexReq) Type() MsgType { return TypePexReq }

// Len returns 1.
func (PexReq) Len(Params) int { return 1 }

// Append appends the message to b.
func (PexReq) Append(b []byte, _ Params) []byte { return append(b, byte(TypePexReq)) }

// Type returns TypePexResV4.
func (PexResV4) Type() MsgType { return TypePexResV4 }

// Len returns 7.
func (PexResV4) Len(Params) int { return 1 + 4 + 2 }

// Append appends m to b. An IPv4-mapped IPv6 address is sent as IPv4; any
// other non-IPv4 address as 0.0.0.0.
func (m PexResV4) Append(b []byte, _ Params) []byte {
	var ip [4]byte
	if a := m.Addr.Addr().Unmap(); a.Is4() {
		ip = a.As4()
	}
	b = append(b, byte(TypePexResV4))
	b = append(b, ip[:]...)
	return be.AppendUint16(b, m.Addr.Port())
}

func parsePexResV4(b []byte, _ Params) (PexResV4, int, error) {
	if len(b) < 6 {
		return PexResV4{}, 0, truncated("IPv4 address and port", 6, len(b))
	}
	ip := netip.AddrFrom4([4]byte(b[:4]))
	return PexResV4{netip.AddrPortFrom(ip, be.Uint16(b[4:]))}, 6, nil
}

// Type returns TypePexResV6.
func (PexResV6) Type() MsgType { return TypePexResV6 }

// Len returns 19.
func (PexResV6) Len(Params) int { return 1 + 16 + 2 }

// Append appends m to b. An IPv4 address is sent IPv4-mapped; the zone of
// a scoped address is dropped.
func (m PexResV6) Append(b []byte, _ Params) []byte {
	ip := m.Addr.Addr().As16()
	b = append(b, byte(TypePexResV6))
	b = append(b, ip[:]...)
	return be.AppendUint16(b, m.Addr.Port())
}

func parsePexResV6(b []byte, _ Params) (PexResV6, int, error) {
	if len(b) < 18 {
		return PexResV6{}, 0, truncated("IPv6 address and port", 18, len(b))
	}
	ip := netip.AddrFrom16([16]byte(b[:16]))
	return PexResV6{netip.AddrPortFrom(ip, be.Uint16(b[16:]))}, 18, nil
}

// Type returns TypePexResCert.
func (PexResCert) Type() MsgType { return TypePexResCert }

// Len returns the encoded length of m.
func (m PexResCert) Len(Params) int { return 1 + 2 + min(len(m.Cert), math.MaxUint16) }

// Append appends m to b; a certificate longer than 65535 bytes is cut.
func (m PexResCert) Append(b []byte, _ Params) []byte {
	c := m.Cert[:min(len(m.Cert), math.MaxUint16)]
	b = append(b, byte(TypePexResCert))
	b = be.AppendUint16(b, uint16(len(c)))
	return append(b, c...)
}

func parsePexResCert(b []byte, _ Params) (PexResCert, int, error) {
	if len(b) < 2 {
		return PexResCert{}, 0, truncated("certificate length", 2, len(b))
	}
	n := 2 + int(be.Uint16(b))
	if len(b) < n {
		return PexResCert{}, 0, truncated("certificate", n, len(b))
	}
	return PexResCert{b[2:n:n]}, n, nil
}
