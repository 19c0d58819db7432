// Package dht is a Mainline BitTorrent DHT node: KRPC over UDP as in
// BEP 5, with node IDs derived from the external IP (BEP 42) and a
// read-only mode (BEP 43).
//
// # Wire format
//
// Messages are bencoded dictionaries. The codec in this package is strict:
// it rejects trailing data, leading zeros and "-0" in integers, string
// lengths beyond the datagram, dictionary keys out of order or repeated,
// and nesting deeper than a few levels. Datagrams larger than 1500 bytes
// are dropped. Decoded strings alias the datagram, so decoding allocates
// only the containers. Unknown keys are ignored. Every malformed datagram
// is counted (Stats.Malformed) and dropped.
//
// # Server side
//
// Unless read-only, a node answers ping, find_node, get_peers and
// announce_peer. get_peers tokens are an HMAC of the requester's IP under
// a secret rotated every five minutes; tokens from the current and the
// previous secret are accepted. Announced peers are kept for 30 minutes,
// with caps per info-hash and in total. Queries are rate-limited per
// source IP (token bucket) and answers are trimmed so that they are never
// more than a small multiple of the query's size, which keeps the node
// useless as a reflection amplifier. Answers carry the requester's address
// under "ip" (BEP 42).
//
// # Routing table
//
// The table is a Kademlia table with k = 8 and splitting of the bucket that
// covers the own ID. Entries are good, questionable or bad as in BEP 5:
// good if they answered within 15 minutes (or answered once and queried
// us within 15 minutes), bad after two unanswered queries in a row. A full
// bucket keeps newcomers in a replacement cache and pings its stalest
// questionable entry; bad entries are replaced at once. Unknown nodes that
// query us are pinged before they may enter, and nodes that mark their
// queries read-only ("ro":1) never enter. Stale buckets are refreshed with
// a lookup of a random ID in their range. With Config.StatePath the
// table's contacts and the ID are saved (atomically) and reloaded.
//
// A zero Config.ID gives the saved ID or a random one, conforming to
// BEP 42 when the socket's address is public; once three responders agree
// (in the "ip" key of their answers) on a public external IP that the ID
// does not fit, a conformant ID is generated and the table rebuilt around
// it. An explicit Config.ID is never replaced. ValidID checks an ID
// against an IP; it is not enforced for routing, so that nodes on
// loopback and private networks interoperate.
//
// # Concurrency
//
// New starts a reader goroutine (unless Config.Shared) and a maintenance
// goroutine; Close stops them and waits. All state is guarded by one
// mutex held only for short, non-blocking sections, so HandlePacket may be
// called from the socket owner's goroutine. Every loop that sends is
// bounded: a lookup sends at most 256 queries, background verification
// pings are limited to 8 at a time, and maintenance refreshes at most one
// bucket and pings at most 4 nodes per tick.
//
// # Lookups
//
// Besides the table, a node remembers up to 4096 contacts: nodes that
// answered it and nodes named in answers (at most 8 per answer), dropped
// when a query to them times out and, when full, an unverified or long
// unseen one making room. A Kademlia table keeps 8 nodes per bucket and
// so knows little of the ID space far from the own ID; the contacts let a
// lookup start from the closest nodes ever seen, often one hop from the
// target instead of three. After Bootstrap's lookup of the own ID, a node
// with fewer than 512 contacts (and fewer than half the nodes the network
// is estimated to have) sends one find_node for a random target in each
// 128th of the ID space to the closest contact it knows there (128
// queries, 16 at a time).
//
// GetPeers, Announce and Bootstrap run iterative lookups that start from
// the closest known nodes (table, replacement caches and contacts) and
// keep alpha queries in flight: 3, and 2 for GetPeers. Among the fresh
// candidates in the 8 closest, the next query goes to the one expected to
// lead soonest to the target's 8 closest nodes: its expected RTT (its
// smoothed RTT, or the median of known nodes') plus a typical RTT for
// every 3 bits it is farther from the target than the 8 closest nodes
// usually are. That distance is estimated from the 8th closest node to
// the own ID, which the table knows well (2^160·8/N for N nodes).
// GetPeers does not send a query that is expected to arrive a typical RTT
// after one already in flight. A query that has not been answered after
// the node's expected RTT (srtt+rttvar, or the 40th percentile of known
// nodes' RTTs for a node without one) becomes slow: one more query is
// sent in its place while its answer is still taken if it comes. Each
// answer that brings no closer node and, for GetPeers, running longer than
// 250 ms raise alpha up to 3. A lookup stops when the 8 closest nodes
// found that are neither failed nor slow have all answered; GetPeers stops
// at the first answer with peers. No address is queried twice and every
// query sent is counted (Lookup.Queries). A query's own timeout is
// srtt+4*rttvar of that node, clamped to 100 ms–1 s, and 1 s for nodes
// without an estimate. Answers are untrusted: at most 8 nodes are taken
// from one answer, port 0 and unspecified addresses are ignored, and an
// answer counts only if its transaction ID matches a query sent to the
// address it came from.
//
// # Stored items (BEP 44)
//
// A node answers get and put for immutable items (target: SHA-1 of the
// bencoded value) and ed25519-signed mutable items (target: SHA-1 of the
// key and salt), with the errors of BEP 44 for a value over 1000 bytes
// (205), a bad signature (206), a salt over 64 bytes (207), a CAS mismatch
// (301) and an older sequence number (302; also for a different value
// with the same one). put needs a token from get, as announce_peer does.
// Items live 2 hours from their last put, in a store capped in count and
// bytes; a get answer may exceed the amplification limit by the size of
// the item it carries. Get verifies what it receives (hash or signature)
// and keeps the highest seq; PutImmutable and PutMutable run a get lookup
// and store on the closest 8 nodes that gave a token.
package dht
