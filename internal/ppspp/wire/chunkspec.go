package wire

import (
	"encoding/binary"

	"github.com/nextshare/nextshare/internal/bin"
)

var be = binary.BigEndian // every multi-byte field of RFC 7574 is big-endian (§8.2)

// Chunk specifications (RFC 7574 §4). In memory a chunk specification is
// always a bin.Range of chunk indices; on the wire it takes the form of the
// channel's chunk addressing method.

// CanEncode reports whether r can be written as one chunk specification
// under a: it must name at least one chunk and only chunks below
// bin.MaxChunks, and for the bin methods it must be exactly one aligned bin
// whose number fits the field (32-bit bins reach chunk 2^31-1). A caller
// holding a range that is not a bin splits it with Range.Bins and sends one
// message per bin; see also AppendSpec.
func (a ChunkAddr) CanEncode(r bin.Range) bool {
	if r.End < r.Start || r.End >= bin.MaxChunks {
		return false
	}
	switch a {
	case Bin32:
		b, ok := r.IsBin()
		return ok && uint64(b) < 0xffffffff
	case Bin64:
		_, ok := r.IsBin()
		return ok
	case ByteRange64, ChunkRange32, ChunkRange64:
		return true
	}
	return false
}

// AppendSpec appends r as one chunk specification under p.Addr
// (p.Addr.Size() bytes). A range the method cannot express (see CanEncode)
// is written as a specification every decoder rejects: bin None for the bin
// methods, start all ones and end 0 for the range methods. Widening it to the
// smallest covering bin would silently claim or request chunks the caller did
// not mean. Nothing is written for an undefined method.
func AppendSpec(b []byte, r bin.Range, p Params) []byte {
	ok := p.Addr.CanEncode(r)
	switch p.Addr {
	case Bin32:
		v := uint32(0xffffffff)
		if ok {
			bn, _ := r.IsBin()
			v = uint32(bn)
		}
		return be.AppendUint32(b, v)
	case Bin64:
		v := uint64(bin.None)
		if ok {
			bn, _ := r.IsBin()
			v = uint64(bn)
		}
		return be.AppendUint64(b, v)
	case ChunkRange32:
		s, e := uint32(r.Start), uint32(r.End)
		if !ok {
			s, e = 0xffffffff, 0
		}
		return be.AppendUint32(be.AppendUint32(b, s), e)
	case ChunkRange64:
		s, e := r.Start, r.End
		if !ok {
			s, e = ^uint64(0), 0
		}
		return be.AppendUint64(be.AppendUint64(b, s), e)
	case ByteRange64:
		// §4.3: byte offsets of the first and the last byte, inclusive.
		// Cannot overflow: End+1 <= 2^32 and the chunk size < 2^32.
		cs := p.chunkSize()
		s, e := r.Start*cs, (r.End+1)*cs-1
		if !ok {
			s, e = ^uint64(0), 0
		}
		return be.AppendUint64(be.AppendUint64(b, s), e)
	}
	return b
}

// parseSpec decodes the chunk specification at the start of b, which holds
// at least p.Addr.Size() bytes.
func parseSpec(b []byte, p Params) (bin.Range, error) {
	switch p.Addr {
	case Bin32:
		v := be.Uint32(b)
		if v == 0xffffffff {
			return bin.Range{}, errf(ErrBadRange, "32-bit bin %#x is bin None", v)
		}
		return bin.Bin(v).Range(), nil
	case Bin64:
		v := be.Uint64(b)
		if bin.Bin(v) == bin.None {
			return bin.Range{}, errf(ErrBadRange, "64-bit bin %#x is bin None", v)
		}
		r := bin.Bin(v).Range()
		if r.End >= bin.MaxChunks {
			return bin.Range{}, errf(ErrBadRange, "bin %d covers chunks %d..%d, beyond 2^32", v, r.Start, r.End)
		}
		return r, nil
	case ChunkRange32:
		r := bin.Range{Start: uint64(be.Uint32(b)), End: uint64(be.Uint32(b[4:]))}
		if r.End < r.Start {
			return bin.Range{}, errf(ErrBadRange, "chunk range %d..%d ends before it starts", r.Start, r.End)
		}
		return r, nil
	case ChunkRange64:
		r := bin.Range{Start: be.Uint64(b), End: be.Uint64(b[8:])}
		if r.End < r.Start {
			return bin.Range{}, errf(ErrBadRange, "chunk range %d..%d ends before it starts", r.Start, r.End)
		}
		if r.End >= bin.MaxChunks {
			return bin.Range{}, errf(ErrBadRange, "chunk range %d..%d reaches beyond 2^32 chunks", r.Start, r.End)
		}
		return r, nil
	case ByteRange64:
		s, e := be.Uint64(b), be.Uint64(b[8:])
		cs := p.chunkSize()
		switch {
		case e < s:
			return bin.Range{}, errf(ErrBadRange, "byte range %d..%d ends before it starts", s, e)
		case s%cs != 0:
			return bin.Range{}, errf(ErrBadRange, "byte range %d..%d does not start on a %d-byte chunk boundary", s, e, cs)
		case e/cs >= bin.MaxChunks:
			return bin.Range{}, errf(ErrBadRange, "byte range %d..%d reaches beyond 2^32 chunks of %d bytes", s, e, cs)
		}
		// An end inside a chunk names that whole chunk: a peer may stop its
		// range at the content's last byte.
		return bin.Range{Start: s / cs, End: e / cs}, nil
	}
	return bin.Range{}, errf(ErrBadParams, "chunk addressing method %d", p.Addr)
}

// rangeMsgLen is the length of a message made of its type byte and one
// chunk specification (HAVE, REQUEST, CANCEL).
func rangeMsgLen(p Params) int { return 1 + p.Addr.Size() }

// parseRangeBody decodes a body that is exactly one chunk specification
// and returns the range and the body's length.
func parseRangeBody(b []byte, p Params) (bin.Range, int, error) {
	n := p.Addr.Size()
	if len(b) < n {
		return bin.Range{}, 0, truncated("chunk specification", n, len(b))
	}
	r, err := parseSpec(b, p)
	return r, n, err
}
