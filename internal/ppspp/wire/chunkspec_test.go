package wire

import (
	"errors"
	"testing"

	"github.com/nextshare/nextshare/internal/bin"
)

func TestChunkAddrSize(t *testing.T) {
	for a, n := range map[ChunkAddr]int{Bin32: 4, ByteRange64: 16, ChunkRange32: 8, Bin64: 8, ChunkRange64: 16, 5: 0, 255: 0} {
		if a.Size() != n {
			t.Errorf("%v.Size() = %d, want %d", a, a.Size(), n)
		}
	}
}

// Ranges a method cannot express are written as specifications every
// decoder rejects, never widened.
func TestAppendSpecUnencodable(t *testing.T) {
	cases := []struct {
		name string
		p    Params
		r    bin.Range
		hex  string
	}{
		{"bin32 not a bin", pBin32, rng(1, 2), "ffffffff"},
		{"bin32 unaligned", pBin32, rng(2, 5), "ffffffff"},
		{"bin32 beyond 2^31", pBin32, rng(1<<31, 1<<31), "ffffffff"},
		{"bin64 not a bin", pBin64, rng(0, 2), "ffffffffffffffff"},
		{"bin64 beyond 2^32", pBin64, rng(1<<32, 1<<32), "ffffffffffffffff"},
		{"chunkrange32 empty", pCR32, rng(5, 4), "ffffffff 00000000"},
		{"chunkrange32 beyond 2^32", pCR32, rng(0, 1<<32), "ffffffff 00000000"},
		{"chunkrange64 beyond 2^32", pCR64, rng(0, 1<<32), "ffffffffffffffff 0000000000000000"},
		{"byterange64 empty", pBR64, rng(1, 0), "ffffffffffffffff 0000000000000000"},
	}
	for _, c := range cases {
		if c.p.Addr.CanEncode(c.r) {
			t.Errorf("%s: CanEncode", c.name)
		}
		got := AppendSpec(nil, c.r, c.p)
		if string(got) != string(unhex(t, c.hex)) {
			t.Errorf("%s: %x, want %s", c.name, got, c.hex)
		}
		if _, err := parseSpec(got, c.p); !errors.Is(err, ErrBadRange) {
			t.Errorf("%s: decodes: %v", c.name, err)
		}
	}
	if got := AppendSpec([]byte{1}, rng(0, 0), Params{Addr: 9}); len(got) != 1 {
		t.Errorf("undefined method wrote %x", got)
	}
}

// Decoding only: forms a peer may send that we encode differently.
func TestParseSpecNormalizes(t *testing.T) {
	cases := []struct {
		name string
		p    Params
		hex  string
		want bin.Range
	}{
		// A byte range may stop inside its last chunk (at the content's
		// last byte); it names that whole chunk.
		{"byterange64 end mid-chunk", pBR64, "0000000000001000 0000000000001000", rng(4, 4)},
		{"byterange64 end mid-chunk 2", pBR64, "0000000000000000 00000000000004ff", rng(0, 1)},
		{"byterange64 zero chunk size means 1024", Params{Addr: ByteRange64}, "0000000000000400 00000000000007ff", rng(1, 1)},
		{"chunkrange32 unaligned", pCR32, "00000003 00000006", rng(3, 6)},
	}
	for _, c := range cases {
		got, err := parseSpec(unhex(t, c.hex), c.p)
		if err != nil || got != c.want {
			t.Errorf("%s: %v %v, want %v", c.name, got, err, c.want)
		}
	}
}

// Every range a method can express survives the round trip.
func TestSpecRoundTrip(t *testing.T) {
	var ranges []bin.Range
	for s := uint64(0); s < 40; s++ {
		for e := s; e < 40; e++ {
			ranges = append(ranges, rng(s, e))
		}
	}
	ranges = append(ranges, rng(0, 1<<32-1), rng(1<<31, 1<<32-1), rng(1<<32-1, 1<<32-1))
	for _, p := range allParams {
		for _, r := range ranges {
			b := AppendSpec(nil, r, p)
			if len(b) != p.Addr.Size() {
				t.Fatalf("%v %v: %d bytes", p.Addr, r, len(b))
			}
			got, err := parseSpec(b, p)
			if p.Addr.CanEncode(r) {
				if err != nil || got != r {
					t.Errorf("%v %v: got %v %v", p.Addr, r, got, err)
				}
			} else if !errors.Is(err, ErrBadRange) {
				t.Errorf("%v %v: unencodable range decodes to %v %v", p.Addr, r, got, err)
			}
		}
	}
}
