package store

import (
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkWriteChunk measures the hot path of a download: a verified 1 KiB
// chunk copied into a fresh part of the mapping and recorded. It must not
// allocate.
func BenchmarkWriteChunk(b *testing.B) {
	const cs = 1024
	const n = 1 << 17 // 128 MiB sparse per store
	dir := b.TempDir()
	data := testContent(1, cs)
	var s *Store
	stores := 0
	open := func() {
		if s != nil {
			s.Close()
		}
		stores++
		s = mustOpen(b, filepath.Join(dir, fmt.Sprint(stores)), testMeta(n, -1, cs))
	}
	open()
	b.SetBytes(cs)
	b.ReportAllocs()
	b.ResetTimer()
	var i uint64
	for range b.N {
		if i == n {
			b.StopTimer()
			open()
			i = 0
			b.StartTimer()
		}
		if err := s.WriteChunk(i, data); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.StopTimer()
	s.Close()
}

// BenchmarkChunk measures the zero-copy read of a verified chunk.
func BenchmarkChunk(b *testing.B) {
	const cs = 1024
	const n = 4096
	s := mustOpen(b, filepath.Join(b.TempDir(), "c"), testMeta(n, -1, cs))
	defer s.Close()
	data := testContent(1, cs)
	for i := range uint64(n) {
		if err := s.WriteChunk(i, data); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(cs)
	b.ReportAllocs()
	b.ResetTimer()
	var i uint64
	for range b.N {
		if _, err := s.Chunk(i % n); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkReadAt measures 64 KiB reads through io.ReaderAt, as an HTTP
// gateway would do them.
func BenchmarkReadAt(b *testing.B) {
	const cs = 1024
	const n = 4096
	s := mustOpen(b, filepath.Join(b.TempDir(), "c"), testMeta(n, -1, cs))
	defer s.Close()
	data := testContent(1, cs)
	for i := range uint64(n) {
		if err := s.WriteChunk(i, data); err != nil {
			b.Fatal(err)
		}
	}
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	b.ResetTimer()
	var off int64
	for range b.N {
		if _, err := s.ReadAt(buf, off); err != nil {
			b.Fatal(err)
		}
		off = (off + int64(len(buf))) % (n*cs - int64(len(buf)))
	}
}
