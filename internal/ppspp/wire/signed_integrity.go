package wire

import "github.com/nextshare/nextshare/internal/bin"

// SignedIntegrity is a SIGNED_INTEGRITY message (RFC 7574 §8.9): the live
// source's signature over a munro (the root of a signed subtree, §6.1).
//
//	07 | chunk spec | timestamp (8) | signature (Params.SigSize bytes)
//
// libswift differs from the RFC here: its timestamp is Unix microseconds,
// not NTP, and the signature covers the munro hash alone.
type SignedIntegrity struct {
	Range     bin.Range
	Timestamp uint64
	Signature []byte
}

// Type returns TypeSignedIntegrity.
func (SignedIntegrity) Type() MsgType { return TypeSignedIntegrity }

// Len returns the encoded length of m.
func (SignedIntegrity) Len(p Params) int { return 1 + p.Addr.Size() + 8 + p.SigSize }

// Append appends m to b; the signature is cut or zero-padded to p.SigSize.
func (m SignedIntegrity) Append(b []byte, p Params) []byte {
	b = append(b, byte(TypeSignedIntegrity))
	b = AppendSpec(b, m.Range, p)
	b = be.AppendUint64(b, m.Timestamp)
	return appendFixed(b, m.Signature, p.SigSize)
}

func parseSignedIntegrity(b []byte, p Params) (SignedIntegrity, int, error) {
	s := p.Addr.Size() + 8
	n := s + p.SigSize
	if len(b) < n {
		return SignedIntegrity{}, 0, truncated("chunk specification, timestamp and signature", n, len(b))
	}
	r, err := parseSpec(b, p)
	if err != nil {
		return SignedIntegrity{}, 0, err
	}
	return SignedIntegrity{Range: r, Timestamp: be.Uint64(b[s-8:]), Signature: b[s:n:n]}, n, nil
}
