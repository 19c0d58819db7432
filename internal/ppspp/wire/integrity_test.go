package wire

import (
	"bytes"
	"testing"
)

func TestIntegrity(t *testing.T) {
	sha1 := unhex(t, "cc89c5a85f8261195c9f19d331555dac64436f46")
	sha256 := unhex(t, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	p256 := pCR32
	p256.HashSize = 32
	testHex(t, []hexCase{
		// vod-4097 frame 4: peak hash of chunks 0..3.
		{"chunkrange32 sha1 libswift", pCR32, Integrity{rng(0, 3), sha1},
			"04 00000000 00000003 cc89c5a85f8261195c9f19d331555dac64436f46"},
		{"chunkrange32 sha256", p256, Integrity{rng(0, 3), sha256},
			"04 00000000 00000003 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"},
		{"bin32 sha1", pBin32, Integrity{rng(0, 3), sha1},
			"04 00000003 cc89c5a85f8261195c9f19d331555dac64436f46"},
		{"bin64 sha1", pBin64, Integrity{rng(0, 3), sha1},
			"04 0000000000000003 cc89c5a85f8261195c9f19d331555dac64436f46"},
		{"chunkrange64 sha1", pCR64, Integrity{rng(0, 3), sha1},
			"04 0000000000000000 0000000000000003 cc89c5a85f8261195c9f19d331555dac64436f46"},
		{"byterange64 sha1", pBR64, Integrity{rng(0, 3), sha1},
			"04 0000000000000000 0000000000000fff cc89c5a85f8261195c9f19d331555dac64436f46"},
	})
}

// A hash of the wrong length must not shift the messages after it.
func TestIntegrityFixedLength(t *testing.T) {
	short := Integrity{rng(0, 0), []byte{1, 2}}.Append(nil, pCR32)
	long := Integrity{rng(0, 0), bytes.Repeat([]byte{7}, 25)}.Append(nil, pCR32)
	if len(short) != 29 || len(long) != 29 {
		t.Fatalf("lengths %d %d, want 29", len(short), len(long))
	}
	if !bytes.Equal(short[9:], append([]byte{1, 2}, make([]byte, 18)...)) {
		t.Errorf("short hash not zero-padded: %x", short[9:])
	}
}
