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
// synced last. Close and Finish call it; it does nothing if nothing
// changed. It waits for a checkpoint that CheckpointAsync started.
func (s *Store) Checkpoint() error {
	s.waitCheckpoint() // a failure leaves the store dirty: retried here
	if err := s.startCheckpoint(); err != nil {
		return err
	}
	return s.waitCheckpoint()
}

// CheckpointAsync is Checkpoint with the syncs on another goroutine, so
// that the owner, which calls it every few seconds, goes on while the
// disk works. It does nothing while the previous one runs; the error it
// returns is that of an earlier checkpoint, or of the flush.
func (s *Store) CheckpointAsync() error {
	if s.ckpt != nil {
		select {
		case <-s.ckpt.done:
		default:
			return s.Flush()
		}
	}
	if err := s.waitCheckpoint(); err != nil {
		return err
	}
	return s.startCheckpoint()
}

// checkpoint is one in progress.
type checkpoint struct {
	gen  uint64
	done chan struct{}
	err  error // set before done is closed
}

// startCheckpoint flushes, takes the verified-chunk set and starts the
// syncs. Any earlier checkpoint must be finished (waitCheckpoint).
func (s *Store) startCheckpoint() error {
	switch {
	case s.closed:
		return ErrClosed
	case s.readOnly:
		return nil
	}
	if err := s.waitCheckpoint(); err != nil {
		return err
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
		return flushErr
	}
	// Taken first: every chunk in it has its bytes in the file now, so the
	// syncs cover them.
	enc, err := s.have.MarshalBinary()
	if err != nil {
		return fmt.Errorf("store: checkpoint: %w", err)
	}
	var flags uint32
	if s.finished {
		flags |= flagFinished
	}
	c := &checkpoint{gen: s.ckptGen + 1, done: make(chan struct{})}
	s.ckpt = c
	s.dirty = false
	data, smap, lay := s.data, s.smap, s.lay
	go func() {
		defer close(c.done)
		c.err = s.syncCheckpoint(data, smap, &lay, c.gen, flags, enc)
	}()
	return flushErr
}

// waitCheckpoint waits for the checkpoint in progress, if any, and records
// its outcome: on failure the store stays dirty, so the next one retries.
func (s *Store) waitCheckpoint() error {
	c := s.ckpt
	if c == nil {
		return nil
	}
	<-c.done
	s.ckpt = nil
	if c.err != nil {
		s.dirty = true
		return c.err
	}
	s.ckptGen = c.gen
	return nil
}

// syncCheckpoint does the syncs and writes slot gen%2. It runs on its own
// goroutine and touches only the mappings, which stay mapped until the
// owner has waited for it, and the slot, which nothing else writes.
func (s *Store) syncCheckpoint(data, smap []byte, lay *layout, gen uint64, flags uint32, enc []byte) error {
	if err := syncRange(data, 0, int64(len(data))); err != nil {
		return fmt.Errorf("store: checkpoint %s: %w", s.path, err)
	}
	if err := syncRange(smap, 0, lay.slots[0]); err != nil {
		return fmt.Errorf("store: checkpoint %s: %w", s.statePath, err)
	}
	if err := syncRange(smap, lay.hashBits, lay.total-lay.hashBits); err != nil {
		return fmt.Errorf("store: checkpoint %s: %w", s.statePath, err)
	}
	off := lay.slots[gen%2]
	if err := putSlot(smap[off:off+lay.slotLen], gen, flags, enc); err != nil {
		return fmt.Errorf("store: checkpoint %s: %w", s.statePath, err)
	}
	if err := syncRange(smap, off, lay.slotLen); err != nil {
		return fmt.Errorf("store: checkpoint %s: %w", s.statePath, err)
	}
	return nil
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
