package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/nextshare/nextshare/internal/bin"
)

// Store holds the content of one swarm on disk. See the package comment for
// the crash model and the concurrency rules.
type Store struct {
	path      string
	statePath string
	readOnly  bool
	content   *os.File // nil for a read-only Store once mapped
	state     *os.File // nil for a read-only Store

	// Owned by the owner goroutine; nobody else touches them.
	hdr      header   // what the state file header says
	smap     []byte   // state file mapping: the header page until the layout is known
	lay      layout   // zero until the layout is known
	live     []uint64 // live chunk bitmap, in smap
	hashBits []uint64 // hash presence bitmap, in smap
	hashes   []byte   // hash area, in smap
	ckptGen  uint64   // generation of the newest valid checkpoint slot, 0 if none
	dirty    bool     // something changed since the last checkpoint
	finished bool     // Finish ran: content truncated to Size, all chunks checkpointed
	resetErr error    // why Open discarded the old state, or nil

	run      []byte      // consecutive chunks Stage buffered, not yet written
	runFirst uint64      // index of run's first chunk
	runLen   uint64      // number of chunks in run
	writeErr error       // a failed write of run: the store takes no more chunks
	ckpt     *checkpoint // in progress on another goroutine, or nil

	// mu guards the fields below. They are written only by the owner
	// goroutine, with mu held; the owner reads them without mu, every other
	// goroutine with mu.RLock. snap is the exception: Have fills it under
	// mu.Lock from any goroutine.
	mu     sync.RWMutex
	meta   Meta     // NumChunks and Size change with SetLayout/SetSize
	data   []byte   // content mapping, NumChunks*ChunkSize bytes (Size when read-only); nil before the layout
	have   *bin.Set // verified chunks; data holds their bytes
	snap   *bin.Set // copy of have handed out by Have; nil when stale
	closed bool
}

// Open opens or creates the download state for the content at path. If the
// number of chunks is known (Meta.NumChunks, or implied by Meta.Size) the
// content file is created or resized sparse to NumChunks*ChunkSize (to Size
// when that is known) and mapped.
//
// If a state file exists but is corrupt, truncated or describes another
// swarm (different root hash, hash function or chunk size, or a conflicting
// count or size), it is discarded and recreated empty: reset is true, the
// content already on disk is treated as absent, and StateReset says why.
//
// Chunks recorded by the last checkpoint are in Have at once; chunks written
// after it are not trusted until Recover re-verifies them.
func Open(path string, m Meta, o Options) (s *Store, reset bool, err error) {
	want, err := headerFor(m)
	if err != nil {
		return nil, false, fmt.Errorf("store: open %s: %w", path, err)
	}
	statePath := o.StatePath
	if statePath == "" {
		statePath = path + stateSuffix
	}
	s = &Store{path: path, statePath: statePath, have: bin.NewSet(0, 1)}
	defer func() {
		if err != nil {
			s.release()
			s = nil
		}
	}()
	if s.content, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644); err != nil {
		return s, false, fmt.Errorf("store: %w", err)
	}
	if s.state, err = os.OpenFile(statePath, os.O_RDWR|os.O_CREATE, 0o644); err != nil {
		return s, false, fmt.Errorf("store: %w", err)
	}
	if err = lockFile(s.state); err != nil {
		return s, false, fmt.Errorf("store: %w", err)
	}
	if reset, err = s.loadState(&want); err != nil {
		return s, false, fmt.Errorf("store: open %s: %w", path, err)
	}
	return s, reset, nil
}

// OpenComplete opens an existing, complete file for seeding. It is mapped
// read-only, every chunk is present, and no state file is read or written:
// the file is trusted as the content the caller built its Merkle tree from.
// chunkSize 0 means 1024. Zero-byte files are refused: they have no chunks.
// Its Meta has only ChunkSize, NumChunks and Size; Root is the caller's.
func OpenComplete(path string, chunkSize int) (*Store, error) {
	if chunkSize == 0 {
		chunkSize = defaultChunk
	}
	if chunkSize < 1 || chunkSize > maxChunkSize {
		return nil, fmt.Errorf("store: open %s: chunk size %d not in 1..%d", path, chunkSize, maxChunkSize)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer f.Close() // the mapping outlives the descriptor
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("store: open %s: not a regular file (%s)", path, st.Mode().Type())
	}
	size := st.Size()
	if size == 0 {
		return nil, fmt.Errorf("store: open %s: file is empty; a zero-byte file has no chunks to seed", path)
	}
	n := chunksFor(size, chunkSize)
	if n > bin.MaxChunks {
		return nil, fmt.Errorf("store: open %s: %d bytes is %d chunks of %d, more than the limit %d",
			path, size, n, chunkSize, uint64(bin.MaxChunks))
	}
	data, err := mapFile(f, size, false)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	have := bin.NewSet(n, n)
	if _, err := have.AddRange(bin.Range{Start: 0, End: n - 1}); err != nil {
		unmap(data)
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return &Store{
		path:     path,
		readOnly: true,
		finished: true,
		meta:     Meta{ChunkSize: chunkSize, NumChunks: n, Size: size},
		data:     data,
		have:     have,
	}, nil
}

// StateReset returns nil, or, if Open discarded an unusable state file, an
// error wrapping ErrStateReset that says why. Callers log it.
func (s *Store) StateReset() error { return s.resetErr }

// Close checkpoints, unmaps and closes the files. It is idempotent. Slices
// returned by Chunk become invalid: Close must come after every reader has
// stopped using them.
func (s *Store) Close() error {
	if s.closed {
		return nil
	}
	var err error
	if !s.readOnly {
		err = s.Checkpoint()
	}
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return errors.Join(err, s.release())
}

// Abandon unmaps and closes the files without a checkpoint, leaving them as
// a process crash at this moment would; a later Open resumes from them. It is
// for tests of recovery that run in one process, where the state file's lock
// would otherwise refuse the second Open.
func (s *Store) Abandon() error {
	if s.closed {
		return nil
	}
	s.waitCheckpoint()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return s.release()
}

// release unmaps and closes whatever is open, without syncing anything.
func (s *Store) release() error {
	s.mu.Lock()
	data := s.data
	s.data = nil
	s.mu.Unlock()
	var errs []error
	if err := unmap(data); err != nil {
		errs = append(errs, fmt.Errorf("unmap %s: %w", s.path, err))
	}
	if err := unmap(s.smap); err != nil {
		errs = append(errs, fmt.Errorf("unmap %s: %w", s.statePath, err))
	}
	s.smap, s.live, s.hashBits, s.hashes = nil, nil, nil, nil
	for _, f := range []*os.File{s.content, s.state} {
		if f != nil {
			if err := f.Close(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	s.content, s.state = nil, nil
	if len(errs) > 0 {
		return fmt.Errorf("store: close: %w", errors.Join(errs...))
	}
	return nil
}

// syncDirs makes the directory entries of both files durable; done once,
// when the state file is created.
func (s *Store) syncDirs() error {
	a, b := filepath.Dir(s.path), filepath.Dir(s.statePath)
	if err := syncDir(a); err != nil {
		return err
	}
	if b != a {
		return syncDir(b)
	}
	return nil
}
