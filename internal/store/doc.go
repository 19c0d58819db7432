// Package store keeps the content of one PPSPP swarm on disk, together with
// the set of verified chunks and the verified Merkle tree node hashes, so
// that a download survives kill -9 and power loss and resumes where it
// stopped, and so that a byte that was not verified is never handed out.
//
// Only chunks already verified against the Merkle hash tree (RFC 7574 §5.1,
// §5.2) are written here; verification itself is the caller's job (package
// merkle), and where the store needs a chunk re-verified it takes a
// callback. Chunks are addressed by index and tree nodes by bin number
// (RFC 7574 §4.2). The content size may be learnt late (RFC 7574 §5.6):
// the layout can be set after Open, and the size from the last chunk.
//
// # Files
//
// The content lives in a sparse file at the user's path, mapped shared
// with mmap for reading; chunks are written with pwrite, consecutive ones
// gathered into one call (Stage, Flush). Next to it, in
// <path>.nsstate, a mapped state file holds a CRC32C-protected header (root
// hash, hash function, hash size, chunk size, chunk count, exact size), a
// "live" chunk bitmap, two checkpoint slots, and the node hashes indexed by
// bin number with a presence bitmap. An open state file is locked (flock),
// so two processes never drive the same download.
//
// # Crash model
//
// Data, then record. Flush writes staged chunks into the content file and
// then sets their bits in the live bitmap; PutHash writes the hash
// bytes and then the node's presence bit. When the process dies (kill -9)
// the page cache keeps every store it made, in program order, so a set live
// bit means the chunk's bytes are there. A chunk whose bit was not set yet
// was in flight and is downloaded again.
//
// Power loss can write pages back in any order, so the live bitmap alone
// proves nothing after one. A checkpoint (CheckpointAsync, which the owner
// calls every few seconds and which syncs on another goroutine, or
// Checkpoint, which Close calls and which waits) first takes a copy of the
// verified-chunk set, then syncs the content, then the state file's
// header, live bitmap and hashes, and only then writes that copy into the
// older of two checkpoint slots (generation number, flags, CRC32C) and
// syncs it. A torn slot fails its
// CRC and the other, older slot is used.
//
// On Open, chunks in the newest valid checkpoint are trusted: their bytes
// were durable before the slot was written. Chunks set only in the live
// bitmap are not in Have until Recover has passed each to the caller's
// verify callback; those that fail are cleared. A state file that is
// corrupt, truncated, or describes another swarm is discarded and
// recreated: Open reports reset, StateReset says why, and the content file
// is treated as empty. Chunks lying beyond the end of a content file that
// someone truncated are dropped.
//
// Stored node hashes are never trusted blindly: after a power loss a
// presence bit may have reached the disk without its hash. Hashes hands
// them back for the caller to verify against the root hash.
//
// Finish, once every chunk is present, cuts the content file to its exact
// size and checkpoints with a finished flag; a later Open of the download
// trusts every chunk without re-verification. OpenComplete maps a finished
// file read-only for seeding and writes no state at all.
//
// A full disk makes Flush (and WriteChunk) fail with the write's error, and
// the store then refuses further chunks. A read of the mapping faults if
// another process truncates the file; such faults, and those of stores into
// the state mapping, are turned into errors by PutHash and ReadAt. Slices returned by
// Chunk are not protected that way.
//
// # Concurrency
//
// One owner goroutine calls everything that writes: SetLayout, SetSize,
// Stage, Flush, WriteChunk, PutHash, Recover, Hashes, Checkpoint, Finish
// and Close.
// Chunk, ReadAt, Have, Complete and Meta may be called from any goroutine,
// for example an HTTP gateway reading while the download runs. A
// sync.RWMutex guards the verified-chunk set and the layout: readers take
// it shared, the owner takes it exclusively for the moment it adds a chunk.
// A chunk's bytes never change once it is verified, so a reader that saw
// its bit reads stable bytes. The content mapping is never unmapped or
// moved before Close: a slice from Chunk is valid until Close, and Close
// must come after all readers have stopped.
package store
