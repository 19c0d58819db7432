package store

import "errors"

// Sentinel errors. Errors returned by the Store wrap these with the chunk
// index, bin or file involved, so test them with errors.Is.
var (
	// ErrNotPresent: the chunk, or a byte of it, is not verified and stored.
	ErrNotPresent = errors.New("store: chunk not present")
	// ErrOutOfRange: a chunk index or bin number lies outside the layout.
	ErrOutOfRange = errors.New("store: index out of range")
	// ErrClosed: the Store was closed.
	ErrClosed = errors.New("store: closed")
	// ErrStateReset: Open found a state file it could not use (corrupt,
	// truncated or for another swarm) and started over with an empty one.
	ErrStateReset = errors.New("store: download state discarded")
	// ErrNoLayout: the number of chunks is not known yet (SetLayout or
	// SetSize was not called and Meta did not say).
	ErrNoLayout = errors.New("store: number of chunks not known yet")
	// ErrReadOnly: the Store was opened with OpenComplete for seeding.
	ErrReadOnly = errors.New("store: read-only")
	// ErrConflict: a layout or size contradicts the one already recorded.
	ErrConflict = errors.New("store: conflicts with the recorded layout")
)
