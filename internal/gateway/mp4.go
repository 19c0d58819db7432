package gateway

import (
	"encoding/binary"
	"errors"
	"io"
	"time"
)

// ErrNoDuration means the content is not an MP4 (ISO BMFF) file with a
// movie header, or the header lies outside what could be read.
var ErrNoDuration = errors.New("gateway: no MP4 movie duration")

// maxBoxes bounds the boxes mp4Duration walks at one level, so that a
// file of tiny boxes cannot keep it busy.
const maxBoxes = 256

// mp4Duration returns the duration in an MP4's movie header (moov/mvhd),
// reading box headers from r, a file of size bytes. It reads a few dozen
// bytes at box boundaries, so it can run on a partly downloaded file: a
// read of bytes that are not there yet fails, and so does the call.
func mp4Duration(r io.ReaderAt, size int64) (time.Duration, error) {
	moov, moovEnd, err := findBox(r, 0, size, "moov")
	if err != nil {
		return 0, err
	}
	mvhd, mvhdEnd, err := findBox(r, moov, moovEnd, "mvhd")
	if err != nil {
		return 0, err
	}
	// FullBox: version (1), flags (3), then times: 32-bit in version 0,
	// 64-bit in version 1 (ISO/IEC 14496-12 8.2.2).
	var b [32]byte
	n := int64(len(b))
	if mvhdEnd-mvhd < n {
		n = mvhdEnd - mvhd
	}
	if _, err := r.ReadAt(b[:n], mvhd); err != nil {
		return 0, err
	}
	var scale, dur uint64
	switch {
	case b[0] == 0 && n >= 20:
		scale = uint64(binary.BigEndian.Uint32(b[12:16]))
		dur = uint64(binary.BigEndian.Uint32(b[16:20]))
	case b[0] == 1 && n >= 32:
		scale = uint64(binary.BigEndian.Uint32(b[20:24]))
		dur = binary.BigEndian.Uint64(b[24:32])
	default:
		return 0, ErrNoDuration
	}
	if scale == 0 || dur == 0 || dur == 1<<32-1 || dur == 1<<64-1 { // all ones: unknown
		return 0, ErrNoDuration
	}
	secs := float64(dur) / float64(scale)
	d := time.Duration(secs * float64(time.Second))
	if d < time.Millisecond || secs > 1e6 { // over eleven days: not a video we can pace
		return 0, ErrNoDuration
	}
	return d, nil
}

// findBox returns the payload bounds of the first box of type typ among
// the boxes laid end to end in [off, end).
func findBox(r io.ReaderAt, off, end int64, typ string) (int64, int64, error) {
	var h [16]byte
	for range maxBoxes {
		if end-off < 8 {
			return 0, 0, ErrNoDuration
		}
		if _, err := r.ReadAt(h[:8], off); err != nil {
			return 0, 0, err
		}
		size := int64(binary.BigEndian.Uint32(h[:4]))
		hdr := int64(8)
		switch size {
		case 0: // to the end of the enclosing space
			size = end - off
		case 1: // 64-bit size follows the type
			if end-off < 16 {
				return 0, 0, ErrNoDuration
			}
			if _, err := r.ReadAt(h[8:16], off+8); err != nil {
				return 0, 0, err
			}
			u := binary.BigEndian.Uint64(h[8:16])
			if u > uint64(end-off) {
				return 0, 0, ErrNoDuration
			}
			size, hdr = int64(u), 16
		}
		if size < hdr || size > end-off {
			return 0, 0, ErrNoDuration
		}
		if string(h[4:8]) == typ {
			return off + hdr, off + size, nil
		}
		off += size
	}
	return 0, 0, ErrNoDuration
}
