package merkle

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/nextshare/nextshare/internal/bin"
)

func TestFunc(t *testing.T) {
	for f, want := range map[Func]struct {
		size int
		name string
	}{
		SHA1: {20, "SHA-1"}, SHA224: {28, "SHA-224"}, SHA256: {32, "SHA-256"},
		SHA384: {48, "SHA-384"}, SHA512: {64, "SHA-512"}, 5: {0, "Func(5)"}, 255: {0, "Func(255)"},
	} {
		if f.Size() != want.size || f.String() != want.name || f.Valid() != (want.size != 0) {
			t.Errorf("%d: Size %d String %q Valid %v", f, f.Size(), f.String(), f.Valid())
		}
		if want.size == 0 {
			if f.New() != nil || len(LeafHash(f, nil, []byte("x"))) != 0 {
				t.Errorf("%v: New or LeafHash work for an invalid function", f)
			}
			continue
		}
		h := f.New()
		h.Write([]byte("chunk"))
		if got := LeafHash(f, []byte{9}, []byte("chunk")); !bytes.Equal(got, append([]byte{9}, h.Sum(nil)...)) {
			t.Errorf("%v: LeafHash %x", f, got)
		}
	}
}

// checkAgainstRef compares every node of a built tree with the reference.
func checkAgainstRef(t *testing.T, data []byte, chunkSize int, f Func) {
	t.Helper()
	tr := mustBuild(t, data, chunkSize, f)
	ref, root := refTree(f, data, chunkSize)
	if tr.NodeCount() != uint64(root)*2+1 {
		t.Fatalf("size %d chunk %d: NodeCount %d, want %d", len(data), chunkSize, tr.NodeCount(), uint64(root)*2+1)
	}
	zero := make([]byte, f.Size())
	for b := bin.Bin(0); uint64(b) < tr.NodeCount(); b++ {
		want, ok := ref[b]
		if !ok {
			want = zero
		}
		if got, ok := tr.Hash(b); !ok || !bytes.Equal(got, want) {
			t.Fatalf("size %d chunk %d %v: %v = %x %v, want %x", len(data), chunkSize, f, b, got, ok, want)
		}
	}
	if !bytes.Equal(tr.Root(), ref[root]) || tr.Size() != int64(len(data)) ||
		tr.NumChunks() != uint64((len(data)+chunkSize-1)/chunkSize) || !tr.Known() {
		t.Fatalf("size %d chunk %d: root %x size %d chunks %d", len(data), chunkSize, tr.Root(), tr.Size(), tr.NumChunks())
	}
	if _, ok := tr.Hash(bin.Bin(tr.NodeCount())); ok {
		t.Fatalf("size %d: Hash beyond the tree", len(data))
	}
}

func TestBuildMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 5000)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	sizes := []int{1, 2, 3, 1023, 1024, 1025, 2047, 2048, 2049, 4096, 4097, 5000}
	for range 60 {
		sizes = append(sizes, 1+rng.IntN(5000))
	}
	for _, cs := range []int{1024, 1, 3, 64, 1000, 4096, 8192} {
		for _, size := range sizes {
			checkAgainstRef(t, data[:size], cs, SHA1)
		}
	}
	for _, f := range []Func{SHA224, SHA256, SHA384, SHA512} {
		for _, size := range sizes[:20] {
			checkAgainstRef(t, data[:size], 100, f)
		}
	}
}

// TestBuildManyBlocks covers contents larger than one read block, where
// goroutines share the work and the top of the tree is finished after.
func TestBuildManyBlocks(t *testing.T) {
	big := content(7<<20 + 123)
	for _, c := range []struct{ size, chunk int }{
		{1<<20 + 1, 1024},
		{3<<20 + 17, 1024},
		{5 << 20, 4096},
		{7<<20 + 123, 3 << 19}, // chunk larger than a read block
		{2<<20 + 5, 1 << 20},
	} {
		checkAgainstRef(t, big[:c.size], c.chunk, SHA1)
	}
}

type failingReader struct {
	r       io.ReaderAt
	failAt  int64
	failErr error
}

func (f failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off <= f.failAt && f.failAt < off+int64(len(p)) {
		return 0, f.failErr
	}
	return f.r.ReadAt(p, off)
}

func TestBuildErrors(t *testing.T) {
	data := content(3 << 20)
	r := bytes.NewReader(data)
	for _, c := range []struct {
		size  int64
		chunk int
		f     Func
	}{{0, 1024, SHA1}, {-1, 1024, SHA1}, {10, 0, SHA1}, {10, -5, SHA1}, {10, 1024, 9}} {
		if _, err := Build(r, c.size, c.chunk, c.f); err == nil {
			t.Errorf("Build(size %d, chunk %d, %v) accepted", c.size, c.chunk, c.f)
		}
	}
	// Content shorter than claimed.
	if _, err := Build(r, int64(len(data))+1, 1024, SHA1); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short content: %v", err)
	}
	// A read error in a later block.
	boom := errors.New("disk on fire")
	if _, err := Build(failingReader{r, 2<<20 + 5, boom}, int64(len(data)), 1024, SHA1); !errors.Is(err, boom) {
		t.Errorf("read error: %v", err)
	}
	// Too many chunks for a bitmap of bin.MaxChunks.
	if _, err := Build(r, bin.MaxChunks+1, 1, SHA1); err == nil {
		t.Error("Build accepted more than bin.MaxChunks chunks")
	}
}

func TestNewErrors(t *testing.T) {
	root := make([]byte, 20)
	for _, c := range []struct {
		root  []byte
		f     Func
		chunk int
	}{{root, 7, 1024}, {root[:19], SHA1, 1024}, {root, SHA256, 1024}, {root, SHA1, 0}} {
		if _, err := New(c.root, c.f, c.chunk); err == nil {
			t.Errorf("New(%d-byte root, %v, %d) accepted", len(c.root), c.f, c.chunk)
		}
	}
	d, err := New(root, SHA1, 1024)
	if err != nil {
		t.Fatal(err)
	}
	root[0] = 1
	if d.Root()[0] != 0 {
		t.Error("New kept the caller's root slice")
	}
	if d.Known() || d.NumChunks() != 0 || d.Size() != -1 || d.Peaks() != nil || d.NodeCount() != 0 ||
		d.Func() != SHA1 || d.ChunkSize() != 1024 {
		t.Error("unknown tree reports a size")
	}
	if _, ok := d.Hash(0); ok {
		t.Error("unknown tree has a verified hash")
	}
	if err := d.SetSize(5); !errors.Is(err, ErrUnknownSize) {
		t.Errorf("SetSize before peaks: %v", err)
	}
}

func TestSetSize(t *testing.T) {
	data := content(4097)
	d := downloader(t, mustBuild(t, data, 1024, SHA1))
	for _, bad := range []int64{0, -1, 4096, 5121, 1 << 40} {
		if err := d.SetSize(bad); err == nil {
			t.Errorf("SetSize(%d) accepted for 5 chunks", bad)
		}
	}
	if err := d.SetSize(4100); err != nil {
		t.Fatal(err)
	}
	if d.Size() != 4100 {
		t.Errorf("Size %d", d.Size())
	}
	if err := d.SetSize(4097); err == nil {
		t.Error("SetSize changed a known size")
	}
	if err := d.SetSize(4100); err != nil {
		t.Errorf("SetSize same size again: %v", err)
	}
}
