// Package ppspp is the PPSPP protocol engine (RFC 7574): one UDP socket per
// node carrying many swarms, each with many peer channels.
//
// It implements the channel handshake (§8.4, §7 options, with libswift's
// option set: version 1, Merkle integrity, SHA-1 or SHA-256, chunk ranges or
// bins), HAVE/ACK (§8.5, §8.7), REQUEST/CANCEL (§8.10, §8.11), INTEGRITY
// before DATA (§8.8, §8.6, §5.4–§5.6), CHOKE/UNCHOKE (§8.12), PEX (§8.13),
// KEEPALIVE (§8.14), explicit close, sender-side retransmission, and LEDBAT congestion
// control (RFC 6817) fed by DATA timestamps and ACK delay samples.
//
// Guarantees:
//   - A chunk is written to storage, announced with HAVE and served to others
//     only after its Merkle path to the root hash has been verified. A peer
//     whose data fails verification is dropped and its address refused for
//     the swarm.
//   - Every datagram is untrusted: malformed datagrams, unknown message
//     types, ranges outside the content and handshakes for unknown swarms are
//     dropped and counted in Stats; nothing a peer sends can crash the node.
//   - One goroutine (the loop) owns all protocol state; a reader goroutine
//     moves datagrams off the socket and hashes DATA payloads, so hashing is
//     off the protocol path.
//   - Channel IDs we allocate never start with the byte 'd', so a Mainline
//     DHT node can share the socket and tell its bencoded KRPC messages apart
//     by their first byte.
//
// Interop with libswift: we never send handshake options 8 or 9, we answer a
// handshake with the method values the initiator used, and we announce
// protocol version 1.
package ppspp
