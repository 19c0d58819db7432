package wire

import "testing"

// Params for each chunk addressing method (RFC 7574 §7.8), SHA-1 hashes,
// 64-byte signatures, 1024-byte chunks.
var (
	pBin32 = Params{Addr: Bin32, HashSize: 20, SigSize: 64, ChunkSize: 1024}
	pBin64 = Params{Addr: Bin64, HashSize: 20, SigSize: 64, ChunkSize: 1024}
	pCR32  = DefaultParams
	pCR64  = Params{Addr: ChunkRange64, HashSize: 20, SigSize: 64, ChunkSize: 1024}
	pBR64  = Params{Addr: ByteRange64, HashSize: 20, SigSize: 64, ChunkSize: 1024}

	allParams = []Params{pBin32, pBin64, pCR32, pCR64, pBR64}
)

func TestHave(t *testing.T) {
	testHex(t, []hexCase{
		// vod-4097 frame 2: the seeder's HAVEs for the two peaks.
		{"chunkrange32 0..3", pCR32, Have{rng(0, 3)}, "03 00000000 00000003"},
		{"chunkrange32 4..4", pCR32, Have{rng(4, 4)}, "03 00000004 00000004"},
		// live frame 2: HAVE 0..63.
		{"chunkrange32 0..63", pCR32, Have{rng(0, 63)}, "03 00000000 0000003f"},
		{"chunkrange32 unaligned", pCR32, Have{rng(1, 2)}, "03 00000001 00000002"},
		{"chunkrange32 last", pCR32, Have{rng(0xffffffff, 0xffffffff)}, "03 ffffffff ffffffff"},
		// Bins (§4.2): chunk i is bin 2i, bin 3 covers chunks 0..3, bin 11 chunks 4..7.
		{"bin32 chunk 0", pBin32, Have{rng(0, 0)}, "03 00000000"},
		{"bin32 chunk 4", pBin32, Have{rng(4, 4)}, "03 00000008"},
		{"bin32 0..3", pBin32, Have{rng(0, 3)}, "03 00000003"},
		{"bin32 4..7", pBin32, Have{rng(4, 7)}, "03 0000000b"},
		{"bin32 largest", pBin32, Have{rng(0, 1<<31-1)}, "03 7fffffff"},
		{"bin64 0..3", pBin64, Have{rng(0, 3)}, "03 00000000 00000003"},
		{"bin64 2^32-1", pBin64, Have{rng(1<<32-1, 1<<32-1)}, "03 00000001 fffffffe"},
		{"bin64 all 2^32", pBin64, Have{rng(0, 1<<32-1)}, "03 00000000 ffffffff"},
		{"chunkrange64 0..3", pCR64, Have{rng(0, 3)}, "03 0000000000000000 0000000000000003"},
		{"chunkrange64 high", pCR64, Have{rng(0x12345678, 0xffffffff)}, "03 0000000012345678 00000000ffffffff"},
		// Byte ranges (§4.3): first and last byte, inclusive.
		{"byterange64 0..3", pBR64, Have{rng(0, 3)}, "03 0000000000000000 0000000000000fff"},
		{"byterange64 4..4", pBR64, Have{rng(4, 4)}, "03 0000000000001000 00000000000013ff"},
		{"byterange64 chunk 512B", Params{Addr: ByteRange64, HashSize: 20, SigSize: 64, ChunkSize: 512}, Have{rng(2, 3)}, "03 0000000000000400 00000000000007ff"},
		{"byterange64 last chunk", pBR64, Have{rng(1<<32-1, 1<<32-1)}, "03 000003fffffffc00 000003ffffffffff"},
	})
}
