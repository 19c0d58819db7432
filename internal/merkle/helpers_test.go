package merkle

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nextshare/nextshare/internal/bin"
)

// interopDir holds the libswift vectors, relative to this package.
var interopDir = filepath.Join("..", "..", "..", "shared", "interop")

// content returns size bytes of the interop content rule:
// byte[i] = (i*7+3) % 251.
func content(size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte((i*7 + 3) % 251)
	}
	return b
}

// contentReader is an io.ReaderAt over the content rule that stores
// nothing, for large benchmark trees.
type contentReader struct{ size int64 }

func (r contentReader) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for ; n < len(p) && off+int64(n) < r.size; n++ {
		p[n] = byte(((off+int64(n))*7 + 3) % 251)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// readTSV returns the rows of a vector file (header dropped), skipping the
// test if the shared vectors are absent.
func readTSV(t *testing.T, name string) [][]string {
	t.Helper()
	if _, err := os.Stat(interopDir); err != nil {
		t.Skipf("interop vectors not available: %v", err)
	}
	f, err := os.Open(filepath.Join(interopDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][]string
	sc := bufio.NewScanner(f)
	for first := true; sc.Scan(); first = false {
		if first || strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		rows = append(rows, strings.Split(sc.Text(), "\t"))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatalf("%s: no rows", name)
	}
	return rows
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// mustBuild builds a tree over data or fails the test.
func mustBuild(t testing.TB, data []byte, chunkSize int, f Func) *Tree {
	t.Helper()
	tr, err := Build(bytes.NewReader(data), int64(len(data)), chunkSize, f)
	if err != nil {
		t.Fatalf("Build(%d bytes, chunk %d, %v): %v", len(data), chunkSize, f, err)
	}
	return tr
}

// downloader returns a tree that knows only seeder's root, with the peaks
// set.
func downloader(t testing.TB, seeder *Tree) *Tree {
	t.Helper()
	d, err := New(seeder.Root(), seeder.Func(), seeder.ChunkSize())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SetPeaks(seeder.Peaks()); err != nil {
		t.Fatal(err)
	}
	return d
}

// chunkOf returns chunk c of data.
func chunkOf(data []byte, chunkSize int, c uint64) []byte {
	s := int(c) * chunkSize
	return data[s:min(s+chunkSize, len(data))]
}

// refTree computes every node of the tree over data the slow, obvious way:
// recursively from the definition, with hash.Hash rather than the package's
// own helpers. Empty subtrees are absent from the map.
func refTree(f Func, data []byte, chunkSize int) (map[bin.Bin][]byte, bin.Bin) {
	n := uint64((len(data) + chunkSize - 1) / chunkSize)
	w := uint64(1)
	for w < n {
		w *= 2
	}
	root := bin.Bin(w - 1)
	nodes := map[bin.Bin][]byte{}
	var rec func(b bin.Bin) []byte
	rec = func(b bin.Bin) []byte {
		if b.FirstChunk() >= n {
			return make([]byte, f.Size())
		}
		h := f.New()
		if b.Layer() == 0 {
			h.Write(chunkOf(data, chunkSize, b.FirstChunk()))
		} else {
			h.Write(rec(b.Left()))
			h.Write(rec(b.Right()))
		}
		nodes[b] = h.Sum(nil)
		return nodes[b]
	}
	rec(root)
	return nodes, root
}
