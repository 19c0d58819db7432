package merkle

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/nextshare/nextshare/internal/bin"
)

// peer simulates what a seeder knows about one downloader: the hashes it
// sent and the chunks the downloader announced, as a seeder learns from
// HAVE messages.
type peer struct {
	sent map[bin.Bin]bool
	have *bin.Set
}

func newPeer(seeder *Tree) *peer {
	p := &peer{sent: map[bin.Bin]bool{}, have: bin.NewSet(seeder.NumChunks(), 0)}
	for _, pk := range seeder.Peaks() {
		p.sent[pk.Bin] = true
	}
	return p
}

func (p *peer) known(b bin.Bin) bool { return p.sent[b] || p.have.HasRange(b.Range()) }

// send returns the uncles for chunk c into a fresh Candidates and records
// them as sent.
func (p *peer) send(t *testing.T, seeder *Tree, c uint64, cand *Candidates) int {
	t.Helper()
	u := seeder.Uncles(nil, c, p.known)
	for _, nd := range u {
		if !cand.Put(nd.Bin, nd.Hash) {
			t.Fatalf("chunk %d: candidates refused %v", c, nd.Bin)
		}
		p.sent[nd.Bin] = true
	}
	return len(u)
}

func TestVerifyRandomOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct {
		size, chunk int
		f           Func
	}{
		{1, 1024, SHA1}, {1024, 1024, SHA1}, {1025, 1024, SHA1}, {4097, 1024, SHA1},
		{65536, 1024, SHA1}, {1000000, 1024, SHA1}, {777777, 1024, SHA256}, {50000, 100, SHA512},
	} {
		data := content(c.size)
		seeder := mustBuild(t, data, c.chunk, c.f)
		d := downloader(t, seeder)
		n := d.NumChunks()
		p := newPeer(seeder)
		cand := NewCandidates(64)
		added := map[bin.Bin][]byte{}
		order := rng.Perm(int(n))
		sentTotal := 0
		for _, i := range order {
			ci := uint64(i)
			sentTotal += p.send(t, seeder, ci, cand)
			err := d.VerifyChunk(ci, chunkOf(data, c.chunk, ci), cand, func(nd Node) {
				if _, dup := added[nd.Bin]; dup {
					t.Fatalf("%v reported twice", nd.Bin)
				}
				added[nd.Bin] = append([]byte(nil), nd.Hash...)
			})
			if err != nil {
				t.Fatalf("size %d: chunk %d: %v", c.size, ci, err)
			}
			if cand.Len() != 0 {
				t.Fatalf("size %d: chunk %d: %d candidates left unused", c.size, ci, cand.Len())
			}
			if _, err := p.have.Add(ci); err != nil {
				t.Fatal(err)
			}
			// A chunk verifies again without anything new.
			if err := d.VerifyChunk(ci, chunkOf(data, c.chunk, ci), nil, nil); err != nil {
				t.Fatalf("chunk %d again: %v", ci, err)
			}
		}
		// Every node of the content is now verified and equal to the
		// seeder's; each was reported once (the peaks and above by nobody).
		for b := bin.Bin(0); uint64(b) < seeder.NodeCount(); b++ {
			want, _ := seeder.Hash(b)
			got, ok := d.Hash(b)
			if !ok || !bytes.Equal(got, want) {
				t.Fatalf("size %d: %v: %x %v, want %x", c.size, b, got, ok, want)
			}
			if h, rep := added[b]; rep != (!d.empty(b) && !isAtOrAbovePeak(d, b)) || (rep && !bytes.Equal(h, want)) {
				t.Fatalf("size %d: %v reported %v", c.size, b, rep)
			}
		}
		// No hash was sent twice, and no more than the non-peak nodes.
		if uint64(sentTotal) > seeder.NodeCount() {
			t.Errorf("size %d: %d uncles sent for %d nodes", c.size, sentTotal, seeder.NodeCount())
		}
	}
}

func isAtOrAbovePeak(t *Tree, b bin.Bin) bool {
	for _, p := range t.peaks {
		if b.Contains(p) {
			return true
		}
	}
	return false
}

