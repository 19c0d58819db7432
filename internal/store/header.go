package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/nextshare/nextshare/internal/bin"
)

// The state file starts with a fixed header, all integers little endian:
//
//	off len field
//	  0   4 magic "NSST"
//	  4   2 format version (1)
//	  6   1 hash function id (RFC 7574 §7.6 Merkle Hash Tree Function)
//	  7   1 hash size in bytes, 1..64
//	  8   4 chunk size in bytes (RFC 7574 §7.9)
//	 12   4 reserved, zero
//	 16   8 number of chunks, 0 = not known yet
//	 24   8 exact content size in bytes, -1 = not known yet
//	 32  64 root hash, zero padded beyond the hash size
//	 96   4 CRC32C (Castagnoli) of bytes 0..95
//
// The header never claims anything about which chunks are present; that is
// the checkpoint's job, so a torn header write can only cause a reset.
const (
	headerVersion = 1
	headerLen     = 100
	headerCRCOff  = 96
	maxHashSize   = 64
	maxChunkSize  = 1 << 24
	defaultChunk  = 1024
)

var (
	headerMagic = [4]byte{'N', 'S', 'S', 'T'}
	castagnoli  = crc32.MakeTable(crc32.Castagnoli)
)

// header is the decoded state file header. Invariant after validate: if
// size is known, numChunks is the number of chunks it implies.
type header struct {
	hashFunc  uint8
	hashSize  int
	chunkSize int
	numChunks uint64
	size      int64
	root      [maxHashSize]byte
}

// chunksFor returns the number of chunks of a content of size bytes.
func chunksFor(size int64, chunkSize int) uint64 {
	return (uint64(size) + uint64(chunkSize) - 1) / uint64(chunkSize)
}

// validate checks the invariants every header must hold, whether it came
// from the caller's Meta or from disk.
func (h *header) validate() error {
	if h.hashSize < 1 || h.hashSize > maxHashSize {
		return fmt.Errorf("hash size %d not in 1..%d", h.hashSize, maxHashSize)
	}
	for _, c := range h.root[h.hashSize:] {
		if c != 0 {
			return fmt.Errorf("root hash padding beyond %d bytes is not zero", h.hashSize)
		}
	}
	if h.chunkSize < 1 || h.chunkSize > maxChunkSize {
		return fmt.Errorf("chunk size %d not in 1..%d", h.chunkSize, maxChunkSize)
	}
	if h.numChunks > bin.MaxChunks {
		return fmt.Errorf("%d chunks is more than the limit %d", h.numChunks, uint64(bin.MaxChunks))
	}
	switch {
	case h.size == -1:
	case h.size <= 0:
		return fmt.Errorf("size %d: must be positive or -1 (unknown)", h.size)
	case chunksFor(h.size, h.chunkSize) != h.numChunks:
		return fmt.Errorf("size %d with chunk size %d needs %d chunks, not %d",
			h.size, h.chunkSize, chunksFor(h.size, h.chunkSize), h.numChunks)
	}
	return nil
}

// put encodes h into b[:headerLen].
func (h *header) put(b []byte) {
	_ = b[headerLen-1]
	copy(b[0:4], headerMagic[:])
	binary.LittleEndian.PutUint16(b[4:], headerVersion)
	b[6] = h.hashFunc
	b[7] = uint8(h.hashSize)
	binary.LittleEndian.PutUint32(b[8:], uint32(h.chunkSize))
	binary.LittleEndian.PutUint32(b[12:], 0)
	binary.LittleEndian.PutUint64(b[16:], h.numChunks)
	binary.LittleEndian.PutUint64(b[24:], uint64(h.size))
	copy(b[32:96], h.root[:])
	binary.LittleEndian.PutUint32(b[headerCRCOff:], crc32.Checksum(b[:headerCRCOff], castagnoli))
}

// parseHeader decodes and validates a header. It never panics, whatever b
// holds: the state file is untrusted after a crash or a user's edit.
func parseHeader(b []byte) (header, error) {
	var h header
	if len(b) < headerLen {
		return h, fmt.Errorf("header is %d bytes, want %d", len(b), headerLen)
	}
	if !bytes.Equal(b[0:4], headerMagic[:]) {
		return h, fmt.Errorf("bad magic %q", b[0:4])
	}
	if got, want := binary.LittleEndian.Uint32(b[headerCRCOff:]), crc32.Checksum(b[:headerCRCOff], castagnoli); got != want {
		return h, fmt.Errorf("header checksum %#08x, computed %#08x", got, want)
	}
	if v := binary.LittleEndian.Uint16(b[4:]); v != headerVersion {
		return h, fmt.Errorf("unsupported format version %d", v)
	}
	if r := binary.LittleEndian.Uint32(b[12:]); r != 0 {
		return h, fmt.Errorf("reserved field is %#x, want 0", r)
	}
	h.hashFunc = b[6]
	h.hashSize = int(b[7])
	h.chunkSize = int(binary.LittleEndian.Uint32(b[8:]))
	h.numChunks = binary.LittleEndian.Uint64(b[16:])
	h.size = int64(binary.LittleEndian.Uint64(b[24:]))
	copy(h.root[:], b[32:96])
	if err := h.validate(); err != nil {
		return header{}, err
	}
	return h, nil
}

// conflict explains why a stored header cannot serve a download described
// by want, or returns "" if it can. Unknown counts and sizes on either side
// are not conflicts.
func (h *header) conflict(want *header) string {
	switch {
	case h.hashSize != want.hashSize || h.root != want.root:
		return fmt.Sprintf("root hash %x recorded, %x wanted", h.root[:h.hashSize], want.root[:want.hashSize])
	case h.hashFunc != want.hashFunc:
		return fmt.Sprintf("hash function %d recorded, %d wanted", h.hashFunc, want.hashFunc)
	case h.chunkSize != want.chunkSize:
		return fmt.Sprintf("chunk size %d recorded, %d wanted", h.chunkSize, want.chunkSize)
	case h.numChunks != 0 && want.numChunks != 0 && h.numChunks != want.numChunks:
		return fmt.Sprintf("%d chunks recorded, %d wanted", h.numChunks, want.numChunks)
	case h.size != -1 && want.size != -1 && h.size != want.size:
		return fmt.Sprintf("size %d recorded, %d wanted", h.size, want.size)
	}
	return ""
}

// merge fills what h does not know yet from want. The caller has checked
// that they do not conflict.
func (h *header) merge(want *header) {
	if h.numChunks == 0 {
		h.numChunks = want.numChunks
	}
	if h.size == -1 {
		h.size = want.size
	}
}
