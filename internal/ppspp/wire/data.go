package wire

import "github.com/nextshare/nextshare/internal/bin"

// Data is a DATA message (RFC 7574 §8.6): a chunk specification, the
// sender's 64-bit timestamp (libswift: microseconds since the Unix epoch,
// echoed by LEDBAT's delay samples) and the chunk's bytes.
//
//	01 | chunk spec | timestamp (8) | payload ... to the end of the datagram
//
// The payload has no length field, so DATA must be the last message of its
// datagram.
type Data struct {
	Range     bin.Range
	Timestamp uint64
	Payload   []byte
}

// Type returns TypeData.
func (Data) Type() MsgType { return TypeData }

// HeaderLen returns the length of m without its payload.
func (Data) HeaderLen(p Params) int { return 1 + p.Addr.Size() + 8 }

// Len returns the encoded length of m, payload included.
func (m Data) Len(p Params) int { return m.HeaderLen(p) + len(m.Payload) }

// AppendHeader appends m without its payload. A sender can then read the
// chunk from storage straight into the datagram buffer behind it instead of
// copying it through m.Payload.
func (m Data) AppendHeader(b []byte, p Params) []byte {
	b = append(b, byte(TypeData))
	b = AppendSpec(b, m.Range, p)
	return be.AppendUint64(b, m.Timestamp)
}

// Append appends m, payload included.
func (m Data) Append(b []byte, p Params) []byte {
	return append(m.AppendHeader(b, p), m.Payload...)
}

// parseData decodes a DATA body; it takes the rest of the datagram. The
// payload aliases b.
func parseData(b []byte, p Params) (Data, int, error) {
	n := p.Addr.Size() + 8
	if len(b) < n {
		return Data{}, 0, truncated("chunk specification and timestamp", n, len(b))
	}
	r, err := parseSpec(b, p)
	if err != nil {
		return Data{}, 0, err
	}
	return Data{Range: r, Timestamp: be.Uint64(b[n-8:]), Payload: b[n:len(b):len(b)]}, len(b), nil
}
