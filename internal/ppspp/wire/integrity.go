package wire

import "github.com/nextshare/nextshare/internal/bin"

// Integrity is an INTEGRITY message (RFC 7574 §8.8): the Merkle hash of the
// subtree covering Range. Before DATA a libswift seeder sends the peak
// hashes, then the uncle hashes the receiver lacks (§5.6).
//
//	04 | chunk spec | hash (Params.HashSize bytes; 20 for SHA-1)
type Integrity struct {
	Range bin.Range
	Hash  []byte
}

// Type returns TypeIntegrity.
func (Integrity) Type() MsgType { return TypeIntegrity }

// Len returns the encoded length of m.
func (Integrity) Len(p Params) int { return 1 + p.Addr.Size() + p.HashSize }

// Append appends m to b. The hash is cut or zero-padded to p.HashSize so
// that the message keeps the length the receiver expects.
func (m Integrity) Append(b []byte, p Params) []byte {
	b = append(b, byte(TypeIntegrity))
	b = AppendSpec(b, m.Range, p)
	return appendFixed(b, m.Hash, p.HashSize)
}

func parseIntegrity(b []byte, p Params) (Integrity, int, error) {
	s := p.Addr.Size()
	n := s + p.HashSize
	if len(b) < n {
		return Integrity{}, 0, truncated("chunk specification and hash", n, len(b))
	}
	r, err := parseSpec(b, p)
	if err != nil {
		return Integrity{}, 0, err
	}
	return Integrity{Range: r, Hash: b[s:n:n]}, n, nil
}

// appendFixed appends exactly n bytes: v, cut or zero-padded. Fields without
// a length prefix must keep their size or every later message would be
// misread.
func appendFixed(b, v []byte, n int) []byte {
	if len(v) >= n {
		return append(b, v[:n]...)
	}
	b = append(b, v...)
	for range n - len(v) {
		b = append(b, 0)
	}
	return b
}
