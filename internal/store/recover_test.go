package store

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/nextshare/nextshare/internal/bin"
)

// writeChunks writes chunks [from, to) of content.
func writeChunks(t *testing.T, s *Store, content []byte, from, to uint64) {
	t.Helper()
	cs := s.Meta().ChunkSize
	for i := from; i < to; i++ {
		if err := s.WriteChunk(i, chunkOf(content, i, cs)); err != nil {
			t.Fatal(err)
		}
	}
}

// Chunks written after the last checkpoint come back only through Recover,
// and only if they verify.
func TestRecoverAfterCrash(t *testing.T) {
	const cs = 1024
	const n = 100
	content := testContent(11, n*cs-1)
	path := tempPath(t, "c")
	m := testMeta(0, int64(len(content)), cs)

	s := mustOpen(t, path, m)
	writeChunks(t, s, content, 0, 40)
	if err := s.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	writeChunks(t, s, content, 40, n)
	crash(s)

	// Damage one chunk that only the live bitmap records.
	const bad = 70
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("garbage"), bad*cs+5); err != nil {
		t.Fatal(err)
	}
	f.Close()

	s = mustOpen(t, path, m)
	defer s.Close()
	if got := s.Have(); got.Count() != 40 || !got.HasRange(bin.Range{Start: 0, End: 39}) {
		t.Fatalf("before Recover Have has %d chunks, want the 40 checkpointed", got.Count())
	}
	if _, err := s.Chunk(50); !errors.Is(err, ErrNotPresent) {
		t.Fatalf("unverified chunk 50 exposed before Recover: %v", err)
	}
	asked := bin.NewSet(0, 0)
	r, d := s.Recover(verifier(content, cs, asked))
	if r != n-40-1 || d != 1 {
		t.Fatalf("Recover = %d recovered, %d dropped; want %d, 1", r, d, n-40-1)
	}
	if asked.Count() != n-40 || asked.Has(0) {
		t.Fatalf("verify was asked about %d chunks, want exactly the %d after the checkpoint", asked.Count(), n-40)
	}
	if _, err := s.Chunk(bad); !errors.Is(err, ErrNotPresent) {
		t.Fatalf("chunk %d failed verification but Chunk says %v", bad, err)
	}
	checkExposed(t, s, content)
	if r, d := s.Recover(verifier(content, cs, nil)); r != 0 || d != 0 {
		t.Fatalf("second Recover = %d, %d; want 0, 0", r, d)
	}
	if err := s.WriteChunk(bad, chunkOf(content, bad, cs)); err != nil {
		t.Fatal(err)
	}
	if !s.Complete() {
		t.Fatal("not complete after rewriting the dropped chunk")
	}
}

// A last chunk whose size update was lost cannot be checked, so it is
// dropped rather than trusted.
func TestRecoverLastChunkWithoutSize(t *testing.T) {
	const cs = 1024
	content := testContent(12, 3*cs-10)
	path := tempPath(t, "c")
	m := testMeta(3, -1, cs)
	s := mustOpen(t, path, m)
	writeChunks(t, s, content, 0, 3)
	// Forget the size in the header, as a power loss could.
	s.hdr.size = -1
	s.hdr.put(s.smap[:headerLen])
	crash(s)
	if err := os.Truncate(path, 3*cs); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, path, m)
	defer s.Close()
	r, d := s.Recover(verifier(content, cs, nil))
	if r != 2 || d != 1 || s.Have().Has(2) {
		t.Fatalf("Recover = %d, %d, last chunk present %v; want 2, 1, false", r, d, s.Have().Has(2))
	}
}

// slotOffsets returns where the two checkpoint slots of an n-chunk layout
// are.
func slotOffsets(n uint64) [2]int64 { return newLayout(n, len(testRoot)).slots }

