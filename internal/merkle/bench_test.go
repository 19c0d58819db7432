package merkle

import (
	"bytes"
	"testing"

	"github.com/nextshare/nextshare/internal/bin"
)

// feed supplies, for chunks in order, the uncles a seeder sends to a
// downloader and verifies the chunk's leaf hash: the steady state of a
// download from one peer.
type feed struct {
	seeder, d *Tree
	cand      *Candidates
	dst       []Node
	known     func(bin.Bin) bool
}

func newFeed(tb testing.TB, seeder *Tree) *feed {
	f := &feed{seeder: seeder, cand: NewCandidates(64), dst: make([]Node, 0, 64)}
	f.reset(tb)
	return f
}

func (f *feed) reset(tb testing.TB) {
	f.d = downloader(tb, f.seeder)
	f.known = f.d.Verified
	f.cand.Reset()
}

func (f *feed) supply(c uint64) {
	f.dst = f.seeder.Uncles(f.dst[:0], c, f.known)
	for _, u := range f.dst {
		f.cand.Put(u.Bin, u.Hash)
	}
}

// TestVerifyLeafNoAllocs checks the steady state allocates nothing: the
// same loop the benchmark times.
func TestVerifyLeafNoAllocs(t *testing.T) {
	data := content(1 << 20)
	seeder := mustBuild(t, data, 1024, SHA1)
	f := newFeed(t, seeder)
	var c uint64
	allocs := testing.AllocsPerRun(500, func() {
		f.supply(c)
		if err := f.d.VerifyChunk(c, chunkOf(data, 1024, c), f.cand, func(Node) {}); err != nil {
			t.Fatal(err)
		}
		c++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per verified chunk", allocs)
	}
}

var benchContent []byte

func BenchmarkBuild(b *testing.B) {
	const size = 256 << 20
	if benchContent == nil {
		benchContent = content(size)
	}
	r := bytes.NewReader(benchContent)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(r, size, 1024, SHA1); err != nil {
			b.Fatal(err)
		}
	}
}

// benchVerify times verifying chunks in order, with the uncles supplied
// from a seeder tree via Candidates. When the content runs out, a fresh
// downloader is made outside the timer.
func benchVerify(b *testing.B, hashData bool) {
	const chunks = 1 << 16
	seeder, err := Build(contentReader{chunks * 1024}, chunks*1024, 1024, SHA1)
	if err != nil {
		b.Fatal(err)
	}
	var data []byte
	leaves := make([][]byte, chunks)
	if hashData {
		data = content(chunks * 1024)
	} else {
		for c := range leaves {
			leaves[c], _ = seeder.Hash(bin.Chunk(uint64(c)))
		}
	}
	f := newFeed(b, seeder)
	if hashData {
		b.SetBytes(1024)
	}
	b.ReportAllocs()
	b.ResetTimer()
	c := uint64(0)
	for i := 0; i < b.N; i++ {
		if c == chunks {
			b.StopTimer()
			f.reset(b)
			c = 0
			b.StartTimer()
		}
		f.supply(c)
		if hashData {
			err = f.d.VerifyChunk(c, chunkOf(data, 1024, c), f.cand, nil)
		} else {
			err = f.d.VerifyLeaf(c, leaves[c], f.cand, nil)
		}
		if err != nil {
			b.Fatal(err)
		}
		c++
	}
}

func BenchmarkVerifyLeaf(b *testing.B)  { benchVerify(b, false) }
func BenchmarkVerifyChunk(b *testing.B) { benchVerify(b, true) }
