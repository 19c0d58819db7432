package wire

// Choke is a CHOKE message (RFC 7574 §8.12): the sender will not answer
// requests until it sends UNCHOKE. It has no body.
//
//	0a
type Choke struct{}

// Unchoke is an UNCHOKE message (RFC 7574 §8.12): requests are served
// again. It has no body.
//
//	0b
type Unchoke struct{}

// Type returns TypeChoke.
func (Choke) Type() MsgType { return TypeChoke }

// Len returns 1.
func (Choke) Len(Params) int { return 1 }

// Append appends the message to b.
func (Choke) Append(b []byte, _ Params) []byte { return append(b, byte(TypeChoke)) }

// Type returns TypeUnchoke.
func (Unchoke) Type() MsgType { return TypeUnchoke }

// Len returns 1.
func (Unchoke) Len(Params) int { return 1 }

// Append appends the message to b.
func (Unchoke) Append(b []byte, _ Params) []byte { return append(b, byte(TypeUnchoke)) }
