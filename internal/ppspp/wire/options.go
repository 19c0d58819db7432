package wire

import (
	"fmt"
	"math"
)

// Handshake option codes, RFC 7574 §7 table 1. Each option is its code
// byte followed by a value whose length the code fixes.
const (
	OptVersion           = 0   // §7.2: 8-bit highest version supported
	OptMinVersion        = 1   // §7.3: 8-bit lowest version supported
	OptSwarmID           = 2   // §7.4: 16-bit length, then the swarm ID
	OptIntegrity         = 3   // §7.5: 8-bit content integrity protection method
	OptHashFunc          = 4   // §7.6: 8-bit Merkle hash tree function
	OptLiveSigAlg        = 5   // §7.7: 8-bit DNSSEC algorithm number
	OptChunkAddr         = 6   // §7.8: 8-bit chunk addressing method
	OptLiveDiscardWindow = 7   // §7.9: 32 bits under a 32-bit addressing method, else 64
	OptSupportedMsgs     = 8   // §7.10: 8-bit length, then a bitmap of message types
	OptChunkSize         = 9   // §7.11: 32-bit chunk size in bytes
	OptEnd               = 255 // §7.1: end of the option list
)

// Content integrity protection methods, the values of option 3 (§7.5).
const (
	IntegrityNone          = 0
	IntegrityMerkle        = 1 // libswift for static content
	IntegritySignAll       = 2
	IntegrityUnifiedMerkle = 3 // libswift for live streams
)

// VariableChunkSize is the option 9 value that announces chunks of varying
// size (§7.11).
const VariableChunkSize = 0xffffffff

// Options are the protocol options of a HANDSHAKE (RFC 7574 §7). Present
// records which were on the wire (bit i for option code i); the field of an
// absent option is meaningless and is not encoded. Byte slices of parsed
// options alias the datagram.
type Options struct {
	Present           uint16
	Version           uint8     // 0
	MinVersion        uint8     // 1
	SwarmID           []byte    // 2: at most 65535 bytes
	IntegrityMethod   uint8     // 3
	HashFunc          uint8     // 4
	LiveSigAlg        uint8     // 5
	ChunkAddr         ChunkAddr // 6
	LiveDiscardWindow uint64    // 7
	SupportedMsgs     []byte    // 8: bitmap, bit 0x80 of byte 0 is HANDSHAKE; at most 255 bytes
	ChunkSize         uint32    // 9
}

// Has reports whether option code was present.
func (o *Options) Has(code uint8) bool { return code <= OptChunkSize && o.Present&(1<<code) != 0 }

func (o *Options) set(code uint8) { o.Present |= 1 << code }

// SetVersion sets option 0.
func (o *Options) SetVersion(v uint8) { o.Version = v; o.set(OptVersion) }

// SetMinVersion sets option 1.
func (o *Options) SetMinVersion(v uint8) { o.MinVersion = v; o.set(OptMinVersion) }

// SetSwarmID sets option 2; id is not copied.
func (o *Options) SetSwarmID(id []byte) { o.SwarmID = id; o.set(OptSwarmID) }

// SetIntegrityMethod sets option 3.
func (o *Options) SetIntegrityMethod(m uint8) { o.IntegrityMethod = m; o.set(OptIntegrity) }

// SetHashFunc sets option 4.
func (o *Options) SetHashFunc(f uint8) { o.HashFunc = f; o.set(OptHashFunc) }

// SetLiveSigAlg sets option 5.
func (o *Options) SetLiveSigAlg(alg uint8) { o.LiveSigAlg = alg; o.set(OptLiveSigAlg) }

// SetChunkAddr sets option 6.
func (o *Options) SetChunkAddr(a ChunkAddr) { o.ChunkAddr = a; o.set(OptChunkAddr) }

// SetLiveDiscardWindow sets option 7. Under a 32-bit addressing method a
// window above 2^32-1 is sent as 0xffffffff, which libswift reads as "keep
// everything".
func (o *Options) SetLiveDiscardWindow(w uint64) {
	o.LiveDiscardWindow = w
	o.set(OptLiveDiscardWindow)
}

