package wire

import "strconv"

// MsgType is the first byte of every message (RFC 7574 §8.2, IANA "PPSP
// Peer Protocol Message Type Registry"; libswift uses the same values).
type MsgType uint8

// Message types, RFC 7574 §8.
const (
	TypeHandshake       MsgType = 0  // §8.4
	TypeData            MsgType = 1  // §8.6
	TypeAck             MsgType = 2  // §8.7
	TypeHave            MsgType = 3  // §8.5
	TypeIntegrity       MsgType = 4  // §8.8
	TypePexResV4        MsgType = 5  // §8.13
	TypePexReq          MsgType = 6  // §8.13
	TypeSignedIntegrity MsgType = 7  // §8.9
	TypeRequest         MsgType = 8  // §8.10
	TypeCancel          MsgType = 9  // §8.11
	TypeChoke           MsgType = 10 // §8.12
	TypeUnchoke         MsgType = 11 // §8.12
	TypePexResV6        MsgType = 12 // §8.13
	TypePexResCert      MsgType = 13 // §8.13

	numMsgTypes = 14
)

var msgTypeNames = [numMsgTypes]string{
	"HANDSHAKE", "DATA", "ACK", "HAVE", "INTEGRITY", "PEX_RESv4", "PEX_REQ",
	"SIGNED_INTEGRITY", "REQUEST", "CANCEL", "CHOKE", "UNCHOKE", "PEX_RESv6",
	"PEX_REScert",
}

// String returns the RFC's name for t, or "MsgType(n)" for unknown types.
func (t MsgType) String() string {
	if t < numMsgTypes {
		return msgTypeNames[t]
	}
	return "MsgType(" + strconv.Itoa(int(t)) + ")"
}

// Known reports whether t is one of the 14 message types of RFC 7574.
func (t MsgType) Known() bool { return t < numMsgTypes }

// Message is implemented by every message struct of this package. Append
// appends the message (type byte included) to b; Len returns how many bytes
// Append writes. Both depend on p only for the sizes of chunk
// specifications, hashes, signatures and the live discard window.
type Message interface {
	Type() MsgType
	Append(b []byte, p Params) []byte
	Len(p Params) int
}
