package merkle

import "errors"

// Sentinel errors callers act on. Returned errors wrap them with the chunk,
// bin or size involved.
var (
	// ErrMismatch means data or hashes do not match verified hashes: the
	// peer that sent them sent bad data.
	ErrMismatch = errors.New("merkle: hash mismatch")
	// ErrMissingHashes means a chunk cannot be verified yet because an
	// uncle hash is neither verified nor among the candidates.
	ErrMissingHashes = errors.New("merkle: missing uncle hashes")
	// ErrUnknownSize means the peaks, and so the content size, are not
	// known yet.
	ErrUnknownSize = errors.New("merkle: content size unknown (no peaks yet)")
	// ErrRootMismatch means the peak hashes offered do not form a valid
	// peak set that combines to the root hash.
	ErrRootMismatch = errors.New("merkle: peaks do not match root hash")
	// ErrOutOfRange means a chunk index is beyond the content.
	ErrOutOfRange = errors.New("merkle: chunk index out of range")
)