func corrupt(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x5a
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// A torn newest checkpoint slot falls back to the older one; with both
// gone, everything goes through Recover.
func TestCheckpointSlotFallback(t *testing.T) {
	const cs = 1024
	const n = 64
	content := testContent(13, n*cs)
	m := testMeta(n, -1, cs)
	for _, tc := range []struct {
		name    string
		damage  []int // slot indices to damage
		trusted uint64
	}{
		{"newest torn", []int{0}, 20},
		{"older torn", []int{1}, 40},
		{"both torn", []int{0, 1}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tempPath(t, "c")
			s := mustOpen(t, path, m)
			writeChunks(t, s, content, 0, 20)
			if err := s.Checkpoint(); err != nil { // generation 1, slot 1
				t.Fatal(err)
			}
			writeChunks(t, s, content, 20, 40)
			if err := s.Checkpoint(); err != nil { // generation 2, slot 0
				t.Fatal(err)
			}
			writeChunks(t, s, content, 40, n)
			crash(s)
			for _, k := range tc.damage {
				corrupt(t, path+stateSuffix, slotOffsets(n)[k]+slotFixed+2)
			}
			s = mustOpen(t, path, m)
			defer s.Close()
			if got := s.Have(); got.Count() != tc.trusted {
				t.Fatalf("Have has %d chunks, want %d trusted", got.Count(), tc.trusted)
			}
			checkExposed(t, s, content)
			r, d := s.Recover(verifier(content, cs, nil))
			if uint64(r) != n-tc.trusted || d != 0 || !s.Complete() {
				t.Fatalf("Recover = %d, %d; want %d, 0 and a complete download", r, d, n-tc.trusted)
			}
			// The next checkpoints must not overwrite the surviving slot
			// before a newer one exists.
			if err := s.Checkpoint(); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s2 := mustOpen(t, path, m)
			defer s2.Close()
			if !s2.Complete() {
				t.Fatal("not complete after reopening a checkpointed complete download")
			}
		})
	}
}

// Open never panics on a bad state file: it starts over and says why.
func TestStateReset(t *testing.T) {
	const cs = 1024
	const n = 16
	content := testContent(14, n*cs)
	m := testMeta(n, -1, cs)
	good := func(t *testing.T) string {
		path := tempPath(t, "c")
		s := mustOpen(t, path, m)
		writeChunks(t, s, content, 0, n)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		return path
	}
	other := testMeta(n, -1, cs)
	other.Root = make([]byte, len(testRoot))
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, statePath string)
		meta   Meta
		why    string
	}{
		{"garbage", func(t *testing.T, p string) {
			if err := os.WriteFile(p, testContent(1, 10000), 0o644); err != nil {
				t.Fatal(err)
			}
		}, m, "magic"},
		{"short", func(t *testing.T, p string) {
			if err := os.WriteFile(p, []byte("NSS"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, m, "shorter"},
		{"header bit flip", func(t *testing.T, p string) { corrupt(t, p, 20) }, m, "checksum"},
		{"truncated", func(t *testing.T, p string) {
			if err := os.Truncate(p, 5000); err != nil {
				t.Fatal(err)
			}
		}, m, "layout"},
		{"other root", func(*testing.T, string) {}, other, "root hash"},
		{"other chunk size", func(*testing.T, string) {}, testMeta(0, -1, 512), "chunk size"},
		{"other count", func(*testing.T, string) {}, testMeta(n+1, -1, cs), "chunks recorded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := good(t)
			tc.damage(t, path+stateSuffix)
			s, reset, err := Open(path, tc.meta, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			why := s.StateReset()
			if !reset || !errors.Is(why, ErrStateReset) || !strings.Contains(why.Error(), tc.why) {
				t.Fatalf("reset=%v StateReset()=%v; want true and a reason mentioning %q", reset, why, tc.why)
			}
			if s.Have().Count() != 0 {
				t.Fatalf("reset state still has %d chunks", s.Have().Count())
			}
			if r, d := s.Recover(verifier(content, cs, nil)); r != 0 || d != 0 {
				t.Fatalf("Recover after reset = %d, %d", r, d)
			}
			// Usable again.
			if s.Meta().NumChunks == n {
				writeChunks(t, s, content, 0, 2)
				checkExposed(t, s, content)
			}
		})
	}
}

// A state file whose header page never reached the disk is not a reset.
func TestZeroHeaderIsFresh(t *testing.T) {
	path := tempPath(t, "c")
	if err := os.WriteFile(path+stateSuffix, make([]byte, areaAlign), 0o644); err != nil {
		t.Fatal(err)
	}
	s := mustOpen(t, path, testMeta(3, -1, 1024))
	s.Close()
}

// Chunks beyond the end of a content file someone truncated are gone.
func TestContentTruncatedExternally(t *testing.T) {
	const cs = 1024
	const n = 10
	content := testContent(15, n*cs-100)
	path := tempPath(t, "c")
	m := testMeta(0, int64(len(content)), cs)
	s := mustOpen(t, path, m)
	writeChunks(t, s, content, 0, n)
	if err := s.Finish(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 4*cs+10); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, path, m)
	defer s.Close()
	if got := s.Have(); got.Count() != 4 || !got.HasRange(bin.Range{Start: 0, End: 3}) {
		t.Fatalf("Have has %d chunks after truncation to 4 chunks + 10 bytes, want 0..3", got.Count())
	}
	if r, d := s.Recover(verifier(content, cs, nil)); r != 0 || d != 0 {
		t.Fatalf("Recover = %d, %d; want 0, 0", r, d)
	}
	checkExposed(t, s, content)
	writeChunks(t, s, content, 4, n)
	if err := s.Finish(); err != nil {
		t.Fatal(err)
	}
}
