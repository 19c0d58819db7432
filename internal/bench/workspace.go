package bench

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
)

// sourceName is the random file's name in the work dir.
const sourceName = "source.bin"

// workspace is the work dir of one RunTransfer and the files made in it.
type workspace struct {
	dir     string
	owned   bool     // dir was created here and is removed whole
	created []string // paths to remove when dir is not owned

	src     string   // the random source file
	srcSum  [32]byte // its SHA-256
	srcSize int64
}

// newWorkspace uses dir, or a new temporary directory if dir is empty.
func newWorkspace(dir string) (*workspace, error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "nextshare-bench-")
		if err != nil {
			return nil, fmt.Errorf("bench: make work dir: %w", err)
		}
		return &workspace{dir: d, owned: true}, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("bench: make work dir %s: %w", dir, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("bench: work dir %s: %w", dir, err)
	}
	return &workspace{dir: abs}, nil
}

// path returns name inside the work dir and remembers it for removal.
func (w *workspace) path(name string) string {
	p := filepath.Join(w.dir, name)
	if !slices.Contains(w.created, p) {
		w.created = append(w.created, p)
	}
	return p
}

// cleanup removes what the workspace created. Errors are returned joined
// in one message but every path is tried.
func (w *workspace) cleanup() error {
	if w.owned {
		if err := os.RemoveAll(w.dir); err != nil {
			return fmt.Errorf("bench: remove work dir: %w", err)
		}
		return nil
	}
	var first error
	for _, p := range w.created {
		if err := os.RemoveAll(p); err != nil && first == nil {
			first = fmt.Errorf("bench: remove %s: %w", p, err)
		}
	}
	return first
}

// makeSource writes size random bytes to the source file and records
// their SHA-256. The bytes come from ChaCha8 keyed from crypto/rand: as
// unpredictable as crypto/rand for this purpose and several times faster.
func (w *workspace) makeSource(ctx context.Context, size int64) error {
	var seed [32]byte
	if _, err := rand.Read(seed[:]); err != nil {
		return fmt.Errorf("bench: seed random source: %w", err)
	}
	gen := mrand.NewChaCha8(seed)
	p := w.path(sourceName)
	f, err := os.Create(p)
	if err != nil {
		return fmt.Errorf("bench: create source: %w", err)
	}
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	buf := make([]byte, 1<<20)
	for left := size; left > 0; {
		if err := ctx.Err(); err != nil {
			f.Close()
			return fmt.Errorf("bench: create source: %w", err)
		}
		n := min(left, int64(len(buf)))
		gen.Read(buf[:n]) // never fails
		if _, err := bw.Write(buf[:n]); err != nil {
			f.Close()
			return fmt.Errorf("bench: write source %s: %w", p, err)
		}
		left -= n
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("bench: write source %s: %w", p, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("bench: write source %s: %w", p, err)
	}
	w.src, w.srcSize = p, size
	copy(w.srcSum[:], h.Sum(nil))
	return nil
}

// verify checks that the file at p equals the source byte for byte, by
// size and SHA-256.
func (w *workspace) verify(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("open downloaded file: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return fmt.Errorf("read downloaded file %s: %w", p, err)
	}
	if n != w.srcSize {
		return fmt.Errorf("downloaded file %s has %d bytes, source has %d", p, n, w.srcSize)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	if sum != w.srcSum {
		return fmt.Errorf("downloaded file %s differs from the source: SHA-256 %x, want %x", p, sum, w.srcSum)
	}
	return nil
}
