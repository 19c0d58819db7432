package wire

import "testing"

func TestCancel(t *testing.T) {
	testHex(t, []hexCase{
		{"chunkrange32 4..7", pCR32, Cancel{rng(4, 7)}, "09 00000004 00000007"},
		{"bin32 4..7", pBin32, Cancel{rng(4, 7)}, "09 0000000b"},
		{"bin64 chunk 5", pBin64, Cancel{rng(5, 5)}, "09 00000000 0000000a"},
		{"chunkrange64 4..7", pCR64, Cancel{rng(4, 7)}, "09 0000000000000004 0000000000000007"},
		{"byterange64 4..7", pBR64, Cancel{rng(4, 7)}, "09 0000000000001000 0000000000001fff"},
	})
}
