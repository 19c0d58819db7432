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
	"sync"
	"time"

	"github.com/nextshare/nextshare/internal/dht"
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

	// DHT turns on peer discovery through the Mainline DHT, on the same
	// socket as PPSPP (KRPC datagrams start with 'd', PPSPP channel IDs
	// never do).
	DHT bool
	// Bootstrap lists the DHT nodes to join through (HOST:PORT); nil means
	// dht.DefaultBootstrap, the public routers.
	Bootstrap []string
	// DHTState, if set, keeps the DHT routing table across runs.
	DHTState string
}

// Node is a running node.
type Node struct {
	cfg    Config
	Engine *ppspp.Engine
	DHT    *dht.Node // nil without Config.DHT

	mu     sync.Mutex
	swarms map[*ppspp.Swarm]*entry

	ctx    context.Context // ends on Close; bounds discovery loops
	cancel context.CancelFunc
	wg     sync.WaitGroup
	ready  chan struct{} // closed when the DHT bootstrap has ended
}

// New starts a node on cfg.Conn. With cfg.DHT it joins the DHT in the
// background; lookups wait for that.
func New(cfg Config) (*Node, error) {
	if cfg.ChunkSize <= 0 {
		cfg.ChunkSize = 1024
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	n := &Node{cfg: cfg, ready: make(chan struct{}), swarms: make(map[*ppspp.Swarm]*entry)}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	var onOther func([]byte, netip.AddrPort)
	if cfg.DHT {
		d, err := dht.New(dht.Config{
			Conn: cfg.Conn, Shared: true, Bootstrap: cfg.Bootstrap,
			StatePath: cfg.DHTState, Logger: cfg.Logger,
		})
		if err != nil {
			return nil, err
		}
		n.DHT = d
		onOther = d.HandlePacket
	}
	e, err := ppspp.New(ppspp.Config{Conn: cfg.Conn, Logger: cfg.Logger, NoUpload: cfg.NoUpload, OnOther: onOther})
	if err != nil {
		if n.DHT != nil {
			n.DHT.Close()
		}
		return nil, err
	}
	n.Engine = e
	if n.DHT == nil {
		close(n.ready)
		return n, nil
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer close(n.ready)
		if cfg.Bootstrap != nil && len(cfg.Bootstrap) == 0 {
			return // the first node of a private DHT: others join it
		}
		ctx, cancel := context.WithTimeout(n.ctx, bootstrapTimeout)
		defer cancel()
		if err := n.DHT.Bootstrap(ctx); err != nil {
			n.cfg.Logger.Warn("dht bootstrap", "err", err)
		}
	}()
	return n, nil
}

// Discovery timing: a download looks for peers at once and then every
// lookupEvery until it completes; a complete swarm is announced every
// announceEvery (BEP 5 peers expire after 30 minutes).
const (
	bootstrapTimeout = 30 * time.Second
	lookupTimeout    = 20 * time.Second
	lookupEvery      = 30 * time.Second
	announceEvery    = 15 * time.Minute
)

// InfoHash is the DHT key of a swarm: its root hash, cut to 20 bytes when
// the hash function is longer than SHA-1.
func InfoHash(root []byte) dht.ID {
	var id dht.ID
	copy(id[:], root)
	return id
}

// discover finds peers for s through the DHT and announces it, until the
// node closes: while s downloads, a lookup (with announce) every
// lookupEvery, connecting to what it finds; once complete, an announce
// every announceEvery.
func (n *Node) discover(sctx context.Context, s *ppspp.Swarm) {
	if n.DHT == nil {
		return
	}
	ih := InfoHash(s.Root())
	port := n.Engine.LocalAddr().Port()
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		select {
		case <-n.ready:
		case <-sctx.Done():
			return
		}
		for {
			complete := s.Info().Complete
			ctx, cancel := context.WithTimeout(sctx, lookupTimeout)
			l, err := n.DHT.Announce(ctx, ih, int(port))
			cancel()
			if err != nil {
				n.cfg.Logger.Debug("dht announce", "swarm", ih, "err", err)
			}
			if !complete {
				for _, p := range l.Peers {
					if p != n.Engine.LocalAddr() {
						n.Engine.Connect(s, p)
					}
				}
			}
			every, done := lookupEvery, s.Done()
			if complete {
				every, done = announceEvery, nil
			}
			t := time.NewTimer(every)
			select {
			case <-t.C:
			case <-done: // complete now: announce as a seeder at once
				t.Stop()
			case <-sctx.Done():
				t.Stop()
				return
			}
		}
	}()
}

// Seed hashes a complete file and starts seeding it.
func (n *Node) Seed(path string, f merkle.Func) (*ppspp.Swarm, error) {
	c, err := ppspp.SeedFile(path, f, n.cfg.ChunkSize)
	if err != nil {
		return nil, err
	}
	return n.add(c, path)
}

// entry is what the node keeps for a swarm it runs.
type entry struct {
	content *ppspp.Content
	path    string
	cancel  context.CancelFunc // ends the swarm's discovery
}

// add starts a swarm for c and its DHT discovery; the node closes c on
// Remove or Close.
func (n *Node) add(c *ppspp.Content, path string) (*ppspp.Swarm, error) {
	s, err := n.Engine.AddSwarm(c)
	if err != nil {
		c.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(n.ctx)
	n.mu.Lock()
	n.swarms[s] = &entry{content: c, path: path, cancel: cancel}
	n.mu.Unlock()
	n.discover(ctx, s)
	return s, nil
}

// Swarms lists the node's swarms and their file paths.
func (n *Node) Swarms() map[*ppspp.Swarm]string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make(map[*ppspp.Swarm]string, len(n.swarms))
	for s, e := range n.swarms {
		out[s] = e.path
	}
	return out
}

// Remove stops a swarm: its DHT announces end, its peers are told, and its
// content is checkpointed and closed (the file stays).
func (n *Node) Remove(s *ppspp.Swarm) error {
	n.mu.Lock()
	e := n.swarms[s]
	delete(n.swarms, s)
	n.mu.Unlock()
	if e == nil {
		return fmt.Errorf("no such swarm")
	}
	e.cancel()
	err := n.Engine.RemoveSwarm(s)
	if cerr := e.content.Close(); err == nil {
		err = cerr
	}
	return err
}

// Get starts (or resumes) downloading u into path and connects to peers.
func (n *Node) Get(u uri.URI, path string, peers []netip.AddrPort) (*ppspp.Swarm, error) {
	c, err := ppspp.OpenDownload(path, u.Root, u.Func, n.cfg.ChunkSize)
	if err != nil {
		return nil, err
	}
	s, err := n.add(c, path)
	if err != nil {
		return nil, err
	}
	if u.Size > 0 {
		s.SetSizeHint(u.Size)
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
	n.cancel()
	n.wg.Wait()
	var err error
	if n.DHT != nil {
		err = n.DHT.Close()
	}
	if eerr := n.Engine.Close(); err == nil {
		err = eerr
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for s, e := range n.swarms {
		if cerr := e.content.Close(); err == nil {
			err = cerr
		}
		delete(n.swarms, s)
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
