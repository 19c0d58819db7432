package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/nextshare/nextshare/internal/merkle"
	"github.com/nextshare/nextshare/internal/ppspp"
	"github.com/nextshare/nextshare/internal/uri"
)

// Config configures a node.
type Config struct {
	Conn      net.PacketConn // the socket; see ListenUDP
	Logger    *slog.Logger
	ChunkSize int // default 1024
	NoUpload  bool
}

// Node is a running node.
type Node struct {
	cfg      Config
	Engine   *ppspp.Engine
	contents []*ppspp.Content
}

// New starts a node on cfg.Conn.
func New(cfg Config) (*Node, error) {
	if cfg.ChunkSize <= 0 {
		cfg.ChunkSize = 1024
	}
	e, err := ppspp.New(ppspp.Config{Conn: cfg.Conn, Logger: cfg.Logger, NoUpload: cfg.NoUpload})
	if err != nil {
		return nil, err
	}
	return &Node{cfg: cfg, Engine: e}, nil
}

// Seed hashes a complete file and starts seeding it.
func (n *Node) Seed(path string, f merkle.Func) (*ppspp.Swarm, error) {
	c, err := ppspp.SeedFile(path, f, n.cfg.ChunkSize)
	if err != nil {
		return nil, err
	}
	return n.add(c)
}

// add starts a swarm for c; the node closes c on Close.
func (n *Node) add(c *ppspp.Content) (*ppspp.Swarm, error) {
	s, err := n.Engine.AddSwarm(c)
	if err != nil {
		c.Close()
		return nil, err
	}
	n.contents = append(n.contents, c)
	return s, nil
}

// Get starts (or resumes) downloading u into path and connects to peers.
func (n *Node) Get(u uri.URI, path string, peers []netip.AddrPort) (*ppspp.Swarm, error) {
	c, err := ppspp.OpenDownload(path, u.Root, u.Func, n.cfg.ChunkSize)
	if err != nil {
		return nil, err
	}
	s, err := n.add(c)
	if err != nil {
		return nil, err
	}
	for _, p := range append(append([]netip.AddrPort(nil), u.Peers...), peers...) {
		n.Engine.Connect(s, p)
	}
	return s, nil
}

// Wait blocks until s completes, ctx ends, or no progress is possible.
func Wait(ctx context.Context, s *ppspp.Swarm) error {
	select {
	case <-s.Done():
		return nil
	case <-s.Failed():
		return s.Err()
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("timed out")
		}
		return ctx.Err()
	}
}

// Close stops the engine (sending explicit closes to peers) and closes all
// content, checkpointing downloads.
func (n *Node) Close() error {
	err := n.Engine.Close()
	for _, c := range n.contents {
		if cerr := c.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// DefaultOutput is where a download goes without -o: the root hash in hex
// in the current directory.
func DefaultOutput(u uri.URI) string {
	return filepath.Join(".", fmt.Sprintf("%x", u.Root))
}

// Hash computes the root hash of a file without seeding it.
func Hash(path string, f merkle.Func, chunkSize int) (*merkle.Tree, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() == 0 {
		return nil, fmt.Errorf("%s is empty: a swarm needs at least one byte", path)
	}
	return merkle.Build(fh, st.Size(), chunkSize, f)
}
