package wire

// AppendChannel starts a datagram: it appends the 4-byte destination
// channel ID (RFC 7574 §8.3). Channel 0 is for a datagram that opens a
// channel with a HANDSHAKE. A datagram with nothing after the channel ID is a
// keep-alive (§8.14).
func AppendChannel(b []byte, ch uint32) []byte { return be.AppendUint32(b, ch) }

// AppendMessages appends msgs to b in order, each laid out with p. It does
// not switch parameters after a HANDSHAKE: a datagram whose later messages
// depend on options of an earlier handshake needs one Append per message.
func AppendMessages(b []byte, p Params, msgs ...Message) []byte {
	for _, m := range msgs {
		b = m.Append(b, p)
	}
	return b
}
