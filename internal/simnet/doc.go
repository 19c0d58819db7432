// Package simnet is an in-process simulated UDP network for testing protocol
// code deterministically. Hosts are identified by an IP address (IPv4 or
// IPv6) and each has an uplink and a downlink with a one-way delay, uniform
// jitter, random loss, optional duplication and an optional rate limit with a
// bounded drop-tail queue. Endpoints are *Conn values, which implement
// net.PacketConn, so transport code written against net.PacketConn runs over
// simnet unchanged.
//
// # Path of a packet
//
// A datagram written by a conn on host A to an address on host B goes:
//
//	A's uplink:    loss, then queue (departure = max(now, previous departure) + size/Rate;
//	               tail drop when departure-now > Queue), then duplication
//	propagation:   A.up.Delay + jitter(A.up) + B.down.Delay + jitter(B.down)
//	B's downlink:  loss, then queue (same rule), then duplication
//	B's conn:      bounded receive queue (RecvQueuePackets); overflow is dropped
//
// Payload bytes count against Rate, plus each link's per-packet Overhead
// (0 unless set), which stands for the headers a real link carries.
// Conns on the same host share that host's links, which is how a shared
// bottleneck is built. A datagram sent to the sender's own host skips both
// links and is delivered at once. Every drop is counted (see Stats).
//
// # Determinism
//
// The package works in real time, but it is built for testing/synctest
// bubbles (Go ≥ 1.25), where time is virtual and advances only when every
// goroutine of the bubble is durably blocked. All waiting in simnet is on
// channels and timers created by the bubble that uses it; nothing polls and
// nothing touches the operating system's network. Create the Network, its
// hosts and its conns inside the bubble that uses them: channels and timers
// made in a bubble may not be used from outside it.
//
// Randomness comes only from the seed given to New. Each link draws from its
// own PCG stream derived from that seed and the link's identity (address and
// direction), so the fate of packets on one link does not depend on how
// traffic on other links interleaves. Packets in flight are kept in one
// event queue ordered by (time, insertion order) and processed by one timer
// callback at a time, so deliveries at the same instant happen in a fixed
// order. Given the same seed and the same sequence of writes, a run is
// repeatable.
package simnet
