package wire

import "testing"

func TestSignedIntegrity(t *testing.T) {
	// live frame 4: munro 32..63, signing time in µs, ECDSA P-256 r||s.
	sig := unhex(t, "41f71acffce2bfcb58f47fc6cfe084f52c7b305c37804c00964e3c1a3ae415bd"+
		"15f14b2e44e820b7d08fbaf70d990cac7977b5157776826a812ed5a0465fb22b")
	p384 := pCR32
	p384.SigSize = 96
	sig96 := make([]byte, 96)
	for i := range sig96 {
		sig96[i] = byte(i)
	}
	testHex(t, []hexCase{
		{"chunkrange32 libswift", pCR32, SignedIntegrity{rng(32, 63), 0x000660ebf1ca9e3e, sig},
			"07 00000020 0000003f 000660ebf1ca9e3e " +
				"41f71acffce2bfcb58f47fc6cfe084f52c7b305c37804c00964e3c1a3ae415bd" +
				"15f14b2e44e820b7d08fbaf70d990cac7977b5157776826a812ed5a0465fb22b"},
		{"bin32", pBin32, SignedIntegrity{rng(32, 63), 1, sig},
			"07 0000005f 0000000000000001 " +
				"41f71acffce2bfcb58f47fc6cfe084f52c7b305c37804c00964e3c1a3ae415bd" +
				"15f14b2e44e820b7d08fbaf70d990cac7977b5157776826a812ed5a0465fb22b"},
		{"bin64", pBin64, SignedIntegrity{rng(32, 63), 1, sig},
			"07 000000000000005f 0000000000000001 " +
				"41f71acffce2bfcb58f47fc6cfe084f52c7b305c37804c00964e3c1a3ae415bd" +
				"15f14b2e44e820b7d08fbaf70d990cac7977b5157776826a812ed5a0465fb22b"},
		{"chunkrange64", pCR64, SignedIntegrity{rng(32, 63), 1, sig},
			"07 0000000000000020 000000000000003f 0000000000000001 " +
				"41f71acffce2bfcb58f47fc6cfe084f52c7b305c37804c00964e3c1a3ae415bd" +
				"15f14b2e44e820b7d08fbaf70d990cac7977b5157776826a812ed5a0465fb22b"},
		{"byterange64", pBR64, SignedIntegrity{rng(32, 63), 1, sig},
			"07 0000000000008000 000000000000ffff 0000000000000001 " +
				"41f71acffce2bfcb58f47fc6cfe084f52c7b305c37804c00964e3c1a3ae415bd" +
				"15f14b2e44e820b7d08fbaf70d990cac7977b5157776826a812ed5a0465fb22b"},
		{"ecdsa p-384 96-byte signature", p384, SignedIntegrity{rng(0, 0), 2, sig96},
			"07 00000000 00000000 0000000000000002 " +
				"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" +
				"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f" +
				"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"},
	})
}
