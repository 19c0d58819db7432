package ppspp

import (
	"errors"
	"fmt"

	"github.com/nextshare/nextshare/internal/bin"
	"github.com/nextshare/nextshare/internal/merkle"
	"github.com/nextshare/nextshare/internal/store"
)

// Content is a swarm's data: its Merkle tree and its storage. For a seeder
// both are complete; for a downloader they fill in as chunks verify.
type Content struct {
	Tree  *merkle.Tree
	Store *store.Store
}

// SeedFile hashes a complete file and opens it read-only for seeding.
func SeedFile(path string, f merkle.Func, chunkSize int) (*Content, error) {
	st, err := store.OpenComplete(path, chunkSize)
	if err != nil {
		return nil, err
	}
	size := st.Meta().Size
	t, err := merkle.Build(st, size, chunkSize, f)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("hash %s: %w", path, err)
	}
	return &Content{Tree: t, Store: st}, nil
}

// OpenDownload opens or resumes the download of the swarm with the given
// root hash into path. Hashes and chunks persisted by an earlier run are
// re-verified against the root before they are trusted.
func OpenDownload(path string, root []byte, f merkle.Func, chunkSize int) (*Content, error) {
	if len(root) != f.Size() {
		return nil, fmt.Errorf("root hash has %d bytes, %v needs %d", len(root), f, f.Size())
	}
	st, _, err := store.Open(path, store.Meta{
		Root: root, HashFunc: uint8(f), HashSize: f.Size(), ChunkSize: chunkSize, Size: -1,
	}, store.Options{})
	if err != nil {
		return nil, err
	}
	t, err := merkle.New(root, f, chunkSize)
	if err != nil {
		st.Close()
		return nil, err
	}
	c := &Content{Tree: t, Store: st}
	if n := st.Meta().NumChunks; n > 0 {
		if err := c.restore(n); err != nil {
			st.Close()
			return nil, err
		}
	}
	return c, nil
}

// restore rebuilds the verified part of the tree from persisted node hashes
// and re-checks chunks that were written after the last checkpoint.
func (c *Content) restore(n uint64) error {
	var nodes []merkle.Node
	c.Store.Hashes(func(b uint64, h []byte) {
		nodes = append(nodes, merkle.Node{Bin: bin.Bin(b), Hash: append([]byte(nil), h...)})
	})
	byBin := make(map[bin.Bin][]byte, len(nodes))
	for _, nd := range nodes {
		byBin[nd.Bin] = nd.Hash
	}
	var peaks []merkle.Node
	for _, p := range bin.Peaks(n) {
		h, ok := byBin[p]
		if !ok {
			// Peaks are persisted first; without them nothing can be trusted.
			return c.resetState()
		}
		peaks = append(peaks, merkle.Node{Bin: p, Hash: h})
	}
	if err := c.Tree.SetPeaks(peaks); err != nil {
		return c.resetState()
	}
	c.Tree.Restore(nodes)
	if sz := c.Store.Meta().Size; sz > 0 {
		c.Tree.SetSize(sz)
	}
	c.Store.Recover(func(i uint64, data []byte) bool {
		return c.Tree.VerifyChunk(i, data, nil, nil) == nil
	})
	return nil
}

func (c *Content) resetState() error {
	return errors.New("persisted state does not match the root hash; remove the .nsstate file to start over")
}

// Close checkpoints and closes the storage.
func (c *Content) Close() error { return c.Store.Close() }
