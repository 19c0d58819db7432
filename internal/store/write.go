package store

import (
	"fmt"

	"github.com/nextshare/nextshare/internal/bin"
)

// The methods in this file belong to the owner goroutine.

// writable reports why the Store cannot take writes, if it cannot.
func (s *Store) writable() error {
	switch {
	case s.closed:
		return ErrClosed
	case s.readOnly:
		return ErrReadOnly
	case s.writeErr != nil:
		return s.writeErr
	}
	return nil
}

// SetLayout fixes the number of chunks once the peak hashes are known
// (RFC 7574 §5.6): it extends the content file sparsely, maps it, and sizes
// the bitmaps and the hash area. Calling it again with the same count does
// nothing; another count is an ErrConflict.
func (s *Store) SetLayout(numChunks uint64) error {
	if err := s.writable(); err != nil {
		return err
	}
	if numChunks == 0 || numChunks > bin.MaxChunks {
		return fmt.Errorf("store: set layout of %d chunks: %w (want 1..%d)", numChunks, ErrOutOfRange, uint64(bin.MaxChunks))
	}
	if s.lay.chunks != 0 {
		if s.lay.chunks != numChunks {
			return fmt.Errorf("store: set layout of %d chunks, %d recorded: %w", numChunks, s.lay.chunks, ErrConflict)
		}
		return nil
	}
	if err := s.applyLayout(numChunks, true); err != nil {
		return fmt.Errorf("store: set layout of %d chunks: %w", numChunks, err)
	}
	s.writeHeader()
	return nil
}

// SetSize records the exact content size once the last chunk's length is
// known (RFC 7574 §5.6), and sets the layout from it if that was not known.
// The content file is cut to size. WriteChunk of the last chunk calls it
// implicitly.
func (s *Store) SetSize(size int64) error {
	if err := s.writable(); err != nil {
		return err
	}
	cs := int64(s.hdr.chunkSize)
	if size <= 0 || uint64(size) > bin.MaxChunks*uint64(cs) {
		return fmt.Errorf("store: set size %d: %w", size, ErrOutOfRange)
	}
	if s.hdr.size != -1 {
		if s.hdr.size != size {
			return fmt.Errorf("store: set size %d, %d recorded: %w", size, s.hdr.size, ErrConflict)
		}
		return nil
	}
	n := chunksFor(size, s.hdr.chunkSize)
	if s.lay.chunks == 0 {
		if err := s.SetLayout(n); err != nil {
			return err
		}
	} else if n != s.lay.chunks {
		return fmt.Errorf("store: set size %d: that is %d chunks of %d, layout has %d: %w",
			size, n, cs, s.lay.chunks, ErrConflict)
	}
	// Cut the file first: a header naming a size the file does not have
	// yet would be harmless, but this way the header never lies.
	if err := s.content.Truncate(size); err != nil {
		return fmt.Errorf("store: set size %d: %w", size, err)
	}
	s.mu.Lock()
	s.meta.Size = size
	s.mu.Unlock()
	s.hdr.size = size
	s.writeHeader()
	return nil
}

// WriteChunk stores chunk i. data must already be verified against the
// Merkle tree (RFC 7574 §5.2: only verified chunks may be stored or
// served), and be exactly the chunk: ChunkSize bytes, the last chunk
// possibly shorter. Writing the last chunk fixes Size if it was unknown.
// Writing a chunk that is present does nothing. The chunk is present when
// WriteChunk returns: it is Stage followed by Flush.
func (s *Store) WriteChunk(i uint64, data []byte) error {
	if err := s.Stage(i, data); err != nil {
		return err
	}
	return s.Flush()
}

// Stage is WriteChunk without the Flush: consecutive chunks are gathered in
// a buffer and written to the content file with one pwrite, so a download
// pays one system call per run of chunks rather than one per chunk (or one
// page fault per page, storing into a mapping of a sparse file). A staged
// chunk becomes present (Have, Chunk, ReadAt) when the buffer is flushed:
// when it fills, when a chunk that does not continue it is staged, and on
// Flush, Checkpoint, Finish and Close. Only after the bytes are in the file
// is each chunk's bit set in the live bitmap, so a crash loses at most the
// staged chunks. An error from Stage may concern the chunks staged before
// i: they are then absent, and the store refuses further writes (Err).
func (s *Store) Stage(i uint64, data []byte) error {
	if err := s.writable(); err != nil {
		return err
	}
	n := s.lay.chunks
	if n == 0 {
		return fmt.Errorf("store: write chunk %d: %w", i, ErrNoLayout)
	}
	if i >= n {
		return fmt.Errorf("store: write chunk %d of %d: %w", i, n, ErrOutOfRange)
	}
	if s.have.Has(i) || s.runLen > 0 && i >= s.runFirst && i < s.runFirst+s.runLen {
		return nil
	}
	cs := s.hdr.chunkSize
	switch {
	case i < n-1 && len(data) != cs:
		return fmt.Errorf("store: write chunk %d: %d bytes, want %d", i, len(data), cs)
	case i == n-1 && s.hdr.size > 0:
		if want := s.hdr.size - int64(n-1)*int64(cs); int64(len(data)) != want {
			return fmt.Errorf("store: write last chunk %d: %d bytes, want %d", i, len(data), want)
		}
	case i == n-1:
		if len(data) < 1 || len(data) > cs {
			return fmt.Errorf("store: write last chunk %d: %d bytes, want 1..%d", i, len(data), cs)
		}
		if err := s.Flush(); err != nil {
			return err
		}
		if err := s.SetSize(int64(n-1)*int64(cs) + int64(len(data))); err != nil {
			return err
		}
	}
	if s.runLen > 0 && (i != s.runFirst+s.runLen || len(s.run)+len(data) > cap(s.run)) {
		if err := s.Flush(); err != nil {
			return err
		}
	}
	if s.run == nil {
		s.run = make([]byte, 0, max(runBytes/cs, 1)*cs)
	}
	if s.runLen == 0 {
		s.runFirst = i
	}
	s.run = append(s.run, data...)
	s.runLen++
	if len(s.run)+cs > cap(s.run) {
		return s.Flush()
	}
	return nil
}