func TestVerifyRejectsBadData(t *testing.T) {
	data := content(10000)
	seeder := mustBuild(t, data, 1024, SHA1)
	d := downloader(t, seeder)
	cand := NewCandidates(16)
	for _, u := range seeder.Uncles(nil, 3, nil) {
		cand.Put(u.Bin, u.Hash)
	}
	bad := bytes.Clone(chunkOf(data, 1024, 3))
	bad[100] ^= 1
	if err := d.VerifyChunk(3, bad, cand, nil); !errors.Is(err, ErrMismatch) {
		t.Fatalf("flipped byte: %v", err)
	}
	// Nothing under the first peak (bin 7) became verified, and the honest
	// chunk still verifies with the same candidates.
	for b := bin.Bin(0); b < 7; b++ {
		if d.Verified(b) {
			t.Fatalf("%v verified after a mismatch", b)
		}
	}
	if err := d.VerifyChunk(3, chunkOf(data, 1024, 3), cand, nil); err != nil {
		t.Fatal(err)
	}
	// Now the leaf is verified: a different chunk 3 is refused outright.
	if err := d.VerifyChunk(3, bad, nil, nil); !errors.Is(err, ErrMismatch) {
		t.Fatalf("flipped byte after verification: %v", err)
	}
	// Wrong lengths.
	if err := d.VerifyChunk(4, chunkOf(data, 1024, 4)[:1000], nil, nil); !errors.Is(err, ErrMismatch) {
		t.Errorf("short chunk: %v", err)
	}
	last := chunkOf(data, 1024, 9)
	for _, l := range [][]byte{nil, make([]byte, 1025)} {
		if err := d.VerifyChunk(9, l, nil, nil); !errors.Is(err, ErrMismatch) {
			t.Errorf("last chunk of %d bytes: %v", len(l), err)
		}
	}
	// 785 bytes could be the last chunk until the size is known.
	longer := append(bytes.Clone(last), 0)
	if err := d.VerifyChunk(9, longer, nil, nil); !errors.Is(err, ErrMissingHashes) {
		t.Errorf("785-byte last chunk, size unknown: %v", err)
	}
	if err := d.SetSize(10000); err != nil {
		t.Fatal(err)
	}
	if err := d.VerifyChunk(9, longer, nil, nil); !errors.Is(err, ErrMismatch) {
		t.Errorf("785-byte last chunk of a 10000-byte content: %v", err)
	}
	// Out of range, bad leaf hash length.
	if err := d.VerifyChunk(10, last, nil, nil); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("chunk 10 of 10: %v", err)
	}
	if err := d.VerifyLeaf(10, make([]byte, 20), nil, nil); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("leaf 10 of 10: %v", err)
	}
	if err := d.VerifyLeaf(0, make([]byte, 19), nil, nil); err == nil {
		t.Error("19-byte leaf hash accepted")
	}
}

// TestVerifyLastChunkLength checks that the last chunk may be short while
// the size is unknown, and must be exact once it is known.
func TestVerifyLastChunkLength(t *testing.T) {
	data := content(4097)
	seeder := mustBuild(t, data, 1024, SHA1)
	d := downloader(t, seeder)
	if err := d.VerifyChunk(4, data[4096:], nil, nil); err != nil {
		t.Fatalf("1-byte last chunk, size unknown: %v", err)
	}
	if err := d.SetSize(4098); err != nil {
		t.Fatal(err)
	}
	if err := d.VerifyChunk(4, data[4096:], nil, nil); !errors.Is(err, ErrMismatch) {
		t.Errorf("1-byte last chunk, size 4098: %v", err)
	}
	if err := seeder.VerifyChunk(4, data[4096:], nil, nil); err != nil {
		t.Errorf("seeder last chunk: %v", err)
	}
}

func TestVerifyMissingHashes(t *testing.T) {
	data := content(100 * 1024)
	seeder := mustBuild(t, data, 1024, SHA1)
	u := seeder.Uncles(nil, 37, nil)
	for skip := range u {
		d := downloader(t, seeder)
		cand := NewCandidates(16)
		for i, nd := range u {
			if i != skip {
				cand.Put(nd.Bin, nd.Hash)
			}
		}
		err := d.VerifyChunk(37, chunkOf(data, 1024, 37), cand, func(Node) { t.Fatal("added called on failure") })
		if !errors.Is(err, ErrMissingHashes) {
			t.Fatalf("uncle %v withheld: %v", u[skip].Bin, err)
		}
		if skip == len(u)-1 && cand.Len() != len(u)-1 {
			t.Errorf("failed verification consumed candidates")
		}
	}
	d := downloader(t, seeder)
	if err := d.VerifyChunk(37, chunkOf(data, 1024, 37), nil, nil); !errors.Is(err, ErrMissingHashes) {
		t.Errorf("nil candidates: %v", err)
	}
	// Candidates of the wrong hash length count as missing.
	cand := NewCandidates(16)
	for _, nd := range seeder.Uncles(nil, 37, nil) {
		cand.Put(nd.Bin, append(bytes.Clone(nd.Hash), make([]byte, 12)...))
	}
	if err := d.VerifyChunk(37, chunkOf(data, 1024, 37), cand, nil); !errors.Is(err, ErrMissingHashes) {
		t.Errorf("32-byte candidates in a SHA-1 tree: %v", err)
	}
	// Unknown size.
	u0, _ := New(seeder.Root(), SHA1, 1024)
	if err := u0.VerifyChunk(0, data[:1024], nil, nil); !errors.Is(err, ErrUnknownSize) {
		t.Errorf("unknown size: %v", err)
	}
	if err := u0.VerifyLeaf(0, make([]byte, 20), nil, nil); !errors.Is(err, ErrUnknownSize) {
		t.Errorf("unknown size: %v", err)
	}
	if got := u0.Uncles(nil, 0, nil); len(got) != 0 {
		t.Errorf("uncles from an unknown tree: %v", got)
	}
}

