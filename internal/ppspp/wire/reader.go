package wire

import (
	"fmt"
	"net/netip"

	"github.com/nextshare/nextshare/internal/bin"
)

// Msg is one decoded message. It is a union: Type says which fields are
// valid; the others are zero. Byte slices alias the datagram.
type Msg struct {
	Type        MsgType
	Handshake   Handshake      // HANDSHAKE
	Range       bin.Range      // DATA ACK HAVE INTEGRITY SIGNED_INTEGRITY REQUEST CANCEL
	Timestamp   uint64         // DATA SIGNED_INTEGRITY
	DelaySample int64          // ACK
	Hash        []byte         // INTEGRITY
	Signature   []byte         // SIGNED_INTEGRITY
	Payload     []byte         // DATA
	Addr        netip.AddrPort // PEX_RESv4 PEX_RESv6
	Cert        []byte         // PEX_REScert
}

// Message returns m as the typed message struct, or nil for an unknown
// type. It allocates; the decoding path does not use it.
func (m *Msg) Message() Message {
	switch m.Type {
	case TypeHandshake:
		return m.Handshake
	case TypeData:
		return Data{Range: m.Range, Timestamp: m.Timestamp, Payload: m.Payload}
	case TypeAck:
		return Ack{Range: m.Range, DelaySample: m.DelaySample}
	case TypeHave:
		return Have{m.Range}
	case TypeIntegrity:
		return Integrity{Range: m.Range, Hash: m.Hash}
	case TypePexResV4:
		return PexResV4{m.Addr}
	case TypePexReq:
		return PexReq{}
	case TypeSignedIntegrity:
		return SignedIntegrity{Range: m.Range, Timestamp: m.Timestamp, Signature: m.Signature}
	case TypeRequest:
		return Request{m.Range}
	case TypeCancel:
		return Cancel{m.Range}
	case TypeChoke:
		return Choke{}
	case TypeUnchoke:
		return Unchoke{}
	case TypePexResV6:
		return PexResV6{m.Addr}
	case TypePexResCert:
		return PexResCert{m.Cert}
	}
	return nil
}

// Reader walks the messages of one datagram in place. The zero Reader
// holds no datagram; Reset starts one. A Reader may be reused for any
// number of datagrams and does not allocate while input is well-formed.
//
//	ch, err := r.Reset(dgram, chanParams)
//	for r.Next(&m) { ... }
//	if err := r.Err(); err != nil { ... }
type Reader struct {
	buf []byte
	off int    // offset of the next message's type byte
	p   Params // in force for the next message
	err error
}

// Reset starts reading datagram b, whose messages are laid out with p (the
// receiving channel's parameters). It returns the destination channel ID.
// It fails with ErrTruncated if b is shorter than 4 bytes and with
// ErrBadParams if p cannot lay out messages; then Next returns false.
func (r *Reader) Reset(b []byte, p Params) (channel uint32, err error) {
	*r = Reader{buf: b, off: 4, p: p}
	if len(b) < 4 {
		r.err = fmt.Errorf("wire: datagram of %d bytes has no 4-byte channel ID: %w", len(b), ErrTruncated)
		return 0, r.err
	}
	if err := p.Check(); err != nil {
		r.err = err
		return 0, err
	}
	return be.Uint32(b), nil
}

// Params returns the parameters in force for the next message: those given
// to Reset, updated by any HANDSHAKE read so far.
func (r *Reader) Params() Params { return r.p }

// Err returns the error that stopped Next, or nil if the datagram was read
// to its end. Every error wraps one of the package's sentinel errors; those
// from Next are *ParseError.
func (r *Reader) Err() error { return r.err }

// Next decodes the next message into m and reports whether there was one.
// After false, Err tells the end of the datagram from malformed input; m is
// then zero.
//
// After a HANDSHAKE the Reader lays out the rest of the datagram with the
// parameters that handshake announces (Options.Params): a seeder answers a
// handshake with its own and its HAVEs in one datagram, and those HAVEs use
// the addressing method the reply announces.
func (r *Reader) Next(m *Msg) bool {
	if r.err != nil || r.off >= len(r.buf) {
		*m = Msg{}
		return false
	}
	off := r.off
	t := MsgType(r.buf[off])
	body := r.buf[off+1:]
	*m = Msg{Type: t}
	var n int
	var err error
	switch t {
	case TypeHandshake:
		m.Handshake, n, err = parseHandshake(body, r.p)
		if err == nil {
			p, perr := m.Handshake.Options.params(r.p)
			if perr != nil {
				err = perr
			} else {
				r.p = p
			}
		}
	case TypeData:
		var d Data
		d, n, err = parseData(body, r.p)
		m.Range, m.Timestamp, m.Payload = d.Range, d.Timestamp, d.Payload
	case TypeAck:
		var a Ack
		a, n, err = parseAck(body, r.p)
		m.Range, m.DelaySample = a.Range, a.DelaySample
	case TypeHave:
		var h Have
		h, n, err = parseHave(body, r.p)
		m.Range = h.Range
	case TypeIntegrity:
		var i Integrity
		i, n, err = parseIntegrity(body, r.p)
		m.Range, m.Hash = i.Range, i.Hash
	case TypePexResV4:
		var x PexResV4
		x, n, err = parsePexResV4(body, r.p)
		m.Addr = x.Addr
	case TypePexReq, TypeChoke, TypeUnchoke:
		// no body
	case TypeSignedIntegrity:
		var s SignedIntegrity
		s, n, err = parseSignedIntegrity(body, r.p)
		m.Range, m.Timestamp, m.Signature = s.Range, s.Timestamp, s.Signature
	case TypeRequest:
		var q Request
		q, n, err = parseRequest(body, r.p)
		m.Range = q.Range
	case TypeCancel:
		var c Cancel
		c, n, err = parseCancel(body, r.p)
		m.Range = c.Range
	case TypePexResV6:
		var x PexResV6
		x, n, err = parsePexResV6(body, r.p)
		m.Addr = x.Addr
	case TypePexResCert:
		var c PexResCert
		c, n, err = parsePexResCert(body, r.p)
		m.Cert = c.Cert
	default:
		err = errf(ErrUnknownMessage, "type byte %#02x", byte(t))
	}
	if err != nil {
		pe, ok := err.(*ParseError)
		if !ok {
			pe = &ParseError{Err: err}
		}
		pe.Offset, pe.Type = off, t
		r.err = pe
		*m = Msg{}
		return false
	}
	r.off = off + 1 + n
	return true
}
