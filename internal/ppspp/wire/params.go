package wire

import (
	"fmt"
	"strconv"
)

// ChunkAddr is a chunk addressing method, the value of handshake option 6
// (RFC 7574 §7.8). It fixes the wire form of every chunk specification
// (§4).
type ChunkAddr uint8

// Chunk addressing methods, RFC 7574 §7.8 table 6.
const (
	Bin32        ChunkAddr = 0 // one 32-bit bin number (§4.2)
	ByteRange64  ChunkAddr = 1 // 64-bit first and last byte offsets, inclusive (§4.3)
	ChunkRange32 ChunkAddr = 2 // 32-bit first and last chunk indices, inclusive (§4.3); libswift's
	Bin64        ChunkAddr = 3 // one 64-bit bin number
	ChunkRange64 ChunkAddr = 4 // 64-bit first and last chunk indices, inclusive
)

// Size returns the number of bytes of one chunk specification under a, or 0
// if a is not a defined method.
func (a ChunkAddr) Size() int {
	switch a {
	case Bin32:
		return 4
	case ByteRange64:
		return 16
	case ChunkRange32, Bin64:
		return 8
	case ChunkRange64:
		return 16
	}
	return 0
}

// Valid reports whether a is a defined chunk addressing method.
func (a ChunkAddr) Valid() bool { return a.Size() != 0 }

// IsBin reports whether a addresses chunks by bin numbers, which cover
// only aligned, power-of-two runs of chunks.
func (a ChunkAddr) IsBin() bool { return a == Bin32 || a == Bin64 }

// is32 reports whether a is one of the 32-bit methods, whose live discard
// window (option 7, §7.9) is 32 bits wide; the others use 64 bits.
func (a ChunkAddr) is32() bool { return a == Bin32 || a == ChunkRange32 }

func (a ChunkAddr) String() string {
	switch a {
	case Bin32:
		return "bin32"
	case ByteRange64:
		return "byterange64"
	case ChunkRange32:
		return "chunkrange32"
	case Bin64:
		return "bin64"
	case ChunkRange64:
		return "chunkrange64"
	}
	return "ChunkAddr(" + strconv.Itoa(int(a)) + ")"
}

// DefaultChunkSize is the chunk size of RFC 7574 §8.1 and libswift.
const DefaultChunkSize = 1024

// Params fix how a datagram's messages are laid out; they come from the
// channel's handshake (see Options.Params).
type Params struct {
	Addr      ChunkAddr // option 6: chunk addressing method
	HashSize  int       // option 4: bytes per INTEGRITY hash; SHA-1 20, SHA-224 28, SHA-256 32, SHA-384 48, SHA-512 64
	SigSize   int       // option 5: bytes per SIGNED_INTEGRITY signature; 64 for ECDSAP256SHA256 (13) and Ed25519 (15)
	ChunkSize uint32    // option 9: bytes per chunk, used only to convert ByteRange64 specifications; 0 means 1024
}

// DefaultParams are what libswift uses: 32-bit chunk ranges, SHA-1,
// ECDSA P-256 signatures for live swarms, 1024-byte chunks.
var DefaultParams = Params{Addr: ChunkRange32, HashSize: 20, SigSize: 64, ChunkSize: DefaultChunkSize}

func (p Params) chunkSize() uint64 {
	if p.ChunkSize == 0 {
		return DefaultChunkSize
	}
	return uint64(p.ChunkSize)
}

// Check reports whether messages can be decoded with p.
func (p Params) Check() error {
	switch {
	case !p.Addr.Valid():
		return fmt.Errorf("wire: chunk addressing method %d: %w", p.Addr, ErrBadParams)
	case p.HashSize <= 0:
		return fmt.Errorf("wire: hash size %d: %w", p.HashSize, ErrBadParams)
	case p.SigSize <= 0:
		return fmt.Errorf("wire: signature size %d: %w", p.SigSize, ErrBadParams)
	}
	return nil
}

// Merkle hash functions, the values of handshake option 4 (RFC 7574 §7.6).
const (
	HashSHA1   = 0
	HashSHA224 = 1
	HashSHA256 = 2
	HashSHA384 = 3
	HashSHA512 = 4
)

// HashFuncSize returns the length of the hashes of Merkle hash function f
// (option 4 value), or 0 if f is not defined.
func HashFuncSize(f uint8) int {
	switch f {
	case HashSHA1:
		return 20
	case HashSHA224:
		return 28
	case HashSHA256:
		return 32
	case HashSHA384:
		return 48
	case HashSHA512:
		return 64
	}
	return 0
}

// Live signature algorithms (option 5, RFC 7574 §7.7) are DNSSEC algorithm
// numbers (IANA "DNS Security Algorithm Numbers").
const (
	SigRSASHA1         = 5
	SigRSASHA1NSEC3    = 7
	SigRSASHA256       = 8
	SigRSASHA512       = 10
	SigECDSAP256SHA256 = 13 // libswift's default
	SigECDSAP384SHA384 = 14
	SigEd25519         = 15
	SigEd448           = 16
)

func isRSA(alg uint8) bool {
	return alg == SigRSASHA1 || alg == SigRSASHA1NSEC3 || alg == SigRSASHA256 || alg == SigRSASHA512
}

// SignatureSize returns the length of a SIGNED_INTEGRITY signature made
// with DNSSEC algorithm alg, or 0 if it is unknown. ECDSA signatures are raw
// r||s (RFC 6605), EdDSA ones are RFC 8080's. An RSA signature is as long as
// the key's modulus, so for RSA the size is read from the live swarm ID
// (RFC 7574 §12.1: the algorithm number followed by the DNSSEC public key,
// which for RSA is RFC 3110's exponent length, exponent, modulus); it is 0
// if swarmID is not such a key.
func SignatureSize(alg uint8, swarmID []byte) int {
	switch alg {
	case SigECDSAP256SHA256, SigEd25519:
		return 64
	case SigECDSAP384SHA384:
		return 96
	case SigEd448:
		return 114
	}
	if !isRSA(alg) || len(swarmID) < 2 || swarmID[0] != alg {
		return 0
	}
	key := swarmID[1:]
	explen, off := int(key[0]), 1
	if explen == 0 { // RFC 3110 §2: a zero byte is followed by a 16-bit length
		if len(key) < 3 {
			return 0
		}
		explen, off = int(key[1])<<8|int(key[2]), 3
	}
	if explen == 0 || len(key) <= off+explen {
		return 0
	}
	return len(key) - off - explen
}
