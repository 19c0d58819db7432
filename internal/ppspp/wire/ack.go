package wire

import "github.com/nextshare/nextshare/internal/bin"

// Ack is an ACK message (RFC 7574 §8.7): the chunks acknowledged and a
// one-way delay sample for LEDBAT (RFC 6817). libswift sends the sample as a
// signed 64-bit count of microseconds: the receiver's clock at arrival minus
// the DATA timestamp.
//
//	02 | chunk spec | delay sample (8)
type Ack struct {
	Range       bin.Range
	DelaySample int64
}

// Type returns TypeAck.
func (Ack) Type() MsgType { return TypeAck }

// Len returns the encoded length of m.
func (Ack) Len(p Params) int { return 1 + p.Addr.Size() + 8 }

// Append appends m to b.
func (m Ack) Append(b []byte, p Params) []byte {
	b = append(b, byte(TypeAck))
	b = AppendSpec(b, m.Range, p)
	return be.AppendUint64(b, uint64(m.DelaySample))
}

func parseAck(b []byte, p Params) (Ack, int, error) {
	n := p.Addr.Size() + 8
	if len(b) < n {
		return Ack{}, 0, truncated("chunk specification and delay sample", n, len(b))
	}
	r, err := parseSpec(b, p)
	if err != nil {
		return Ack{}, 0, err
	}
	return Ack{Range: r, DelaySample: int64(be.Uint64(b[n-8:]))}, n, nil
}