// runBytes bounds the buffer of consecutive chunks Stage gathers.
const runBytes = 64 << 10

// Flush writes the chunks Stage has buffered and makes them present.
// If the write fails they stay absent, the store refuses further writes,
// and the error is returned and kept (Err).
func (s *Store) Flush() error {
	if s.runLen == 0 || s.writeErr != nil {
		return s.writeErr
	}
	first, count, run := s.runFirst, s.runLen, s.run
	s.runLen, s.run = 0, s.run[:0]
	off := int64(first) * int64(s.hdr.chunkSize)
	if err := writeAt(s.content, run, off); err != nil {
		s.writeErr = fmt.Errorf("store: write chunks %d..%d: %w", first, first+count-1, err)
		return s.writeErr
	}
	for i := first; i < first+count; i++ {
		setBit(s.live, i)
	}
	s.mu.Lock()
	s.have.AddRange(bin.Range{Start: first, End: first + count - 1})
	s.snap = nil
	s.mu.Unlock()
	s.dirty = true
	return nil
}

// Err returns the write error that stopped the store taking chunks, or nil.
func (s *Store) Err() error { return s.writeErr }

// PutHash stores the hash of tree node b, which the caller has verified.
// The hash bytes are written before the node's presence bit. Stored hashes
// are a cache, not a proof: Hashes hands them back for re-verification.
func (s *Store) PutHash(b uint64, h []byte) error {
	if err := s.writable(); err != nil {
		return err
	}
	if s.lay.chunks == 0 {
		return fmt.Errorf("store: put hash of bin %d: %w", b, ErrNoLayout)
	}
	if b >= s.lay.bins {
		return fmt.Errorf("store: put hash of bin %d, tree has bins 0..%d: %w", b, s.lay.bins-1, ErrOutOfRange)
	}
	hs := s.hdr.hashSize
	if len(h) != hs {
		return fmt.Errorf("store: put hash of bin %d: %d bytes, want %d", b, len(h), hs)
	}
	off := int(b) * hs
	if err := guardedStore(s.hashes[off:off+hs], h, s.hashBits, b, "put hash"); err != nil {
		return fmt.Errorf("bin %d: %w", b, err)
	}
	s.dirty = true
	return nil
}

// Finish ends a download: every chunk must be present. The content file is
// cut to Size exactly, and a checkpoint marks the state finished, so a later
// Open trusts every chunk without re-verification.
func (s *Store) Finish() error {
	if err := s.writable(); err != nil {
		return err
	}
	if s.finished {
		return nil
	}
	if err := s.Flush(); err != nil {
		return err
	}
	n := s.lay.chunks
	if n == 0 || s.have.Count() != n {
		return fmt.Errorf("store: finish %s: %d of %d chunks present: %w", s.path, s.have.Count(), n, ErrNotPresent)
	}
	// All chunks present means the last one was written, which fixed Size.
	if err := s.content.Truncate(s.hdr.size); err != nil {
		return fmt.Errorf("store: finish: %w", err)
	}
	s.finished = true
	s.dirty = true
	return s.Checkpoint()
}

// Recover deals with the chunks a crash left behind: set in the live
// bitmap but not in the last checkpoint. Each is passed to verify, which
// must check data against the Merkle tree; chunks that pass join Have, the
// others are cleared and will be downloaded again. data aliases the
// mapping and must not be kept. Call it after Open; until then those chunks
// are simply absent, and writing one again makes it present as usual.
func (s *Store) Recover(verify func(i uint64, data []byte) bool) (recovered, dropped int) {
	if s.writable() != nil || s.lay.chunks == 0 {
		return 0, 0
	}
	n := s.lay.chunks
	cs := s.hdr.chunkSize
	forEachBit(s.live, n, func(i uint64) {
		if s.have.Has(i) {
			return
		}
		length := cs
		if i == n-1 {
			if s.hdr.size < 0 {
				// The last chunk fixes Size before its bit is set, so the
				// size update was lost with the crash; drop it.
				clearBit(s.live, i)
				dropped++
				s.dirty = true
				return
			}
			length = int(s.hdr.size - int64(n-1)*int64(cs))
		}
		off := int(i) * cs
		if verify(i, s.data[off:off+length:off+length]) {
			s.mu.Lock()
			s.have.Add(i)
			s.snap = nil
			s.mu.Unlock()
			recovered++
		} else {
			clearBit(s.live, i)
			dropped++
		}
		s.dirty = true
	})
	return recovered, dropped
}
