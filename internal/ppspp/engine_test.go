package ppspp

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nextshare/nextshare/internal/merkle"
	"github.com/nextshare/nextshare/internal/simnet"
)

// writeRandom writes n seeded pseudo-random bytes to a new file in dir.
func writeRandom(t testing.TB, dir string, n int, seed uint64) (string, []byte) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	p := filepath.Join(dir, fmt.Sprintf("content-%d", seed))
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, b
}

// testNode is an engine on a simulated host.
type testNode struct {
	e    *Engine
	addr netip.AddrPort
}

func startNode(t testing.TB, n *simnet.Network, ip string, up, down simnet.LinkConfig, cfg Config) *testNode {
	t.Helper()
	h := n.AddHost(netip.MustParseAddr(ip), up, down)
	c, err := h.Listen(7574)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Conn = c
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &testNode{e: e, addr: c.LocalAddrPort()}
}

func seed(t testing.TB, tn *testNode, path string) *Swarm {
	t.Helper()
	c, err := SeedFile(path, merkle.SHA1, 1024)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s, err := tn.e.AddSwarm(c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func download(t testing.TB, tn *testNode, root []byte, out string, peers ...netip.AddrPort) (*Swarm, *Content) {
	t.Helper()
	c, err := OpenDownload(out, root, merkle.SHA1, 1024)
	if err != nil {
		t.Fatal(err)
	}
	s, err := tn.e.AddSwarm(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range peers {
		tn.e.Connect(s, p)
	}
	return s, c
}

func waitDone(t testing.TB, s *Swarm, d time.Duration) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	select {
	case <-s.Done():
		return true
	case <-ctx.Done():
		return false
	}
}

func checkFile(t testing.TB, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes, differs from the source (%d bytes)", path, len(got), len(want))
	}
}

// TestSwarmLossyTwentyLeechers runs one seeder and 20 leechers over links
// with 100 ms RTT and 5% loss; every leecher must end byte-identical.
func TestSwarmLossyTwentyLeechers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		src, data := writeRandom(t, dir, 300_000, 1)
		n := simnet.New(7)
		defer n.Close()
		link := simnet.LinkConfig{Delay: 25 * time.Millisecond, Loss: 0.05, Rate: 2.5e6, Queue: 200 * time.Millisecond}
		down := simnet.LinkConfig{Delay: 25 * time.Millisecond, Rate: 5e6, Queue: 200 * time.Millisecond}
		seeder := startNode(t, n, "10.0.0.1", link, down, Config{})
		defer seeder.e.Close()
		sw := seed(t, seeder, src)

		const leechers = 20
		var swarms []*Swarm
		var outs []string
		for i := range leechers {
			ln := startNode(t, n, fmt.Sprintf("10.0.1.%d", i+1), link, down, Config{})
			out := filepath.Join(dir, fmt.Sprintf("out-%d", i))
			s, c := download(t, ln, sw.Root(), out, seeder.addr)
			defer c.Close()
			defer ln.e.Close() // before the content: a running engine checkpoints it
			swarms = append(swarms, s)
			outs = append(outs, out)
		}
		start := time.Now()
		for i, s := range swarms {
			if !waitDone(t, s, 5*time.Minute) {
				info := s.Info()
				t.Fatalf("leecher %d incomplete: %d/%d chunks", i, info.HaveChunks, info.NumChunks)
			}
		}
		elapsed := time.Since(start)
		for _, out := range outs {
			checkFile(t, out, data)
		}
		var fromPeers, fromSeed uint64
		for _, s := range swarms {
			for a, b := range s.Info().BytesFrom {
				if a == seeder.addr {
					fromSeed += b
				} else {
					fromPeers += b
				}
			}
		}
		st := seeder.e.Stats().Snapshot()
		t.Logf("20 leechers complete in %v virtual time; %.0f%% of bytes from peers; seeder sent %d chunks, %d retransmits, %d losses",
			elapsed, 100*float64(fromPeers)/float64(fromPeers+fromSeed), st.ChunksSent, st.Retransmits, st.Losses)
	})
}

func removeDownload(path string) {
	os.Remove(path)
	os.Remove(path + ".nsstate")
}
