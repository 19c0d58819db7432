package wire

import "github.com/nextshare/nextshare/internal/bin"

// Cancel is a CANCEL message (RFC 7574 §8.11): forget my REQUEST for these
// chunks.
//
//	09 | chunk spec
type Cancel struct{ Range bin.Range }

// Type returns TypeCancel.
func (Cancel) Type() MsgType { return TypeCancel }

// Len returns the encoded length of m.
func (Cancel) Len(p Params) int { return rangeMsgLen(p) }

// Append appends m to b.
func (m Cancel) Append(b []byte, p Params) []byte {
	return AppendSpec(append(b, byte(TypeCancel)), m.Range, p)
}

func parseCancel(b []byte, p Params) (Cancel, int, error) {
	r, n, err := parseRangeBody(b, p)
	return Cancel{r}, n, err
}
