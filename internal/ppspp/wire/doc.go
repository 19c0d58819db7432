// Package wire encodes and decodes PPSPP datagrams: the messages of RFC 7574
// §8, the handshake options of §7 and the chunk specifications of §4, in the
// byte layout libswift (the reference implementation) puts on the wire.
//
// A datagram is a 4-byte destination channel ID followed by zero or more
// messages (§8.1); a datagram holding only the channel ID is a keep-alive
// (§8.14). Each message is a 1-byte type followed by a body whose length is
// fixed by the channel's parameters (Params): the chunk addressing method
// (§7.8) fixes the size of every chunk specification, the Merkle hash
// function (§7.6) the size of INTEGRITY hashes, and the live signature
// algorithm (§7.7) the size of SIGNED_INTEGRITY signatures. DATA carries no
// length: its payload runs to the end of the datagram, so it is always the
// last message.
//
// Guarantees:
//   - Decoding never allocates on well-formed input and never panics on any
//     input: Reader walks a datagram in place and every byte slice it yields
//     (payloads, hashes, signatures, swarm IDs) aliases the datagram, so it
//     is valid only while the caller keeps that buffer unchanged.
//   - Encoding appends to a caller-supplied slice and allocates only when
//     that slice must grow. No reflection is used anywhere.
//   - In memory every chunk specification is a bin.Range of chunk indices,
//     whatever the addressing method on the wire. Ranges are validated on
//     decode: bin None, End < Start, unaligned byte-range starts and chunks
//     at or beyond 2^32 are rejected with ErrBadRange.
//   - Errors name the message type and datagram offset and wrap one of the
//     sentinel errors (ErrTruncated, ErrUnknownMessage, ErrUnknownOption,
//     ErrBadOption, ErrBadRange), so callers can count drops by kind.
//   - Re-encoding a decoded message with the parameters that were in force
//     when it was decoded yields a message that decodes to the same value;
//     handshake options are re-encoded in ascending code order, the order
//     libswift uses, so libswift's datagrams round-trip byte for byte.
package wire
