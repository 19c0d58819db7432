package wire

import "testing"

func TestAck(t *testing.T) {
	testHex(t, []hexCase{
		// vod-4097 frame 5: ACK 0..0, one-way delay 16 µs.
		{"chunkrange32 libswift", pCR32, Ack{rng(0, 0), 16}, "02 00000000 00000000 0000000000000010"},
		// vod-4097 frame 8: ACK 4..4, 29 µs.
		{"chunkrange32 4..4", pCR32, Ack{rng(4, 4), 29}, "02 00000004 00000004 000000000000001d"},
		// Delay samples are signed: clocks of two hosts may disagree.
		{"negative delay", pCR32, Ack{rng(1, 1), -2}, "02 00000001 00000001 fffffffffffffffe"},
		{"bin32", pBin32, Ack{rng(2, 3), 1000}, "02 00000005 00000000000003e8"},
		{"bin64", pBin64, Ack{rng(2, 3), 1000}, "02 0000000000000005 00000000000003e8"},
		{"chunkrange64", pCR64, Ack{rng(2, 3), 1000}, "02 0000000000000002 0000000000000003 00000000000003e8"},
		{"byterange64", pBR64, Ack{rng(2, 3), 1000}, "02 0000000000000800 0000000000000fff 00000000000003e8"},
	})
}
