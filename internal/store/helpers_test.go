package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/nextshare/nextshare/internal/bin"
)

// testRoot is the root hash used by tests that do not care which it is.
var testRoot = sha256.Sum256([]byte("store test root"))

func testMeta(numChunks uint64, size int64, chunkSize int) Meta {
	return Meta{
		Root:      testRoot[:],
		HashFunc:  0, // SHA-1 in RFC 7574 §7.6; the store does not care
		HashSize:  len(testRoot),
		ChunkSize: chunkSize,
		NumChunks: numChunks,
		Size:      size,
	}
}

// testContent returns size deterministic pseudo-random bytes.
func testContent(seed uint64, size int) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	b := make([]byte, size)
	rand.NewChaCha8(key).Read(b)
	return b
}

// chunkOf returns chunk i of content cut into chunks of cs bytes.
func chunkOf(content []byte, i uint64, cs int) []byte {
	start := int(i) * cs
	end := min(start+cs, len(content))
	return content[start:end]
}

func numChunksOf(size, cs int) uint64 { return uint64((size + cs - 1) / cs) }

func mustOpen(t testing.TB, path string, m Meta) *Store {
	t.Helper()
	s, reset, err := Open(path, m, Options{})
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	if reset {
		t.Fatalf("Open(%s): unexpected reset: %v", path, s.StateReset())
	}
	return s
}

func tempPath(t testing.TB, name string) string {
	return filepath.Join(t.TempDir(), name)
}

// crash drops the Store the way kill -9 would: no checkpoint, no sync; the
// page cache keeps what was stored. The Store must not be used afterwards.
func crash(s *Store) {
	s.release()
}

// verifier returns a Recover callback that accepts chunk i only if it
// equals chunk i of content, and records what it was asked.
func verifier(content []byte, cs int, asked *bin.Set) func(uint64, []byte) bool {
	return func(i uint64, data []byte) bool {
		if asked != nil {
			asked.Add(i)
		}
		return bytes.Equal(data, chunkOf(content, i, cs))
	}
}

func setsEqual(a, b *bin.Set) bool {
	if a.Count() != b.Count() {
		return false
	}
	equal := true
	a.Ranges(func(r bin.Range) bool {
		equal = b.HasRange(r)
		return equal
	})
	return equal
}

// checkExposed checks that every chunk the store calls present holds the
// right bytes, through Chunk and ReadAt.
func checkExposed(t *testing.T, s *Store, content []byte) {
	t.Helper()
	cs := s.Meta().ChunkSize
	have := s.Have()
	for i, ok := have.NextPresent(0); ok; i, ok = have.NextPresent(i + 1) {
		got, err := s.Chunk(i)
		if err != nil {
			t.Fatalf("Chunk(%d) of a present chunk: %v", i, err)
		}
		if !bytes.Equal(got, chunkOf(content, i, cs)) {
			t.Fatalf("Chunk(%d) exposes wrong bytes", i)
		}
	}
}
