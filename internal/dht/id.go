package dht

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"math"
	"math/bits"
	"net/netip"
)

// ID is a 160-bit node ID or info-hash.
type ID [20]byte

// String returns the ID as 40 lower-case hex digits.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// ParseID parses 40 hex digits.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 40 {
		return id, errors.New("dht: ID must be 40 hex digits")
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return ID{}, errors.New("dht: ID must be 40 hex digits")
	}
	return id, nil
}

// cpl returns the length of the common prefix of a and b in bits (160 if
// equal).
func cpl(a, b ID) int {
	for i := range a {
		if x := a[i] ^ b[i]; x != 0 {
			return i*8 + bits.LeadingZeros8(x)
		}
	}
	return 160
}

// closer reports whether a is closer to target than b.
func closer(target, a, b ID) bool {
	for i := range target {
		da, db := a[i]^target[i], b[i]^target[i]
		if da != db {
			return da < db
		}
	}
	return false
}

// logDist returns log2 of the XOR distance of a and b (-1 if equal).
func logDist(a, b ID) float64 {
	z := cpl(a, b)
	if z == 160 {
		return -1
	}
	var x [28]byte // the distance, padded so that 8 bytes can be read at any offset
	for i := range a {
		x[i] = a[i] ^ b[i]
	}
	m := binary.BigEndian.Uint64(x[z/8:]) << (z % 8) // leading bit set
	return float64(159-z) + math.Log2(float64(m)/(1<<63))
}

func randomID() ID {
	var id ID
	rand.Read(id[:])
	return id
}

// randomIDWithPrefix returns a random ID sharing its first n bits with p.
func randomIDWithPrefix(p ID, n int) ID {
	id := randomID()
	for i := 0; i < n && i < 160; i++ {
		byteI, bit := i/8, byte(0x80)>>(i%8)
		id[byteI] = id[byteI]&^bit | p[byteI]&bit
	}
	return id
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// bep42Prefix returns the CRC32-C of ip masked as BEP 42 prescribes, with
// r (0..7) mixed in.
func bep42Prefix(ip netip.Addr, r byte) uint32 {
	ip = ip.Unmap()
	if ip.Is4() {
		a := ip.As4()
		mask := [4]byte{0x03, 0x0f, 0x3f, 0xff}
		for i := range a {
			a[i] &= mask[i]
		}
		a[0] |= r << 5
		return crc32.Checksum(a[:], castagnoli)
	}
	a := ip.As16()
	mask := [8]byte{0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff}
	var b [8]byte
	for i := range b {
		b[i] = a[i] & mask[i]
	}
	b[0] |= r << 5
	return crc32.Checksum(b[:], castagnoli)
}

// bep42ID builds a BEP 42 node ID for ip from the random byte rnd and the
// random fill in id (bytes 3..18 are kept).
func bep42ID(ip netip.Addr, rnd byte, id ID) ID {
	crc := bep42Prefix(ip, rnd&7)
	id[0] = byte(crc >> 24)
	id[1] = byte(crc >> 16)
	id[2] = byte(crc>>8)&0xf8 | id[2]&7
	id[19] = rnd
	return id
}

// newIDFor returns a random ID, conforming to BEP 42 for ip if ip is a
// public address.
func newIDFor(ip netip.Addr) ID {
	id := randomID()
	if !ip.IsValid() || bep42Exempt(ip) {
		return id
	}
	return bep42ID(ip, id[19], id)
}

// bep42Exempt reports whether BEP 42 does not apply to ip: loopback,
// private, link-local and unspecified addresses.
func bep42Exempt(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() || !ip.IsValid()
}

// ValidID reports whether id is a valid node ID for a node at ip under
// BEP 42. Addresses in local networks (loopback, private, link-local) are
// exempt and always valid.
func ValidID(id ID, ip netip.Addr) bool {
	if bep42Exempt(ip) {
		return true
	}
	crc := bep42Prefix(ip, id[19]&7)
	return id[0] == byte(crc>>24) && id[1] == byte(crc>>16) && id[2]&0xf8 == byte(crc>>8)&0xf8
}
