package store

import (
	"errors"
	"fmt"
	"io"

	"github.com/nextshare/nextshare/internal/bin"
)

// loadState reads the state file, or creates it if it is new or unusable.
func (s *Store) loadState(want *header) (reset bool, err error) {
	st, err := s.state.Stat()
	if err != nil {
		return false, err
	}
	if st.Size() == 0 {
		return false, s.createState(want)
	}
	buf := make([]byte, headerLen)
	n, err := s.state.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("read state file %s: %w", s.statePath, err)
	}
	var reason string
	var got header
	switch {
	case n < headerLen:
		reason = fmt.Sprintf("file is %d bytes, shorter than the %d-byte header", st.Size(), headerLen)
	case allZero(buf):
		// Created, but the header never reached the disk: nothing to lose.
		return false, s.createState(want)
	default:
		var perr error
		if got, perr = parseHeader(buf); perr != nil {
			reason = perr.Error()
		} else {
			reason = got.conflict(want)
		}
	}
	if reason == "" && got.numChunks > 0 {
		if need := newLayout(got.numChunks, got.hashSize).total; st.Size() < need {
			reason = fmt.Sprintf("file is %d bytes, its layout of %d chunks needs %d", st.Size(), got.numChunks, need)
		}
	}
	if reason != "" {
		s.resetErr = fmt.Errorf("%w: %s: %s", ErrStateReset, s.statePath, reason)
		return true, s.createState(want)
	}

	recorded := got.numChunks
	s.hdr = got
	s.hdr.merge(want)
	s.meta = s.hdr.meta()
	if st.Size() < areaAlign {
		if err := s.state.Truncate(areaAlign); err != nil {
			return false, err
		}
	}
	if err := s.mapHeader(); err != nil {
		return false, err
	}
	if s.hdr.numChunks > 0 {
		if err := s.applyLayout(s.hdr.numChunks, recorded == 0); err != nil {
			return false, err
		}
	}
	s.writeHeader()
	return false, nil
}

// createState starts the state file over, empty.
func (s *Store) createState(want *header) error {
	if err := s.state.Truncate(0); err != nil {
		return err
	}
	if err := s.state.Truncate(areaAlign); err != nil {
		return err
	}
	if err := reserve(s.state, 0, areaAlign); err != nil {
		return err
	}
	s.hdr = *want
	s.meta = want.meta()
	// The header goes in last: a crash before it leaves an all-zero page,
	// which the next Open treats as a new file, not as damage.
	if s.hdr.numChunks > 0 {
		if err := s.applyLayout(s.hdr.numChunks, true); err != nil {
			return err
		}
	} else if err := s.mapHeader(); err != nil {
		return err
	}
	s.writeHeader()
	if err := syncRange(s.smap, 0, headerLen); err != nil {
		return fmt.Errorf("sync state file %s: %w", s.statePath, err)
	}
	return s.syncDirs()
}

// mapHeader maps the header page of the state file alone, which is all
// there is before the layout is known.
func (s *Store) mapHeader() error {
	m, err := mapFile(s.state, areaAlign, true)
	if err != nil {
		return err
	}
	unmap(s.smap)
	s.smap = m
	return nil
}

// writeHeader stores s.hdr into the mapped header page.
func (s *Store) writeHeader() {
	s.hdr.put(s.smap[:headerLen])
	s.dirty = true
}

// applyLayout sizes and maps the state and content files for n chunks.
// fresh means the state file has no areas yet (or only stale ones, which
// are zeroed); otherwise the checkpoint is loaded from them.
func (s *Store) applyLayout(n uint64, fresh bool) error {
	lay := newLayout(n, s.hdr.hashSize)
	if fresh {
		// Truncating to the header first zeroes any stale areas left by
		// a layout whose header update never reached the disk.
		if err := s.state.Truncate(areaAlign); err != nil {
			return err
		}
		if err := s.state.Truncate(lay.total); err != nil {
			return err
		}
		// The bitmaps are written on every chunk; give them blocks now.
		// The hash area stays sparse.
		if err := reserve(s.state, 0, lay.hashes); err != nil {
			return err
		}
	}
	smap, err := mapFile(s.state, lay.total, true)
	if err != nil {
		return err
	}
	unmap(s.smap)
	s.smap = smap
	s.lay = lay
	s.live = words(smap, lay.live, lay.words)
	s.hashBits = words(smap, lay.hashBits, lay.binWords)
	s.hashes = smap[lay.hashes : lay.hashes+lay.hashLen]

	st, err := s.content.Stat()
	if err != nil {
		return err
	}
	valid := st.Size()
	extent := int64(n) * int64(s.hdr.chunkSize)
	target := extent
	if s.hdr.size > 0 {
		target = s.hdr.size
	}
	if valid != target {
		// Sparse: no blocks are allocated for the hole.
		if err := s.content.Truncate(target); err != nil {
			return err
		}
	}
	// The mapping covers whole chunks even when the file ends at Size, so
	// its length never changes; nothing past Size is ever touched.
	data, err := mapFile(s.content, extent, true)
	if err != nil {
		return err
	}

	have := bin.NewSet(n, n)
	if !fresh {
		have, s.finished = s.loadCheckpoint()
		s.dropFrom(have, valid)
		// A checkpointed chunk is live; the live bitmap may lag after a
		// power loss.
		have.Ranges(func(r bin.Range) bool {
			for i := r.Start; i <= r.End; i++ {
				setBit(s.live, i)
			}
			return true
		})
		s.finished = s.finished && have.Count() == n
	}
	s.mu.Lock()
	s.data = data
	s.have = have
	s.snap = nil
	s.meta.NumChunks = n
	s.mu.Unlock()
	s.hdr.numChunks = n
	s.dirty = true
	return nil
}

// dropFrom forgets every chunk not wholly inside the first valid bytes of
// the content file: someone truncated it, so those bytes are gone.
func (s *Store) dropFrom(have *bin.Set, valid int64) {
	n := s.lay.chunks
	first := uint64(valid) / uint64(s.hdr.chunkSize)
	if valid < 0 || first >= n || (s.hdr.size > 0 && valid >= s.hdr.size) {
		return
	}
	for i := first; i < n; i++ {
		have.Remove(i)
		if hasBit(s.live, i) {
			clearBit(s.live, i)
		}
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
