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
// GetPeers, Announce and Bootstrap run iterative lookups that start from
// the closest known nodes (table and replacement caches), keep 4 queries in
// flight (up to 8 after timeouts), send a new query as each one ends, and
// stop when the 8 closest nodes found have all answered or failed. Each
// query's timeout is srtt+4*rttvar of that node, clamped to 100 ms–1 s,
// and 1 s for nodes without an estimate. Answers are untrusted: at most 8
// nodes are taken from one answer, port 0 and unspecified addresses are
// ignored, and an answer counts only if its transaction ID matches a query
// sent to the address it came from.
package dht
