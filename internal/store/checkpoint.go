package store

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/nextshare/nextshare/internal/bin"
)

// A checkpoint slot records the verified chunks whose bytes were synced to
// disk before the slot was written:
//
//	off len field
//	  0   8 generation, >= 1; the valid slot with the highest one wins
//	  8   4 CRC32C of the slot without these four bytes
//	 12   4 flags: bit 0 = finished (content truncated to Size, all present)
//	 16   8 bitmap limit (= number of chunks)   } bin.Set.MarshalBinary
//	 24  8k bitmap words, little endian          } encoding
//
// Two slots alternate, so a checkpoint torn by a power loss leaves the
// previous one intact; its CRC tells which survived.

const flagFinished = 1

// Checkpoint flushes buffered chunks and makes everything written so far
// durable against power loss, in an order that keeps the checkpoint
// honest: first the content, then the state file's header, live bitmap and
// hashes, and only then a checkpoint slot naming the verified chunks,
// synced last. The owner calls
// it about once a second and Close calls it. It does nothing if nothing
// changed.
func (s *Store) Checkpoint() error {
	switch {
	case s.closed:
		return ErrClosed
	case s.readOnly:
		return nil
	}
	flushErr := s.Flush()
	if !s.dirty {
		return flushErr
	}
	if s.lay.chunks == 0 {
		if err := syncRange(s.smap, 0, headerLen); err != nil {
			return fmt.Errorf("store: checkpoint %s: %w", s.statePath, err)
		}
		s.dirty = false
		return nil
	}
	// Taken first: every chunk in it has its bytes in the mapping now, so
	// the syncs below cover them.
	enc, err := s.have.MarshalBinary()
	if err != nil {
		return fmt.Errorf("store: checkpoint: %w", err)
	}
	if err := syncRange(s.data, 0, int64(len(s.data))); err != nil {
		return fmt.Errorf("store: checkpoint %s: %w", s.path, err)
	}
	lay := &s.lay
	if err := syncRange(s.smap, 0, lay.slots[0]); err != nil {
		return fmt.Errorf("store: checkpoint %s: %w", s.statePath, err)
	}
	if err := syncRange(s.smap, lay.hashBits, lay.total-lay.hashBits); err != nil {
		return fmt.Errorf("store: checkpoint %s: %w", s.statePath, err)
	}
	gen := s.ckptGen + 1
	var flags uint32
	if s.finished {
		flags |= flagFinished
	}
	off := lay.slots[gen%2]
	if err := putSlot(s.smap[off:off+lay.slotLen], gen, flags, enc); err != nil {
		return fmt.Errorf("store: checkpoint %s: %w", s.statePath, err)
	}
	if err := syncRange(s.smap, off, lay.slotLen); err != nil {
		return fmt.Errorf("store: checkpoint %s: %w", s.statePath, err)
	}
	s.ckptGen = gen
	s.dirty = false
	return flushErr
}

// putSlot writes a checkpoint slot; the CRC goes in last.
func putSlot(slot []byte, gen uint64, flags uint32, enc []byte) error {
	if len(enc) > len(slot)-16 {
		return fmt.Errorf("bitmap of %d bytes does not fit a %d-byte slot", len(enc), len(slot))
	}
	var fixed [16]byte
	binary.LittleEndian.PutUint64(fixed[0:], gen)
	binary.LittleEndian.PutUint32(fixed[12:], flags)
	if err := guardedCopy(slot[:16], fixed[:], "write checkpoint"); err != nil {
		return err
	}
	if err := guardedCopy(slot[16:], enc, "write checkpoint"); err != nil {
		return err
	}
	clear(slot[16+len(enc):])
	binary.LittleEndian.PutUint32(slot[8:], slotCRC(slot))
	return nil
}

func slotCRC(slot []byte) uint32 {
	return crc32.Update(crc32.Checksum(slot[0:8], castagnoli), castagnoli, slot[12:])
}

// parseSlot checks a slot for n chunks and decodes it.
func parseSlot(slot []byte, n uint64) (gen uint64, flags uint32, set *bin.Set, ok bool) {
	if len(slot) < slotFixed {
		return 0, 0, nil, false
	}
	gen = binary.LittleEndian.Uint64(slot[0:])
	flags = binary.LittleEndian.Uint32(slot[12:])
	if gen == 0 || binary.LittleEndian.Uint32(slot[8:]) != slotCRC(slot) || flags&^flagFinished != 0 {
		return 0, 0, nil, false
	}
	set = new(bin.Set)
	if err := set.UnmarshalBinary(slot[16:]); err != nil || set.Limit() != n {
		return 0, 0, nil, false
	}
	return gen, flags, set, true
}

// loadCheckpoint returns the chunks of the newest valid checkpoint slot,
// or an empty set if neither slot is valid (then everything live goes
// through Recover).
func (s *Store) loadCheckpoint() (have *bin.Set, finished bool) {
	lay := &s.lay
	s.ckptGen = 0
	have = bin.NewSet(lay.chunks, lay.chunks)
	for k, off := range lay.slots {
		gen, flags, set, ok := parseSlot(s.smap[off:off+lay.slotLen], lay.chunks)
		// Generation g is always written to slot g%2; anything else is
		// damage, and trusting it would let the next checkpoint overwrite
		// the newest valid slot.
		if ok && gen%2 == uint64(k) && gen > s.ckptGen {
			s.ckptGen, have, finished = gen, set, flags&flagFinished != 0
		}
	}
	return have, finished
}
