package merkle

import (
	"errors"
	"fmt"
	"io"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/nextshare/nextshare/internal/bin"
)

// buildReadSize is the target size of one ReadAt during Build: large reads
// keep the disk streaming while the hashing runs in parallel.
const buildReadSize = 1 << 20

// Build hashes size bytes of content read from r into a complete, fully
// verified tree: a seeder's tree. Leaves are hashed in parallel on
// runtime.GOMAXPROCS goroutines, each reading blocks of about 1 MiB that
// cover an aligned subtree, so each goroutine also computes the inner nodes
// of its blocks; the few nodes above the blocks are computed at the end.
func Build(r io.ReaderAt, size int64, chunkSize int, f Func) (*Tree, error) {
	if !f.Valid() {
		return nil, fmt.Errorf("merkle: build: invalid hash function %v", f)
	}
	if chunkSize <= 0 {
		return nil, fmt.Errorf("merkle: build: invalid chunk size %d", chunkSize)
	}
	if size <= 0 {
		return nil, fmt.Errorf("merkle: build: invalid content size %d", size)
	}
	n := chunksFor(size, chunkSize)
	if n > bin.MaxChunks {
		return nil, fmt.Errorf("merkle: build: %d bytes is %d chunks, more than %d", size, n, uint64(bin.MaxChunks))
	}
	t := &Tree{f: f, hs: f.Size(), chunkSize: chunkSize, size: size}
	t.alloc(n)

	// A block is an aligned subtree of 2^blockLayer chunks, no larger than
	// the padded tree.
	blockLayer := uint(0)
	if per := buildReadSize / chunkSize; per > 1 {
		blockLayer = uint(bits.Len(uint(per))) - 1
	}
	if max := uint(bits.TrailingZeros64(t.w)); blockLayer > max {
		blockLayer = max
	}
	blockChunks := uint64(1) << blockLayer
	blocks := (n + blockChunks - 1) / blockChunks

	workers := runtime.GOMAXPROCS(0)
	if uint64(workers) > blocks {
		workers = int(blocks)
	}
	var (
		next    atomic.Uint64
		wg      sync.WaitGroup
		errOnce sync.Once
		failed  atomic.Bool
		berr    error
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, blockChunks*uint64(chunkSize))
			var pair [2 * maxHashSize]byte
			for !failed.Load() {
				k := next.Add(1) - 1
				if k >= blocks {
					return
				}
				if err := t.buildBlock(r, buf, pair[:], bin.New(blockLayer, k)); err != nil {
					errOnce.Do(func() { berr = err })
					failed.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	if berr != nil {
		return nil, berr
	}

	rootLayer := bin.Root(n).Layer()
	for l := blockLayer + 1; l <= rootLayer; l++ {
		for off := uint64(0); ; off++ {
			b := bin.New(l, off)
			if t.empty(b) {
				break
			}
			hashPair(f, t.slot(b), t.pair[:], t.slot(b.Left()), t.slot(b.Right()))
		}
	}
	for i := range t.verified {
		t.verified[i] = ^uint64(0)
	}
	t.root = append([]byte(nil), t.slot(bin.Root(n))...)
	return t, nil
}

// buildBlock reads the chunks under block, hashes them and computes the
// inner nodes of block. Empty nodes are left zero.
func (t *Tree) buildBlock(r io.ReaderAt, buf, pair []byte, block bin.Bin) error {
	first := block.FirstChunk()
	off := int64(first) * int64(t.chunkSize)
	want := t.size - off
	if want > int64(len(buf)) {
		want = int64(len(buf))
	}
	got, err := r.ReadAt(buf[:want], off)
	if int64(got) < want {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("merkle: build: read %d bytes at offset %d: got %d: %w", want, off, got, err)
	}
	data := buf[:want]
	for c := first; len(data) > 0; c++ {
		m := min(len(data), t.chunkSize)
		LeafHash(t.f, t.slot(bin.Chunk(c))[:0], data[:m])
		data = data[m:]
	}
	for l := uint(1); l <= block.Layer(); l++ {
		width := uint64(1) << (block.Layer() - l)
		base := block.Offset() * width
		for i := uint64(0); i < width; i++ {
			b := bin.New(l, base+i)
			if t.empty(b) {
				break
			}
			hashPair(t.f, t.slot(b), pair, t.slot(b.Left()), t.slot(b.Right()))
		}
	}
	return nil
}
