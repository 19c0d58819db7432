package wire

import (
	"errors"
	"fmt"
)

// Sentinel errors: every decoding error wraps exactly one of them, so a
// caller can count refused datagrams by kind with errors.Is.
var (
	// ErrTruncated: the datagram ends inside a message, a handshake has no
	// end option, or a datagram is shorter than its channel ID.
	ErrTruncated = errors.New("truncated")
	// ErrUnknownMessage: a message type byte outside RFC 7574 §8's table
	// (0..13). Since message lengths depend on the type, nothing after it
	// can be read.
	ErrUnknownMessage = errors.New("unknown message type")
	// ErrUnknownOption: a handshake option code outside RFC 7574 §7's table
	// (0..9, 255). libswift drops the whole handshake on one too.
	ErrUnknownOption = errors.New("unknown handshake option")
	// ErrBadOption: a known option with a value this package cannot use: a
	// repeated option, an unknown chunk addressing method, hash function or
	// signature algorithm, a zero chunk size.
	ErrBadOption = errors.New("bad handshake option")
	// ErrBadRange: a chunk specification that names no chunks or chunks at
	// or beyond bin.MaxChunks (2^32): bin None, End < Start, an unaligned byte-range
	// start.
	ErrBadRange = errors.New("bad chunk range")
	// ErrBadParams: Reader.Reset was given Params it cannot decode with
	// (an unknown chunk addressing method, a hash or signature size <= 0).
	ErrBadParams = errors.New("bad parameters")
)

// ParseError describes where and why decoding a datagram failed.
type ParseError struct {
	Offset int     // byte offset of the failing message's type byte in the datagram
	Type   MsgType // the failing message's type
	Err    error   // one of the sentinel errors above
	Detail string  // what exactly was wrong, with the offending values
}

func (e *ParseError) Error() string {
	s := fmt.Sprintf("wire: %v at offset %d: %v", e.Type, e.Offset, e.Err)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func (e *ParseError) Unwrap() error { return e.Err }

// errf returns a *ParseError of the given kind. Parsers of single messages
// do not know their offset in the datagram; Reader fills Offset and Type in.
// Errors are only built on the failure path, so well-formed input does not
// allocate.
func errf(kind error, format string, args ...any) *ParseError {
	return &ParseError{Err: kind, Detail: fmt.Sprintf(format, args...)}
}

func truncated(what string, need, have int) *ParseError {
	return errf(ErrTruncated, "%s needs %d bytes, %d left", what, need, have)
}
