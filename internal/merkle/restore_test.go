package merkle

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/nextshare/nextshare/internal/bin"
)

// partial returns a downloader that verified the given chunks, and the
// nodes it reported for persistence.
func partial(t *testing.T, data []byte, seeder *Tree, chunks []uint64) (*Tree, []Node) {
	t.Helper()
	d := downloader(t, seeder)
	var saved []Node
	cand := NewCandidates(64)
	for _, c := range chunks {
		for _, nd := range seeder.Uncles(nil, c, d.Verified) {
			cand.Put(nd.Bin, nd.Hash)
		}
		err := d.VerifyChunk(c, chunkOf(data, seeder.ChunkSize(), c), cand, func(nd Node) {
			saved = append(saved, Node{Bin: nd.Bin, Hash: bytes.Clone(nd.Hash)})
		})
		if err != nil {
			t.Fatalf("chunk %d: %v", c, err)
		}
	}
	return d, saved
}

// sameVerified fails unless a and b verify exactly the same nodes with the
// same hashes.
func sameVerified(t *testing.T, a, b *Tree) {
	t.Helper()
	for x := bin.Bin(0); uint64(x) < a.NodeCount(); x++ {
		ha, oka := a.Hash(x)
		hb, okb := b.Hash(x)
		if oka != okb || !bytes.Equal(ha, hb) {
			t.Fatalf("%v: %x %v vs %x %v", x, ha, oka, hb, okb)
		}
	}
}

func TestRestore(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	data := content(300 * 1024)
	seeder := mustBuild(t, data, 1024, SHA1)
	var chunks []uint64
	for _, i := range rng.Perm(300)[:120] {
		chunks = append(chunks, uint64(i))
	}
	d, saved := partial(t, data, seeder, chunks)

	rng.Shuffle(len(saved), func(i, j int) { saved[i], saved[j] = saved[j], saved[i] })
	r := downloader(t, seeder)
	if got := r.Restore(saved); got != len(saved) {
		t.Fatalf("Restore accepted %d of %d", got, len(saved))
	}
	sameVerified(t, d, r)
	if got := r.Restore(saved); got != 0 {
		t.Errorf("Restore twice accepted %d", got)
	}
	if got := seeder.Restore(saved); got != 0 {
		t.Errorf("Restore into a complete tree accepted %d", got)
	}
	unknown, _ := New(seeder.Root(), SHA1, 1024)
	if got := unknown.Restore(saved); got != 0 {
		t.Errorf("Restore into an unknown tree accepted %d", got)
	}

	// Junk is ignored: bins outside the tree, wrong lengths, duplicates.
	junk := append([]Node{
		{Bin: bin.Bin(1 << 20), Hash: make([]byte, 20)},
		{Bin: bin.None, Hash: make([]byte, 20)},
		{Bin: 0, Hash: make([]byte, 5)},
		{Bin: 600, Hash: make([]byte, 20)}, // empty subtree (chunk 300)
	}, saved...)
	junk = append(junk, saved...)
	r2 := downloader(t, seeder)
	if got := r2.Restore(junk); got != len(saved) {
		t.Errorf("Restore with junk accepted %d, want %d", got, len(saved))
	}
	sameVerified(t, d, r2)
}

func TestRestoreRejectsTampered(t *testing.T) {
	data := content(64 * 1024)
	seeder := mustBuild(t, data, 1024, SHA1)
	all := make([]uint64, 64)
	for i := range all {
		all[i] = uint64(i)
	}
	_, saved := partial(t, data, seeder, all)
	for i := range saved {
		tampered := clonePeaks(saved)
		tampered[i].Hash[0] ^= 1
		r := downloader(t, seeder)
		got := r.Restore(tampered)
		// The tampered node and its sibling are refused, and so is all that
		// hangs below them.
		b := tampered[i].Bin
		lost := 2 * (2*b.Chunks() - 1)
		if want := len(saved) - int(lost); got != want {
			t.Errorf("tampered %v: accepted %d, want %d", b, got, want)
		}
		for x := bin.Bin(0); uint64(x) < r.NodeCount(); x++ {
			h, ok := r.Hash(x)
			want, _ := seeder.Hash(x)
			if ok && !bytes.Equal(h, want) {
				t.Fatalf("tampered %v: %v verified as %x", b, x, h)
			}
			if ok != !(b.Contains(x) || b.Sibling().Contains(x)) {
				t.Fatalf("tampered %v: %v verified %v", b, x, ok)
			}
		}
	}
}
