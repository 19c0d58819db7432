package wire

// Handshake is a HANDSHAKE message (RFC 7574 §8.4): the sender's channel
// ID for this peer followed by its protocol options (§7).
//
//	00 | source channel (4) | options ... | ff
//
// A HANDSHAKE with source channel 0 is an explicit close of the channel the
// datagram is addressed to; libswift sends it with no options
// (Handshake{}: 00 00000000 ff).
type Handshake struct {
	SrcChannel uint32
	Options    Options
}

// Type returns TypeHandshake.
func (Handshake) Type() MsgType { return TypeHandshake }

// IsClose reports whether m closes the channel (§8.4: source channel 0).
func (m Handshake) IsClose() bool { return m.SrcChannel == 0 }

// Len returns the encoded length of m under p. p matters only for the
// width of option 7 when m has no option 6.
func (m Handshake) Len(p Params) int { return 1 + 4 + m.Options.Len(p) }

// Append appends m to b.
func (m Handshake) Append(b []byte, p Params) []byte {
	b = append(b, byte(TypeHandshake))
	b = be.AppendUint32(b, m.SrcChannel)
	return m.Options.Append(b, p)
}

// parseHandshake decodes a HANDSHAKE body (after the type byte).
func parseHandshake(b []byte, p Params) (Handshake, int, error) {
	if len(b) < 4 {
		return Handshake{}, 0, truncated("source channel", 4, len(b))
	}
	o, n, err := parseOptions(b[4:], p)
	if err != nil {
		return Handshake{}, 0, err
	}
	return Handshake{SrcChannel: be.Uint32(b), Options: o}, 4 + n, nil
}
