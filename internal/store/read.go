package store

import (
	"fmt"
	"io"

	"github.com/nextshare/nextshare/internal/bin"
)

// Meta returns the content description, with NumChunks and Size as known
// now. Root must not be modified. Safe from any goroutine.
func (s *Store) Meta() Meta {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.meta
}

// Have returns the verified chunks. The set is a snapshot shared with other
// callers until the next write: the caller must not modify it. Safe from
// any goroutine.
func (s *Store) Have() *bin.Set {
	s.mu.RLock()
	snap := s.snap
	s.mu.RUnlock()
	if snap != nil {
		return snap
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.snap == nil {
		s.snap = s.have.Clone()
	}
	return s.snap
}

// Complete reports whether every chunk is present. Safe from any goroutine.
func (s *Store) Complete() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.meta.NumChunks > 0 && s.have.Count() == s.meta.NumChunks
}

// chunkLenLocked returns the length of chunk i < NumChunks; the last chunk
// is short when Size says so. Needs mu (or the owner).
func (s *Store) chunkLenLocked(i uint64) int {
	cs := s.meta.ChunkSize
	if i == s.meta.NumChunks-1 && s.meta.Size > 0 {
		return int(s.meta.Size - int64(i)*int64(cs))
	}
	return cs
}

// Chunk returns chunk i, which must be verified (ErrNotPresent otherwise),
// without copying: the slice aliases the file mapping, has the chunk's exact
// length and must not be modified. It stays valid until Close. Safe from
// any goroutine.
func (s *Store) Chunk(i uint64) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch {
	case s.closed:
		return nil, ErrClosed
	case s.meta.NumChunks != 0 && i >= s.meta.NumChunks:
		return nil, fmt.Errorf("store: chunk %d of %d: %w", i, s.meta.NumChunks, ErrOutOfRange)
	case !s.have.Has(i):
		return nil, fmt.Errorf("store: chunk %d: %w", i, ErrNotPresent)
	}
	off := int(i) * s.meta.ChunkSize
	end := off + s.chunkLenLocked(i)
	return s.data[off:end:end], nil
}

// ReadAt implements io.ReaderAt over the verified bytes only. It copies the
// bytes up to the first one that is not verified and then fails with an
// error wrapping ErrNotPresent that names the chunk; reading past the end
// of the content returns io.EOF. Safe from any goroutine; it holds the read
// lock while copying, so keep reads modest while a download runs.
func (s *Store) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("store: read at offset %d: %w", off, ErrOutOfRange)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, ErrClosed
	}
	cs := int64(s.meta.ChunkSize)
	end := int64(s.meta.NumChunks) * cs
	if s.meta.Size > 0 {
		end = s.meta.Size
	}
	if off >= end {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	want := int64(len(p))
	if want > end-off {
		want = end - off
	}
	// Copy the longest run of verified chunks from off, in one go.
	stop := off
	for stop < off+want {
		i := uint64(stop / cs)
		if !s.have.Has(i) {
			break
		}
		stop = (int64(i) + 1) * cs
	}
	if stop > off+want {
		stop = off + want
	}
	n := int(stop - off)
	if n > 0 {
		if err := guardedCopy(p[:n], s.data[off:stop], "read"); err != nil {
			return 0, err
		}
	}
	if int64(n) < want {
		return n, fmt.Errorf("store: read at offset %d: chunk %d: %w", stop, stop/cs, ErrNotPresent)
	}
	if int64(n) < int64(len(p)) {
		return n, io.EOF
	}
	return n, nil
}

// Hashes calls fn for every stored tree node hash, by bin number. They were
// verified when stored, but the state file may have been damaged since:
// the caller must check them against the root hash before use. h aliases
// the state file and must be copied to be kept. Owner goroutine only.
func (s *Store) Hashes(fn func(bin uint64, h []byte)) {
	if s.closed || s.lay.chunks == 0 {
		return
	}
	hs := uint64(s.hdr.hashSize)
	forEachBit(s.hashBits, s.lay.bins, func(b uint64) {
		fn(b, s.hashes[b*hs:(b+1)*hs:(b+1)*hs])
	})
}