// SetSupportedMsgs sets option 8 to a bitmap of the given types. libswift
// mis-parses this option: do not send it to a peer that may be libswift.
func (o *Options) SetSupportedMsgs(types ...MsgType) {
	var bm [2]byte
	for _, t := range types {
		if t.Known() {
			bm[t/8] |= 0x80 >> (t % 8)
		}
	}
	o.SupportedMsgs = bm[:]
	o.set(OptSupportedMsgs)
}

// SetChunkSize sets option 9. libswift drops a handshake that carries it.
func (o *Options) SetChunkSize(n uint32) { o.ChunkSize = n; o.set(OptChunkSize) }

// Supports reports whether the peer announced support for message type t.
// Without option 8 every type is assumed supported (libswift never sends
// it).
func (o *Options) Supports(t MsgType) bool {
	if !o.Has(OptSupportedMsgs) {
		return true
	}
	i := int(t / 8)
	return i < len(o.SupportedMsgs) && o.SupportedMsgs[i]&(0x80>>(t%8)) != 0
}

// discardWindowWide reports whether option 7 takes 8 bytes: it does unless
// the addressing method in force (option 6 of the same handshake, else the
// channel's) is a 32-bit one (§7.9).
func (o *Options) discardWindowWide(p Params) bool {
	a := p.Addr
	if o.Has(OptChunkAddr) {
		a = o.ChunkAddr
	}
	return !a.is32()
}

// Len returns the encoded length of the options, end option included.
func (o *Options) Len(p Params) int {
	n := 1 // end option
	for code := uint8(0); code <= OptChunkSize; code++ {
		if !o.Has(code) {
			continue
		}
		n++
		switch code {
		case OptSwarmID:
			n += 2 + min(len(o.SwarmID), math.MaxUint16)
		case OptLiveDiscardWindow:
			if o.discardWindowWide(p) {
				n += 8
			} else {
				n += 4
			}
		case OptSupportedMsgs:
			n += 1 + min(len(o.SupportedMsgs), math.MaxUint8)
		case OptChunkSize:
			n += 4
		default:
			n++
		}
	}
	return n
}

// Append appends the present options in ascending code order, then the end
// option. That is libswift's order, so its handshakes re-encode byte for
// byte. A swarm ID or bitmap too long for its length field is cut to fit.
func (o *Options) Append(b []byte, p Params) []byte {
	for code := uint8(0); code <= OptChunkSize; code++ {
		if !o.Has(code) {
			continue
		}
		b = append(b, code)
		switch code {
		case OptVersion:
			b = append(b, o.Version)
		case OptMinVersion:
			b = append(b, o.MinVersion)
		case OptSwarmID:
			id := o.SwarmID[:min(len(o.SwarmID), math.MaxUint16)]
			b = be.AppendUint16(b, uint16(len(id)))
			b = append(b, id...)
		case OptIntegrity:
			b = append(b, o.IntegrityMethod)
		case OptHashFunc:
			b = append(b, o.HashFunc)
		case OptLiveSigAlg:
			b = append(b, o.LiveSigAlg)
		case OptChunkAddr:
			b = append(b, byte(o.ChunkAddr))
		case OptLiveDiscardWindow:
			if o.discardWindowWide(p) {
				b = be.AppendUint64(b, o.LiveDiscardWindow)
			} else {
				b = be.AppendUint32(b, uint32(min(o.LiveDiscardWindow, math.MaxUint32)))
			}
		case OptSupportedMsgs:
			bm := o.SupportedMsgs[:min(len(o.SupportedMsgs), math.MaxUint8)]
			b = append(b, byte(len(bm)))
			b = append(b, bm...)
		case OptChunkSize:
			b = be.AppendUint32(b, o.ChunkSize)
		}
	}
	return append(b, OptEnd)
}

