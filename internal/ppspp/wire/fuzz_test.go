package wire

import (
	"bytes"
	"testing"
)

// fuzzParams are the channel parameters every fuzz input is decoded under:
// each addressing method, plus larger hashes and signatures, and a chunk
// size that is not a power of two.
var fuzzParams = append(append([]Params(nil), allParams...),
	Params{Addr: ChunkRange32, HashSize: 32, SigSize: 96, ChunkSize: 1024},
	Params{Addr: Bin32, HashSize: 64, SigSize: 114, ChunkSize: 1024},
	Params{Addr: ByteRange64, HashSize: 28, SigSize: 256, ChunkSize: 1000},
)

func fuzzSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, c := range libswiftCaptures(f) {
		seeds = append(seeds, c.bytes(f))
	}
	for _, h := range []string{
		// probes P2, P3, P4 (options 8 and 9), P9 (CAM 4), P10 (CAM 0), P12 (SHA-256).
		"000000000011223344000101010200147b72db4d084873f536c5972c0276f45fae2dd3fc0301040006020900000400ff",
		"000000000011223344000101010200147b72db4d084873f536c5972c0276f45fae2dd3fc0301040006020802fffcff",
		"000000000011223344000101010802fffc0200147b72db4d084873f536c5972c0276f45fae2dd3fc030104000602ff",
		"000000000011223344000101010200147b72db4d084873f536c5972c0276f45fae2dd3fc030104000604ff",
		"000000000011223344000101010200147b72db4d084873f536c5972c0276f45fae2dd3fc030104000600ff",
		"000000000011223344000101010200147b72db4d084873f536c5972c0276f45fae2dd3fc030104020602ff",
		// A handshake switching to bins, then bin-addressed messages.
		"00000005 0300000000000000 00 00000007 0402 0600 ff 030000000b 04 0000000b" +
			"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		// PEX responses, CHOKE/UNCHOKE, CANCEL.
		"00000001 05 7f000001 4e20 0c 20010db8000000000000000000000001 1e4e 0d 0004 63657274 0a 0b 09 00000004 00000007",
		// Live options with a 64-bit discard window.
		"00000000 00 00000001 0001 0101 0303 050d 0604 07 0102030405060708 ff 03 0000000000000000 000000000000003f",
	} {
		seeds = append(seeds, unhex(f, h))
	}
	return seeds
}

// FuzzReader decodes arbitrary datagrams under every parameter set. Every
// message decoded is re-encoded with the parameters in force when it was
// decoded; the result must decode to the same messages, and encode again to
// the same bytes.
func FuzzReader(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, p := range fuzzParams {
			ch, msgs, ps, err := readAll(b, p)
			if len(b) < 4 {
				continue
			}
			var n int
			for i, m := range msgs {
				if l, got := m.Len(ps[i]), len(m.Append(nil, ps[i])); l != got {
					t.Fatalf("%v: %T.Len = %d, Append wrote %d", p.Addr, m, l, got)
				}
				n += m.Len(ps[i])
			}
			if err == nil && n != len(b)-4 {
				t.Fatalf("%v: messages take %d bytes of %d", p.Addr, n, len(b)-4)
			}
			enc := reencode(ch, msgs, ps)
			ch2, msgs2, ps2, err2 := readAll(enc, p)
			if err2 != nil {
				t.Fatalf("%v: re-encoded datagram %x does not decode: %v", p.Addr, enc, err2)
			}
			if ch2 != ch || len(msgs2) != len(msgs) {
				t.Fatalf("%v: channel %d/%d, %d/%d messages", p.Addr, ch, ch2, len(msgs), len(msgs2))
			}
			for i := range msgs {
				if !sameMessage(msgs[i], msgs2[i]) || ps[i] != ps2[i] {
					t.Fatalf("%v: message %d\n got %+v (%+v)\nwant %+v (%+v)", p.Addr, i, msgs2[i], ps2[i], msgs[i], ps[i])
				}
			}
			if enc2 := reencode(ch2, msgs2, ps2); !bytes.Equal(enc, enc2) {
				t.Fatalf("%v: encoding is not stable:\n %x\n %x", p.Addr, enc, enc2)
			}
		}
	})
}

// FuzzHandshake decodes arbitrary HANDSHAKE bodies (the bytes after the
// type byte) under every parameter set and checks the round trip, and that
// deriving Params from the options never panics.
func FuzzHandshake(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		if len(s) > 5 && s[4] == byte(TypeHandshake) {
			f.Add(s[5:])
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, p := range fuzzParams {
			h, n, err := parseHandshake(b, p)
			if err != nil {
				continue
			}
			if n < 5 || n > len(b) || b[n-1] != OptEnd {
				t.Fatalf("%v: consumed %d of %d bytes", p.Addr, n, len(b))
			}
			_, _ = h.Options.Params(p)
			enc := h.Append(nil, p)
			if len(enc) != h.Len(p) || len(enc) != n+1 {
				t.Fatalf("%v: encoded %d bytes, Len %d, decoded from %d", p.Addr, len(enc), h.Len(p), n)
			}
			h2, n2, err := parseHandshake(enc[1:], p)
			if err != nil || n2 != len(enc)-1 {
				t.Fatalf("%v: re-encoded %x: n %d err %v", p.Addr, enc, n2, err)
			}
			if !sameMessage(h, h2) {
				t.Fatalf("%v:\n got %+v\nwant %+v", p.Addr, h2, h)
			}
			if enc2 := h2.Append(nil, p); !bytes.Equal(enc, enc2) {
				t.Fatalf("%v: encoding is not stable:\n %x\n %x", p.Addr, enc, enc2)
			}
		}
	})
}