// TestVerifyBadUncles checks that a wrong uncle from one peer is caught and
// does not stop the same chunk verifying with a good peer's candidates.
func TestVerifyBadUncles(t *testing.T) {
	data := content(64 * 1024)
	seeder := mustBuild(t, data, 1024, SHA1)
	d := downloader(t, seeder)
	u := seeder.Uncles(nil, 5, nil)
	for i := range u {
		bad := NewCandidates(16)
		for j, nd := range u {
			h := bytes.Clone(nd.Hash)
			if i == j {
				h[0] ^= 0x80
			}
			bad.Put(nd.Bin, h)
		}
		if err := d.VerifyChunk(5, chunkOf(data, 1024, 5), bad, nil); !errors.Is(err, ErrMismatch) {
			t.Fatalf("bad uncle %v: %v", u[i].Bin, err)
		}
	}
	good := NewCandidates(16)
	for _, nd := range u {
		good.Put(nd.Bin, nd.Hash)
	}
	if err := d.VerifyChunk(5, chunkOf(data, 1024, 5), good, nil); err != nil {
		t.Fatal(err)
	}
	// A later bad uncle for a node now verified is ignored: verified
	// hashes win over candidates.
	bad := NewCandidates(16)
	for _, nd := range seeder.Uncles(nil, 4, nil) {
		bad.Put(nd.Bin, make([]byte, 20))
	}
	if err := d.VerifyChunk(4, chunkOf(data, 1024, 4), bad, nil); err != nil {
		t.Fatalf("chunk 4 with junk candidates for verified nodes: %v", err)
	}
}

func TestUnclesUnverified(t *testing.T) {
	data := content(8 * 1024)
	seeder := mustBuild(t, data, 1024, SHA1)
	d := downloader(t, seeder)
	dst := []Node{{Bin: 99}}
	if got := d.Uncles(dst, 2, nil); len(got) != 1 {
		t.Errorf("downloader without chunk 2 gave uncles %v", got[1:])
	}
	cand := NewCandidates(8)
	for _, nd := range seeder.Uncles(nil, 2, nil) {
		cand.Put(nd.Bin, nd.Hash)
	}
	if err := d.VerifyChunk(2, chunkOf(data, 1024, 2), cand, nil); err != nil {
		t.Fatal(err)
	}
	// Now the downloader can prove chunk 2 to someone else, and appends
	// after what dst held.
	got := d.Uncles(dst, 2, nil)
	want := seeder.Uncles(nil, 2, nil)
	if len(got) != 1+len(want) || got[0].Bin != 99 {
		t.Fatalf("uncles %v, want %v after bin 99", got, want)
	}
	for i, nd := range want {
		if got[1+i].Bin != nd.Bin || !bytes.Equal(got[1+i].Hash, nd.Hash) {
			t.Errorf("uncle %d: %v, want %v", i, got[1+i].Bin, nd.Bin)
		}
	}
	if got := d.Uncles(nil, 8, nil); len(got) != 0 {
		t.Errorf("uncles of chunk 8 of 8: %v", got)
	}
}

func TestSHA256Tree(t *testing.T) {
	data := content(300000)
	seeder := mustBuild(t, data, 4096, SHA256)
	if len(seeder.Root()) != 32 {
		t.Fatalf("root %x", seeder.Root())
	}
	d := downloader(t, seeder)
	p := newPeer(seeder)
	cand := NewCandidates(32)
	for c := range d.NumChunks() {
		p.send(t, seeder, c, cand)
		if err := d.VerifyChunk(c, chunkOf(data, 4096, c), cand, nil); err != nil {
			t.Fatalf("chunk %d: %v", c, err)
		}
		p.have.Add(c)
	}
}
