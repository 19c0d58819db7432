package merkle

import (
	"bytes"
	"encoding/hex"
	"strconv"
	"testing"

	"github.com/nextshare/nextshare/internal/bin"
)

// libswift root hashes (shared/interop/roothashes.tsv), embedded so this
// check runs without the shared vectors. SHA-1, 1024-byte chunks, content
// byte[i] = (i*7+3) % 251.
var libswiftRoots = []struct {
	size int
	root string
}{
	{1, "9842926af7ca0a8cca12604f945414f07b01e13d"},
	{1023, "e99936bc62fc715c63a4df583bbfc32da9cae09b"},
	{1024, "af833554c0d661e22deec750cd3cf475eac0b3db"},
	{1025, "2097c2a82129eba947e2f971f34ec5dbed4b0528"},
	{4097, "7b72db4d084873f536c5972c0276f45fae2dd3fc"},
	{1000000, "59ec280016e00b7e6e4a2a0976d9d7023f11b317"},
}

func TestRootHashesEmbedded(t *testing.T) {
	for _, v := range libswiftRoots {
		tr := mustBuild(t, content(v.size), 1024, SHA1)
		if got := hex.EncodeToString(tr.Root()); got != v.root {
			t.Errorf("size %d: root %s, want %s", v.size, got, v.root)
		}
	}
}

func TestRootHashesTSV(t *testing.T) {
	for _, row := range readTSV(t, "roothashes.tsv") {
		size, err := strconv.Atoi(row[0])
		if err != nil || row[2] != "1024" || row[3] != "SHA-1" {
			t.Fatalf("unexpected row %q", row)
		}
		tr := mustBuild(t, content(size), 1024, SHA1)
		if got := hex.EncodeToString(tr.Root()); got != row[4] {
			t.Errorf("size %d: root %s, want %s", size, got, row[4])
		}
	}
}

// TestPeaksTSV checks that Build produces libswift's peaks and that a
// downloader knowing only the root accepts them from the vector file.
func TestPeaksTSV(t *testing.T) {
	bySize := map[int][]Node{}
	var sizes []int
	for _, row := range readTSV(t, "merkle-peaks.tsv") {
		size, _ := strconv.Atoi(row[0])
		start, _ := strconv.ParseUint(row[3], 10, 64)
		end, _ := strconv.ParseUint(row[4], 10, 64)
		b, ok := bin.Range{Start: start, End: end}.IsBin()
		if !ok {
			t.Fatalf("row %q: peak range is not a bin", row)
		}
		if _, seen := bySize[size]; !seen {
			sizes = append(sizes, size)
		}
		bySize[size] = append(bySize[size], Node{Bin: b, Hash: unhex(t, row[5])})
	}
	for _, size := range sizes {
		want := bySize[size]
		seeder := mustBuild(t, content(size), 1024, SHA1)
		got := seeder.Peaks()
		if len(got) != len(want) {
			t.Fatalf("size %d: %d peaks, want %d", size, len(got), len(want))
		}
		for i := range want {
			if got[i].Bin != want[i].Bin || !bytes.Equal(got[i].Hash, want[i].Hash) {
				t.Errorf("size %d peak %d: %v %x, want %v %x", size, i, got[i].Bin, got[i].Hash, want[i].Bin, want[i].Hash)
			}
		}

		d, err := New(seeder.Root(), SHA1, 1024)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.SetPeaks(want); err != nil {
			t.Fatalf("size %d: SetPeaks(libswift peaks): %v", size, err)
		}
		if wantN := uint64((size + 1023) / 1024); d.NumChunks() != wantN {
			t.Errorf("size %d: NumChunks %d, want %d", size, d.NumChunks(), wantN)
		}
		if err := d.SetPeaks(want); err != nil {
			t.Errorf("size %d: SetPeaks again: %v", size, err)
		}
	}
}

// TestNodes4097 checks every node of the padded 8-leaf tree of the 4097-byte
// file, in a seeder's tree and, above the peaks, in a downloader's.
func TestNodes4097(t *testing.T) {
	rows := readTSV(t, "merkle-4097-nodes.tsv")
	seeder := mustBuild(t, content(4097), 1024, SHA1)
	d := downloader(t, seeder)
	if seeder.NodeCount() != uint64(len(rows)) {
		t.Errorf("NodeCount %d, want %d", seeder.NodeCount(), len(rows))
	}
	for _, row := range rows {
		n, _ := strconv.ParseUint(row[0], 10, 64)
		b := bin.Bin(n)
		layer, _ := strconv.Atoi(row[1])
		start, _ := strconv.ParseUint(row[2], 10, 64)
		end, _ := strconv.ParseUint(row[3], 10, 64)
		if b.Layer() != uint(layer) || b.FirstChunk() != start || b.LastChunk() != end {
			t.Fatalf("row %q disagrees with bin numbering: %v", row, b)
		}
		want := unhex(t, row[4])
		if got, ok := seeder.Hash(b); !ok || !bytes.Equal(got, want) {
			t.Errorf("seeder bin %d: %x %v, want %x", n, got, ok, want)
		}
		if i, ok := seeder.BinIndex(b); !ok || i != n {
			t.Errorf("BinIndex(%d) = %d %v", n, i, ok)
		}
		// A downloader with only the peaks knows the peaks, everything
		// above them and the empty subtrees.
		above := !bin.Bin(3).Contains(b) && !bin.Bin(8).Contains(b)
		if above || b == 3 || b == 8 {
			if got, ok := d.Hash(b); !ok || !bytes.Equal(got, want) {
				t.Errorf("downloader bin %d: %x %v, want %x", n, got, ok, want)
			}
		} else if d.Verified(b) {
			t.Errorf("downloader bin %d verified before any chunk", n)
		}
	}
	if _, ok := seeder.BinIndex(15); ok {
		t.Error("BinIndex(15) in an 8-leaf tree")
	}
}

// TestUncleOrder4097 checks the uncles for chunk 0 against what libswift
// sent in vod-4097 after the peaks: [2..3] then [1..1], top-down, and no
// hash for the padded [4..7].
func TestUncleOrder4097(t *testing.T) {
	seeder := mustBuild(t, content(4097), 1024, SHA1)
	peaks := func(b bin.Bin) bool { return b == 3 || b == 8 }
	got := seeder.Uncles(nil, 0, peaks)
	if len(got) != 2 || got[0].Bin != 5 || got[1].Bin != 2 {
		t.Fatalf("uncles of chunk 0: %v", got)
	}
	if hex.EncodeToString(got[0].Hash) != "0dd6faa73ed8153598cb3bb30b3df9cf9ab2b438" ||
		hex.EncodeToString(got[1].Hash) != "15971f3fcabafe8867e5ccaa8b15cf33eae6fa7c" {
		t.Errorf("uncle hashes %x %x", got[0].Hash, got[1].Hash)
	}
	if u := seeder.Uncles(nil, 4, peaks); len(u) != 0 {
		t.Errorf("chunk 4 is a peak, yet uncles %v", u)
	}
	// Chunk 2 once the peer has chunks 0 and 1 (so knows bin 1): only [3..3].
	known := func(b bin.Bin) bool { return peaks(b) || bin.Bin(1).Contains(b) || b == 5 }
	if u := seeder.Uncles(nil, 2, known); len(u) != 1 || u[0].Bin != 6 {
		t.Errorf("uncles of chunk 2: %v", u)
	}
}