// parseOptions decodes an option list up to and including the end option
// and returns the number of bytes it took. Options may come in any order
// (libswift accepts that too) but not twice. Option 7's width follows the
// addressing method in force where it appears; an option 6 after it that
// would change that width is refused, since the window would then re-encode
// differently.
func parseOptions(b []byte, p Params) (Options, int, error) {
	var o Options
	wide := !p.Addr.is32() // width of option 7 under the method in force
	off := 0
	for {
		if off >= len(b) {
			return o, 0, errf(ErrTruncated, "options end after %d bytes without end option 255", off)
		}
		code := b[off]
		off++
		if code == OptEnd {
			return o, off, nil
		}
		if code > OptChunkSize {
			return o, 0, errf(ErrUnknownOption, "option code %d at byte %d of the options", code, off-1)
		}
		if o.Has(code) {
			return o, 0, errf(ErrBadOption, "option %d repeated", code)
		}
		o.set(code)
		rest := b[off:]
		need := 1
		switch code {
		case OptSwarmID:
			if len(rest) >= 2 {
				need = 2 + int(be.Uint16(rest))
			} else {
				need = 2
			}
		case OptLiveDiscardWindow:
			need = 4
			if wide {
				need = 8
			}
		case OptSupportedMsgs:
			if len(rest) >= 1 {
				need = 1 + int(rest[0])
			}
		case OptChunkSize:
			need = 4
		}
		if len(rest) < need {
			return o, 0, truncated(fmt.Sprintf("option %d", code), need, len(rest))
		}
		switch code {
		case OptVersion:
			o.Version = rest[0]
		case OptMinVersion:
			o.MinVersion = rest[0]
		case OptSwarmID:
			o.SwarmID = rest[2:need:need]
		case OptIntegrity:
			o.IntegrityMethod = rest[0]
		case OptHashFunc:
			o.HashFunc = rest[0]
		case OptLiveSigAlg:
			o.LiveSigAlg = rest[0]
		case OptChunkAddr:
			a := ChunkAddr(rest[0])
			if !a.Valid() {
				return o, 0, errf(ErrBadOption, "chunk addressing method %d unknown", rest[0])
			}
			if o.Has(OptLiveDiscardWindow) && a.is32() == wide {
				return o, 0, errf(ErrBadOption, "chunk addressing method %v after option 7 changes the discard window's width", a)
			}
			o.ChunkAddr = a
			wide = !a.is32()
		case OptLiveDiscardWindow:
			if wide {
				o.LiveDiscardWindow = be.Uint64(rest)
			} else {
				o.LiveDiscardWindow = uint64(be.Uint32(rest))
			}
		case OptSupportedMsgs:
			o.SupportedMsgs = rest[1:need:need]
		case OptChunkSize:
			o.ChunkSize = be.Uint32(rest)
		}
		off += need
	}
}

// Params returns the parameters in force on a channel after a handshake
// with these options, starting from base: options 6, 4, 5 and 9 replace the
// addressing method, hash size, signature size and chunk size. It fails
// with ErrBadOption if one of them holds a value messages cannot be laid
// out with. An RSA signature algorithm without a swarm ID to size it from
// keeps base.SigSize.
func (o *Options) Params(base Params) (Params, error) {
	p, err := o.params(base)
	if err != nil {
		return base, fmt.Errorf("wire: %w: %s", err.Err, err.Detail)
	}
	return p, nil
}

func (o *Options) params(base Params) (Params, *ParseError) {
	p := base
	if o.Has(OptChunkAddr) {
		if !o.ChunkAddr.Valid() {
			return base, errf(ErrBadOption, "chunk addressing method %d unknown", o.ChunkAddr)
		}
		p.Addr = o.ChunkAddr
	}
	if o.Has(OptHashFunc) {
		n := HashFuncSize(o.HashFunc)
		if n == 0 {
			return base, errf(ErrBadOption, "Merkle hash function %d unknown", o.HashFunc)
		}
		p.HashSize = n
	}
	if o.Has(OptLiveSigAlg) {
		var id []byte
		if o.Has(OptSwarmID) {
			id = o.SwarmID
		}
		switch n := SignatureSize(o.LiveSigAlg, id); {
		case n > 0:
			p.SigSize = n
		case !isRSA(o.LiveSigAlg):
			return base, errf(ErrBadOption, "live signature algorithm %d unknown", o.LiveSigAlg)
		}
	}
	if o.Has(OptChunkSize) {
		switch o.ChunkSize {
		case 0:
			return base, errf(ErrBadOption, "chunk size 0")
		case VariableChunkSize:
			// Chunk sizes only matter to byte ranges, which cannot be
			// mapped to chunks of varying size.
			if p.Addr == ByteRange64 {
				return base, errf(ErrBadOption, "byte-range addressing with variable-size chunks")
			}
		default:
			p.ChunkSize = o.ChunkSize
		}
	}
	return p, nil
}
