package merkle

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"strconv"
)

// Func is the Merkle hash function, RFC 7574 §7.6 (handshake option 4,
// "Merkle Tree Hash Function"). Its values are the wire values.
type Func uint8

// Merkle hash functions, RFC 7574 §7.6.
const (
	SHA1   Func = 0
	SHA224 Func = 1
	SHA256 Func = 2
	SHA384 Func = 3
	SHA512 Func = 4
)

// maxHashSize is the largest Func.Size, used to size scratch buffers.
const maxHashSize = sha512.Size

// Size returns the length in bytes of f's hashes, or 0 if f is not a
// defined function.
func (f Func) Size() int {
	switch f {
	case SHA1:
		return sha1.Size
	case SHA224:
		return sha256.Size224
	case SHA256:
		return sha256.Size
	case SHA384:
		return sha512.Size384
	case SHA512:
		return sha512.Size
	}
	return 0
}

// Valid reports whether f is a defined hash function.
func (f Func) Valid() bool { return f.Size() != 0 }

// New returns a new hash.Hash computing f, or nil if f is not valid.
func (f Func) New() hash.Hash {
	switch f {
	case SHA1:
		return sha1.New()
	case SHA224:
		return sha256.New224()
	case SHA256:
		return sha256.New()
	case SHA384:
		return sha512.New384()
	case SHA512:
		return sha512.New()
	}
	return nil
}

func (f Func) String() string {
	switch f {
	case SHA1:
		return "SHA-1"
	case SHA224:
		return "SHA-224"
	case SHA256:
		return "SHA-256"
	case SHA384:
		return "SHA-384"
	case SHA512:
		return "SHA-512"
	}
	return "Func(" + strconv.Itoa(int(f)) + ")"
}

// LeafHash appends H(data) to dst and returns the extended slice. It is
// safe for concurrent use and does not allocate when dst has room. For an
// invalid f it returns dst unchanged.
func LeafHash(f Func, dst, data []byte) []byte {
	switch f {
	case SHA1:
		s := sha1.Sum(data)
		return append(dst, s[:]...)
	case SHA224:
		s := sha256.Sum224(data)
		return append(dst, s[:]...)
	case SHA256:
		s := sha256.Sum256(data)
		return append(dst, s[:]...)
	case SHA384:
		s := sha512.Sum384(data)
		return append(dst, s[:]...)
	case SHA512:
		s := sha512.Sum512(data)
		return append(dst, s[:]...)
	}
	return dst
}

// hashPair writes H(left || right) to dst, using pair (at least
// len(left)+len(right) bytes) as scratch so that nothing escapes.
func hashPair(f Func, dst, pair, left, right []byte) {
	n := copy(pair, left)
	n += copy(pair[n:], right)
	LeafHash(f, dst[:0], pair[:n])
}
