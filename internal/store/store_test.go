package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/nextshare/nextshare/internal/bin"
)

func TestRoundTrip(t *testing.T) {
	const cs = 1024
	for _, size := range []int{1, 1023, 1024, 1025, 4097, 1_000_000} {
		for _, sizeKnown := range []bool{true, false} {
			t.Run(fmt.Sprintf("size=%d/known=%v", size, sizeKnown), func(t *testing.T) {
				testRoundTrip(t, size, cs, sizeKnown)
			})
		}
	}
}

func testRoundTrip(t *testing.T, size, cs int, sizeKnown bool) {
	content := testContent(uint64(size), size)
	n := numChunksOf(size, cs)
	path := tempPath(t, "content")
	m := testMeta(n, -1, cs)
	if sizeKnown {
		m = testMeta(0, int64(size), cs)
	}
	s := mustOpen(t, path, m)
	defer s.Close()
	if got := s.Meta().NumChunks; got != n {
		t.Fatalf("NumChunks = %d, want %d", got, n)
	}

	// Nothing is readable yet.
	if _, err := s.Chunk(0); !errors.Is(err, ErrNotPresent) {
		t.Fatalf("Chunk(0) before any write: %v, want ErrNotPresent", err)
	}
	if _, err := s.ReadAt(make([]byte, 1), 0); !errors.Is(err, ErrNotPresent) {
		t.Fatalf("ReadAt before any write: %v, want ErrNotPresent", err)
	}

	// Write every chunk but one in the middle (when there is one), in a
	// shuffled order.
	rng := rand.New(rand.NewPCG(uint64(size), 1))
	order := rng.Perm(int(n))
	hole := uint64(n / 2)
	for _, k := range order {
		i := uint64(k)
		if n > 2 && i == hole {
			continue
		}
		if err := s.WriteChunk(i, chunkOf(content, i, cs)); err != nil {
			t.Fatalf("WriteChunk(%d): %v", i, err)
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := s.Meta().Size; got != int64(size) {
		t.Fatalf("Size after writing the last chunk = %d, want %d", got, size)
	}
	last, err := s.Chunk(n - 1)
	if err != nil {
		t.Fatal(err)
	}
	if wantLen := size - int(n-1)*cs; len(last) != wantLen {
		t.Fatalf("last chunk is %d bytes, want %d", len(last), wantLen)
	}
	checkExposed(t, s, content)

	if n > 2 {
		// A read across the hole stops at it and names it.
		off := int64(hole)*int64(cs) - 100
		buf := make([]byte, 300)
		k, err := s.ReadAt(buf, off)
		if !errors.Is(err, ErrNotPresent) || k != 100 {
			t.Fatalf("ReadAt across missing chunk %d: n=%d err=%v, want 100, ErrNotPresent", hole, k, err)
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("chunk %d", hole)) {
			t.Fatalf("error %q does not name chunk %d", err, hole)
		}
		if !bytes.Equal(buf[:k], content[off:off+int64(k)]) {
			t.Fatal("ReadAt before the hole returned wrong bytes")
		}
		if s.Complete() {
			t.Fatal("Complete with a chunk missing")
		}
		if err := s.Finish(); !errors.Is(err, ErrNotPresent) {
			t.Fatalf("Finish with a chunk missing: %v", err)
		}
		if err := s.WriteChunk(hole, chunkOf(content, hole, cs)); err != nil {
			t.Fatal(err)
		}
	}
	if !s.Complete() {
		t.Fatal("not Complete after writing every chunk")
	}

	// Whole-content reads, across chunk boundaries, and past the end.
	got := make([]byte, size+10)
	k, err := s.ReadAt(got, 0)
	if k != size || err != io.EOF || !bytes.Equal(got[:k], content) {
		t.Fatalf("ReadAt(all) = %d, %v; want %d, EOF, same bytes", k, err, size)
	}
	for _, off := range []int{0, 1, cs - 1, cs, cs + 1, size / 2, size - 1} {
		if off >= size {
			continue
		}
		l := min(2*cs+3, size-off)
		buf := make([]byte, l)
		if k, err := s.ReadAt(buf, int64(off)); k != l || err != nil || !bytes.Equal(buf, content[off:off+l]) {
			t.Fatalf("ReadAt(%d bytes at %d) = %d, %v", l, off, k, err)
		}
	}
	if _, err := s.ReadAt(make([]byte, 1), int64(size)); err != io.EOF {
		t.Fatalf("ReadAt at the end: %v, want EOF", err)
	}

	// Writing again is a no-op.
	if err := s.WriteChunk(0, chunkOf(content, 0, cs)); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(onDisk, content) {
		t.Fatalf("content file after Finish: %d bytes (err %v), want the %d content bytes", len(onDisk), err, size)
	}

	// A finished download reopens complete, with nothing to recover.
	s2 := mustOpen(t, path, testMeta(0, -1, cs))
	defer s2.Close()
	if !s2.Complete() || s2.Meta().Size != int64(size) {
		t.Fatalf("reopened finished download: complete=%v size=%d", s2.Complete(), s2.Meta().Size)
	}
	if r, d := s2.Recover(func(uint64, []byte) bool { t.Fatal("verify called for a finished download"); return false }); r != 0 || d != 0 {
		t.Fatalf("Recover on a finished download = %d, %d", r, d)
	}
	checkExposed(t, s2, content)
}

func TestSparse(t *testing.T) {
	const cs = 1024
	const size = 100 << 20
	path := tempPath(t, "big")
	s := mustOpen(t, path, testMeta(0, size, cs))
	defer s.Close()
	content := testContent(7, 3*cs)
	for k, i := range []uint64{0, 50_000, size/cs - 1} {
		if err := s.WriteChunk(i, content[k*cs:(k+1)*cs]); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	if st.Size != size {
		t.Fatalf("content file is %d bytes, want %d", st.Size, size)
	}
	if used := st.Blocks * 512; used > 1<<20 {
		t.Fatalf("content file uses %d bytes on disk for 3 chunks; not sparse", used)
	}
}

func TestResume(t *testing.T) {
	const cs = 1024
	const size = 300*cs + 17
	content := testContent(3, size)
	path := tempPath(t, "content")
	m := testMeta(0, size, cs)
	s := mustOpen(t, path, m)
	for i := uint64(0); i < 301; i += 3 {
		if err := s.WriteChunk(i, chunkOf(content, i, cs)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	before := s.Have().Clone()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Chunk(0); !errors.Is(err, ErrClosed) {
		t.Fatalf("Chunk after Close: %v", err)
	}
	if err := s.WriteChunk(1, chunkOf(content, 1, cs)); !errors.Is(err, ErrClosed) {
		t.Fatalf("WriteChunk after Close: %v", err)
	}

	s = mustOpen(t, path, m)
	defer s.Close()
	if !setsEqual(s.Have(), before) {
		t.Fatalf("Have after reopen has %d chunks, want the %d written", s.Have().Count(), before.Count())
	}
	if r, d := s.Recover(verifier(content, cs, nil)); r != 0 || d != 0 {
		t.Fatalf("Recover after a clean Close = %d recovered, %d dropped; want 0, 0", r, d)
	}
	checkExposed(t, s, content)
	for i := uint64(0); i < 301; i++ {
		if err := s.WriteChunk(i, chunkOf(content, i, cs)); err != nil {
			t.Fatal(err)
		}
	}
	if !s.Complete() {
		t.Fatal("not complete")
	}
}

func TestUnknownLayout(t *testing.T) {
	const cs = 1024
	content := testContent(4, 10*cs-5)
	path := tempPath(t, "content")
	m := testMeta(0, -1, cs)
	s := mustOpen(t, path, m)
	if err := s.WriteChunk(0, content[:cs]); !errors.Is(err, ErrNoLayout) {
		t.Fatalf("WriteChunk before the layout: %v", err)
	}
	if err := s.PutHash(0, testRoot[:]); !errors.Is(err, ErrNoLayout) {
		t.Fatalf("PutHash before the layout: %v", err)
	}
	if _, err := s.ReadAt(make([]byte, 4), 0); err != io.EOF {
		t.Fatalf("ReadAt before the layout: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = mustOpen(t, path, m)
	if s.Meta().NumChunks != 0 {
		t.Fatalf("NumChunks = %d, want unknown", s.Meta().NumChunks)
	}
	if err := s.SetLayout(10); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLayout(10); err != nil {
		t.Fatalf("SetLayout again with the same count: %v", err)
	}
	if err := s.SetLayout(11); !errors.Is(err, ErrConflict) {
		t.Fatalf("SetLayout(11) after SetLayout(10): %v", err)
	}
	if err := s.WriteChunk(10, content[:cs]); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("WriteChunk(10) of 10: %v", err)
	}
	if err := s.WriteChunk(2, content[:cs-1]); err == nil {
		t.Fatal("WriteChunk of a short middle chunk succeeded")
	}
	if err := s.WriteChunk(3, chunkOf(content, 3, cs)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The layout is remembered; a Meta that still does not know it is fine.
	s = mustOpen(t, path, m)
	defer s.Close()
	if got := s.Meta(); got.NumChunks != 10 || got.Size != -1 {
		t.Fatalf("reopened Meta = %d chunks, size %d; want 10, -1", got.NumChunks, got.Size)
	}
	if !s.Have().Has(3) || s.Have().Count() != 1 {
		t.Fatal("chunk 3 lost across reopen")
	}
	if err := s.SetSize(20 * cs); !errors.Is(err, ErrConflict) {
		t.Fatalf("SetSize of 20 chunks on a 10-chunk layout: %v", err)
	}
	if err := s.SetSize(int64(len(content))); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSize(int64(len(content)) + 1); !errors.Is(err, ErrConflict) {
		t.Fatalf("SetSize to another size: %v", err)
	}
	if err := s.WriteChunk(9, content[9*cs:]); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteChunk(9, content[9*cs:len(content)-1]); err != nil {
		t.Fatalf("rewriting a present chunk is a no-op, got %v", err)
	}
}

func TestSetSizeSetsLayout(t *testing.T) {
	s := mustOpen(t, tempPath(t, "c"), testMeta(0, -1, 100))
	defer s.Close()
	if err := s.SetSize(1001); err != nil {
		t.Fatal(err)
	}
	if m := s.Meta(); m.NumChunks != 11 || m.Size != 1001 {
		t.Fatalf("Meta after SetSize(1001) = %d chunks, size %d", m.NumChunks, m.Size)
	}
	if err := s.WriteChunk(10, []byte{1, 2}); err == nil {
		t.Fatal("last chunk of 2 bytes accepted, want 1")
	}
	if err := s.WriteChunk(10, []byte{1}); err != nil {
		t.Fatal(err)
	}
}

func TestMetaValidation(t *testing.T) {
	path := tempPath(t, "c")
	bad := []Meta{
		{Root: testRoot[:], HashSize: 20},
		{Root: make([]byte, 65), HashSize: 65},
		{Root: nil, HashSize: 0},
		testMeta(0, 0, 1024),
		testMeta(0, -2, 1024),
		testMeta(3, 5000, 1024),
		testMeta(0, -1, -1),
		testMeta(0, -1, maxChunkSize+1),
		testMeta(bin.MaxChunks+1, -1, 1024),
	}
	for _, m := range bad {
		if s, _, err := Open(path, m, Options{}); err == nil {
			s.Close()
			t.Errorf("Open with %+v succeeded", m)
		}
	}
}

func TestHashes(t *testing.T) {
	path := tempPath(t, "c")
	m := testMeta(5, -1, 1024) // W = 8 leaves, bins 0..14
	s := mustOpen(t, path, m)
	want := map[uint64][]byte{}
	for _, b := range []uint64{0, 1, 3, 7, 14} {
		h := testContent(b, 32)
		want[b] = h
		if err := s.PutHash(b, h); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutHash(15, make([]byte, 32)); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("PutHash(15) in a tree of bins 0..14: %v", err)
	}
	if err := s.PutHash(2, make([]byte, 20)); err == nil {
		t.Fatal("PutHash with a short hash succeeded")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, path, m)
	defer s.Close()
	got := map[uint64][]byte{}
	s.Hashes(func(b uint64, h []byte) { got[b] = append([]byte(nil), h...) })
	if len(got) != len(want) {
		t.Fatalf("Hashes gave %d hashes, want %d", len(got), len(want))
	}
	for b, h := range want {
		if !bytes.Equal(got[b], h) {
			t.Fatalf("hash of bin %d = %x, want %x", b, got[b], h)
		}
	}
}

func TestOpenComplete(t *testing.T) {
	dir := t.TempDir()
	empty := dir + "/empty"
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenComplete(empty, 1024); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("OpenComplete of a zero-byte file: %v", err)
	}
	if _, err := OpenComplete(dir, 1024); err == nil {
		t.Fatal("OpenComplete of a directory succeeded")
	}

	const size = 5000
	content := testContent(5, size)
	path := dir + "/seed"
	if err := os.WriteFile(path, content, 0o444); err != nil {
		t.Fatal(err)
	}
	s, err := OpenComplete(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	if m := s.Meta(); m.NumChunks != 5 || m.Size != size || m.ChunkSize != 1024 {
		t.Fatalf("Meta = %+v", m)
	}
	if !s.Complete() || s.Have().Count() != 5 {
		t.Fatal("seed is not complete")
	}
	checkExposed(t, s, content)
	if c, _ := s.Chunk(4); len(c) != size-4*1024 {
		t.Fatalf("last chunk is %d bytes", len(c))
	}
	buf := make([]byte, size)
	if n, err := s.ReadAt(buf, 0); n != size || err != nil || !bytes.Equal(buf, content) {
		t.Fatalf("ReadAt = %d, %v", n, err)
	}
	if err := s.WriteChunk(0, content[:1024]); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("WriteChunk on a seed: %v", err)
	}
	if err := s.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + stateSuffix); !os.IsNotExist(err) {
		t.Fatalf("a state file exists next to a seed: %v", err)
	}
}

func TestLocked(t *testing.T) {
	path := tempPath(t, "c")
	s := mustOpen(t, path, testMeta(4, -1, 1024))
	defer s.Close()
	if s2, _, err := Open(path, testMeta(4, -1, 1024), Options{}); err == nil {
		s2.Close()
		t.Fatal("a second Open of a download in use succeeded")
	}
}

func TestStatePathOption(t *testing.T) {
	dir := t.TempDir()
	sp := dir + "/elsewhere.state"
	s, _, err := Open(dir+"/c", testMeta(2, -1, 1024), Options{StatePath: sp})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(sp); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir + "/c" + stateSuffix); !os.IsNotExist(err) {
		t.Fatalf("default state file created despite StatePath: %v", err)
	}
}

// Readers on other goroutines see only verified, correct bytes while the
// owner writes. Run with -race.
func TestConcurrentReaders(t *testing.T) {
	const cs = 1024
	const n = 2000
	content := testContent(9, n*cs-300)
	s := mustOpen(t, tempPath(t, "c"), testMeta(0, int64(len(content)), cs))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errc := make(chan error, 4)
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(r), 0))
			buf := make([]byte, 3*cs)
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := uint64(rng.IntN(n))
				if c, err := s.Chunk(i); err == nil && !bytes.Equal(c, chunkOf(content, i, cs)) {
					errc <- fmt.Errorf("Chunk(%d) exposed wrong bytes", i)
					return
				}
				off := int64(rng.IntN(len(content)))
				k, _ := s.ReadAt(buf, off)
				if !bytes.Equal(buf[:k], content[off:off+int64(k)]) {
					errc <- fmt.Errorf("ReadAt(%d) exposed wrong bytes", off)
					return
				}
				have := s.Have()
				if j, ok := have.NextPresent(i); ok {
					if _, err := s.Chunk(j); err != nil {
						errc <- fmt.Errorf("chunk %d in Have but Chunk says %v", j, err)
						return
					}
				}
			}
		}()
	}
	for _, k := range rand.New(rand.NewPCG(1, 2)).Perm(n) {
		if err := s.WriteChunk(uint64(k), chunkOf(content, uint64(k), cs)); err != nil {
			t.Error(err)
			break
		}
	}
	close(stop)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestZeroAllocs(t *testing.T) {
	const cs = 1024
	s := mustOpen(t, tempPath(t, "c"), testMeta(1000, -1, cs))
	defer s.Close()
	data := testContent(1, cs)
	var i uint64
	if a := testing.AllocsPerRun(500, func() {
		if err := s.WriteChunk(i, data); err != nil {
			t.Fatal(err)
		}
		i++
	}); a != 0 {
		t.Errorf("WriteChunk: %v allocs per call, want 0", a)
	}
	if a := testing.AllocsPerRun(500, func() {
		if _, err := s.Chunk(7); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("Chunk: %v allocs per call, want 0", a)
	}
	buf := make([]byte, 4*cs)
	if a := testing.AllocsPerRun(500, func() {
		if _, err := s.ReadAt(buf, 100); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("ReadAt: %v allocs per call, want 0", a)
	}
}

// A file truncated under the mapping makes reads fail with an error instead
// of killing the process with SIGBUS, and later writes do not crash.
func TestFaultIsError(t *testing.T) {
	const cs = 4096
	path := tempPath(t, "c")
	s := mustOpen(t, path, testMeta(64, -1, cs))
	defer s.Close()
	data := testContent(2, cs)
	if err := s.WriteChunk(40, data); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadAt(make([]byte, 10), 40*cs); err == nil || !strings.Contains(err.Error(), "fault") {
		t.Fatalf("ReadAt of a truncated file: %v, want a fault error", err)
	}
	if err := s.WriteChunk(50, data); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
}

// Staged chunks are present only once flushed; a chunk that does not
// continue the staged run flushes it; a crash loses only what was staged.
func TestStage(t *testing.T) {
	const cs = 1024
	const size = 200 * cs
	content := testContent(9, size)
	path := tempPath(t, "staged")
	m := testMeta(0, size, cs)
	s := mustOpen(t, path, m)
	for i := uint64(0); i < 10; i++ {
		if err := s.Stage(i, chunkOf(content, i, cs)); err != nil {
			t.Fatal(err)
		}
	}
	if s.Have().Count() != 0 {
		t.Fatal("staged chunks present before Flush")
	}
	if _, err := s.Chunk(3); !errors.Is(err, ErrNotPresent) {
		t.Fatalf("Chunk of a staged chunk: %v, want ErrNotPresent", err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if s.Have().Count() != 10 {
		t.Fatalf("after Flush %d chunks present, want 10", s.Have().Count())
	}
	// More than one buffer's worth of consecutive chunks flushes itself.
	for i := uint64(10); i < 10+2*runBytes/cs+1; i++ {
		if err := s.Stage(i, chunkOf(content, i, cs)); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Have().Count(); got != 10+2*runBytes/cs {
		t.Fatalf("%d chunks present after staging two full buffers and one more, want %d", got, 10+2*runBytes/cs)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.Stage(180, chunkOf(content, 180, cs)); err != nil {
		t.Fatal(err)
	}
	if err := s.Stage(190, chunkOf(content, 190, cs)); err != nil {
		t.Fatal(err)
	}
	if !s.Have().Has(180) || s.Have().Has(190) {
		t.Fatal("staging a chunk that does not continue the run did not flush the run (alone)")
	}
	checkExposed(t, s, content)
	want := s.Have().Clone()
	if err := s.Abandon(); err != nil { // crash with chunk 190 staged
		t.Fatal(err)
	}

	s = mustOpen(t, path, m)
	defer s.Close()
	s.Recover(verifier(content, cs, nil))
	if !setsEqual(s.Have(), want) {
		t.Fatalf("after a crash %d chunks present, want the %d flushed", s.Have().Count(), want.Count())
	}
	checkExposed(t, s, content)
}

// Chunks covered by a finished CheckpointAsync are trusted after a crash
// without Recover; later ones wait for Recover.
func TestCheckpointAsync(t *testing.T) {
	const cs = 1024
	const size = 100 * cs
	content := testContent(11, size)
	path := tempPath(t, "async")
	m := testMeta(0, size, cs)
	s := mustOpen(t, path, m)
	for i := uint64(0); i < 40; i++ {
		if err := s.WriteChunk(i, chunkOf(content, i, cs)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CheckpointAsync(); err != nil {
		t.Fatal(err)
	}
	for i := uint64(40); i < 60; i++ {
		if err := s.WriteChunk(i, chunkOf(content, i, cs)); err != nil {
			t.Fatal(err)
		}
	}
	// Returns at once while the first runs, or starts a second one.
	if err := s.CheckpointAsync(); err != nil {
		t.Fatal(err)
	}
	if err := s.waitCheckpoint(); err != nil {
		t.Fatal(err)
	}
	for i := uint64(60); i < 70; i++ {
		if err := s.WriteChunk(i, chunkOf(content, i, cs)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Abandon(); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, path, m)
	defer s.Close()
	if got := s.Have().Count(); got < 40 || got > 60 {
		t.Fatalf("%d chunks trusted from the checkpoints, want 40..60", got)
	}
	if r, d := s.Recover(verifier(content, cs, nil)); d != 0 || s.Have().Count() != 70 {
		t.Fatalf("Recover = %d, %d; %d present, want 70", r, d, s.Have().Count())
	}
	checkExposed(t, s, content)
}
