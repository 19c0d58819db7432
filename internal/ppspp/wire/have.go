package wire

import "github.com/nextshare/nextshare/internal/bin"

// Have is a HAVE message (RFC 7574 §8.5): the sender has verified these
// chunks and will serve them.
//
//	03 | chunk spec
type Have struct{ Range bin.Range }

// Type returns TypeHave.
func (Have) Type() MsgType { return TypeHave }

// Len returns the encoded length of m.
func (Have) Len(p Params) int { return rangeMsgLen(p) }

// Append appends m to b.
func (m Have) Append(b []byte, p Params) []byte {
	return AppendSpec(append(b, byte(TypeHave)), m.Range, p)
}

func parseHave(b []byte, p Params) (Have, int, error) {
	r, n, err := parseRangeBody(b, p)
	return Have{r}, n, err
}
