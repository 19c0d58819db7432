package wire

import "github.com/nextshare/nextshare/internal/bin"

// Request is a REQUEST message (RFC 7574 §8.10): send me these chunks.
// libswift only sends aligned power-of-two ranges but serves any range.
//
//	08 | chunk spec
type Request struct{ Range bin.Range }

// Type returns TypeRequest.
func (Request) Type() MsgType { return TypeRequest }

// Len returns the encoded length of m.
func (Request) Len(p Params) int { return rangeMsgLen(p) }

// Append appends m to b.
func (m Request) Append(b []byte, p Params) []byte {
	return AppendSpec(append(b, byte(TypeRequest)), m.Range, p)
}

func parseRequest(b []byte, p Params) (Request, int, error) {
	r, n, err := parseRangeBody(b, p)
	return Request{r}, n, err
}
