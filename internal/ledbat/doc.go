// Package ledbat implements LEDBAT, the Low Extra Delay Background Transport
// congestion controller of RFC 6817, used for PPSPP transfers, and the
// retransmission-timer computation of RFC 6298.
//
// LEDBAT keeps the queuing delay it adds at a bottleneck near a target
// (25 ms by default) and yields to loss-based TCP-like flows, which fill
// queues well beyond that target. The sender measures one-way delay: every
// acknowledgement carries the receiver's clock minus the data packet's send
// timestamp. Both clocks may be offset; only differences from the base
// (minimum) delay are used, so a constant offset does not matter (RFC 6817
// §2.3, §3.1).
//
// What this package guarantees:
//
//   - The controller follows the RFC 6817 §2.4.2 pseudo-code: base delay is
//     the minimum over the last BaseHistory one-minute buckets, the current
//     delay is the minimum of the last CurrentFilter samples, and on every
//     acknowledgement cwnd += GAIN·off_target·bytes_acked·MSS/cwnd with
//     off_target = (TARGET − queuing_delay)/TARGET. The window never falls
//     below MinCwnd except right after a timeout, and never exceeds MaxCwnd.
//   - When the caller reports the flight size (OnAckInFlight), cwnd is capped
//     at flightsize + ALLOWED_INCREASE·MSS, so an application-limited sender
//     does not build up an unused window (§2.4.2).
//   - Loss halves cwnd at most once per round-trip time (§2.4.1); a
//     retransmission timeout sets cwnd to one MSS and backs off the timer
//     (§2.4.2, RFC 5681 §3.1). A loss the caller finds spurious can be
//     undone once (UndoLoss), until a timeout makes the reduction final.
//   - Slow start (a choice RFC 6817 §2.4.2 leaves open, as long as LEDBAT is
//     not more aggressive than TCP): the window starts in slow start, growing
//     by the acknowledged bytes, at most ALLOWED_INCREASE·MSS per
//     acknowledged packet (OnAckPackets counts an acknowledgement of several
//     packets as that many), and leaves it for good as soon as the
//     queuing delay exceeds TARGET/2, on the first loss, or when it reaches
//     the slow-start threshold. After a timeout it slow-starts again up to
//     half the window it had. Config.NoSlowStart disables it.
//
// Time is passed in by the caller, never read from the system clock, so the
// controller runs under a virtual clock (testing/synctest) unchanged. A
// LEDBAT value is not safe for concurrent use; it belongs to the goroutine
// that owns the connection.
package ledbat
