package merkle

import (
	"bytes"
	"errors"
	"testing"

	"github.com/nextshare/nextshare/internal/bin"
)

func clonePeaks(p []Node) []Node {
	out := make([]Node, len(p))
	for i, nd := range p {
		out[i] = Node{Bin: nd.Bin, Hash: bytes.Clone(nd.Hash)}
	}
	return out
}

func TestSetPeaksRejects(t *testing.T) {
	data := content(1000000) // 977 chunks: peaks of 512, 256, 128, 64, 16 and 1
	seeder := mustBuild(t, data, 1024, SHA1)
	good := seeder.Peaks()
	other := mustBuild(t, data[:999000], 1024, SHA1).Peaks() // 976 chunks
	longer := mustBuild(t, content(1000000+1024), 1024, SHA1).Peaks()

	flipped := clonePeaks(good)
	flipped[3].Hash[7] ^= 1
	short := clonePeaks(good)
	short[2].Hash = short[2].Hash[:19]
	split := clonePeaks(good) // bin 1023 (0..511) as its two children
	split = append([]Node{{Bin: bin.Bin(1023).Left(), Hash: good[0].Hash}, {Bin: bin.Bin(1023).Right(), Hash: good[0].Hash}}, split[1:]...)
	shifted := clonePeaks(good)
	shifted[0].Bin = bin.New(9, 1)
	huge := []Node{{Bin: bin.New(32, 0), Hash: make([]byte, 20)}}
	tooHuge := []Node{{Bin: bin.New(33, 0), Hash: make([]byte, 20)}}

	for name, peaks := range map[string][]Node{
		"none":            nil,
		"flipped hash":    flipped,
		"short hash":      short,
		"missing last":    good[:len(good)-1],
		"missing first":   good[1:],
		"extra peak":      append(clonePeaks(good), Node{Bin: bin.Chunk(977), Hash: good[5].Hash}),
		"976 chunks":      other,
		"978 chunks":      longer,
		"split peak":      split,
		"not at chunk 0":  shifted,
		"reversed":        []Node{good[5], good[4], good[3], good[2], good[1], good[0]},
		"bin.None":        {{Bin: bin.None, Hash: make([]byte, 20)}},
		"2^32 chunks":     huge,
		"2^33 chunks":     tooHuge,
		"sha256-size all": {{Bin: bin.New(9, 0), Hash: make([]byte, 32)}},
	} {
		d, err := New(seeder.Root(), SHA1, 1024)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.SetPeaks(peaks); !errors.Is(err, ErrRootMismatch) {
			t.Errorf("%s: %v", name, err)
		}
		if d.Known() || d.NumChunks() != 0 {
			t.Errorf("%s: tree became known", name)
		}
	}

	// Once known, only the same peaks are accepted.
	d := downloader(t, seeder)
	if err := d.SetPeaks(good); err != nil {
		t.Errorf("same peaks again: %v", err)
	}
	for name, peaks := range map[string][]Node{"flipped": flipped, "976 chunks": other, "none": nil} {
		if err := d.SetPeaks(peaks); !errors.Is(err, ErrRootMismatch) {
			t.Errorf("known tree, %s: %v", name, err)
		}
	}
	if d.NumChunks() != 977 {
		t.Errorf("NumChunks %d", d.NumChunks())
	}
	// The caller's slices are not kept.
	mine := clonePeaks(good)
	d2, _ := New(seeder.Root(), SHA1, 1024)
	if err := d2.SetPeaks(mine); err != nil {
		t.Fatal(err)
	}
	mine[0].Hash[0] ^= 1
	if h, _ := d2.Hash(mine[0].Bin); !bytes.Equal(h, good[0].Hash) {
		t.Error("SetPeaks kept the caller's hash slice")
	}
}

// TestSetPeaksSingleChunk covers the degenerate tree where the root is the
// only leaf.
func TestSetPeaksSingleChunk(t *testing.T) {
	seeder := mustBuild(t, content(10), 1024, SHA1)
	if p := seeder.Peaks(); len(p) != 1 || p[0].Bin != 0 || !bytes.Equal(p[0].Hash, seeder.Root()) {
		t.Fatalf("peaks %v", p)
	}
	d := downloader(t, seeder)
	if d.NodeCount() != 1 {
		t.Errorf("NodeCount %d", d.NodeCount())
	}
	if err := d.VerifyChunk(0, content(10), nil, nil); err != nil {
		t.Error(err)
	}
	if err := d.VerifyChunk(0, content(11), nil, nil); !errors.Is(err, ErrMismatch) {
		t.Errorf("wrong single chunk: %v", err)
	}
}
