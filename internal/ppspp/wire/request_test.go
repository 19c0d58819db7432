package wire

import "testing"

func TestRequest(t *testing.T) {
	testHex(t, []hexCase{
		// vod-4097 frame 3 and 5.
		{"chunkrange32 0..0", pCR32, Request{rng(0, 0)}, "08 00000000 00000000"},
		{"chunkrange32 4..4", pCR32, Request{rng(4, 4)}, "08 00000004 00000004"},
		// live frame 5: the viewer's first request, 32..47.
		{"chunkrange32 32..47", pCR32, Request{rng(32, 47)}, "08 00000020 0000002f"},
		// probes P6: an unaligned request libswift serves.
		{"chunkrange32 0..2", pCR32, Request{rng(0, 2)}, "08 00000000 00000002"},
		{"bin32 32..47", pBin32, Request{rng(32, 47)}, "08 0000004f"},
		{"bin64 32..47", pBin64, Request{rng(32, 47)}, "08 00000000 0000004f"},
		{"chunkrange64 0..2", pCR64, Request{rng(0, 2)}, "08 0000000000000000 0000000000000002"},
		{"byterange64 1..1", pBR64, Request{rng(1, 1)}, "08 0000000000000400 00000000000007ff"},
	})
}
