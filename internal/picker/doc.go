// Package picker decides which chunks a PPSPP downloader requests from which
// peer. RFC 7574 leaves the choice to the implementation; this package
// supplies it for the REQUEST (§3.7) and CANCEL (§3.8) messages, from the
// availability peers announce in HAVE messages (§3.2).
//
// The policy:
//   - Urgent ranges (SetUrgent) come first: the chunks readers wait for or
//     will need within moments, range by range in the order given and in
//     order within each, and only to peers without a lead (SetLead) while
//     some peer has none; a peer with a lead gets nothing within it from
//     the start of an urgent range. RequestAgain asks a second peer for an
//     urgent chunk whose first request would arrive too late.
//   - An in-order window of Config.Window chunks starts at the first missing
//     chunk at or after the playback position. Inside it, chunks that fewer
//     than all peers have are picked rarest first, so pieces spread through
//     the swarm; equal rarity is broken by a random rotation point drawn per
//     call from a per-picker seeded generator, so that leechers starting
//     together ask a seeder for different chunks.
//     Chunks every peer has are picked in order.
//   - Outside the window chunks are picked in order, so the download stays
//     roughly sequential for streaming.
//   - Endgame: once every missing chunk some peer has is requested, a chunk
//     may be requested from a second peer; Duplicates names the peers to
//     send a CANCEL to when it arrives.
//
// Guarantees: Next never returns a chunk the peer did not announce, a
// verified chunk, or (outside endgame) a chunk already requested, and only
// RequestAgain adds a second request otherwise; no chunk is
// requested from more than two peers; whenever some chunk is pickable from a
// peer, Next returns at least one for it (within a lead only if no peer
// has lead 0). Picking costs amortized O(1) per
// chunk: a rarity index over the window (one bit per chunk and level) is
// scanned a machine word at a time, and per-peer cursors avoid rescanning
// the chunks after the window.
//
// Playback: SetPosition moves the window start; the engine sizes the
// urgent ranges, one per reader, and each peer's lead.
//
// A Picker is owned by one goroutine (the engine's); it does no locking.
package picker
