package store

import "fmt"

// Meta describes the content of one swarm: what identifies it (the Merkle
// root hash and hash function, RFC 7574 §5.1) and how it is cut into chunks.
type Meta struct {
	Root      []byte // Merkle root hash; len(Root) == HashSize
	HashFunc  uint8  // Merkle hash function id (RFC 7574 §7.6)
	HashSize  int    // bytes per hash, 1..64
	ChunkSize int    // bytes per chunk; 0 means 1024, the PPSPP default
	NumChunks uint64 // 0 = not known yet (a downloader before the peak hashes arrive)
	Size      int64  // exact size in bytes, -1 = not known yet; 0 is refused
}

// Options tunes Open.
type Options struct {
	// StatePath is where the download state lives. The default is the
	// content path with ".nsstate" appended.
	StatePath string
}

const stateSuffix = ".nsstate"

// headerFor validates m and turns it into the header a fresh state file
// would get. A known Size fixes NumChunks (RFC 7574 §5.6).
func headerFor(m Meta) (header, error) {
	h := header{
		hashFunc:  m.HashFunc,
		hashSize:  m.HashSize,
		chunkSize: m.ChunkSize,
		numChunks: m.NumChunks,
		size:      m.Size,
	}
	if h.chunkSize == 0 {
		h.chunkSize = defaultChunk
	}
	if len(m.Root) != m.HashSize {
		return header{}, fmt.Errorf("root hash is %d bytes, hash size is %d", len(m.Root), m.HashSize)
	}
	if m.HashSize > maxHashSize || m.HashSize < 1 {
		return header{}, fmt.Errorf("hash size %d not in 1..%d", m.HashSize, maxHashSize)
	}
	copy(h.root[:], m.Root)
	if h.size == 0 {
		return header{}, fmt.Errorf("size 0: empty content has no chunks to store")
	}
	if h.size > 0 && h.chunkSize > 0 && h.chunkSize <= maxChunkSize {
		n := chunksFor(h.size, h.chunkSize)
		if h.numChunks != 0 && h.numChunks != n {
			return header{}, fmt.Errorf("size %d with chunk size %d is %d chunks, Meta says %d: %w",
				h.size, h.chunkSize, n, h.numChunks, ErrConflict)
		}
		h.numChunks = n
	}
	if err := h.validate(); err != nil {
		return header{}, err
	}
	return h, nil
}

// meta returns h as a Meta.
func (h *header) meta() Meta {
	return Meta{
		Root:      append([]byte(nil), h.root[:h.hashSize]...),
		HashFunc:  h.hashFunc,
		HashSize:  h.hashSize,
		ChunkSize: h.chunkSize,
		NumChunks: h.numChunks,
		Size:      h.size,
	}
}
