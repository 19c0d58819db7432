package ppspp

import (
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nextshare/nextshare/internal/simnet"
)

// TestSeederConnectsOut: a seeder that opens the channel itself (as a
// mobile source does to the peers it finds) announces what it has once the
// peer answers, so the peer, which knew nothing of it, downloads everything.
func TestSeederConnectsOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		src, data := writeRandom(t, dir, 50_000, 5)
		n := simnet.New(31)
		defer n.Close()
		link := simnet.LinkConfig{Delay: 10 * time.Millisecond}
		seeder := startNode(t, n, "10.0.0.1", link, link, Config{})
		defer seeder.e.Close()
		sw := seed(t, seeder, src)
		leecher := startNode(t, n, "10.0.0.2", link, link, Config{})
		out := filepath.Join(dir, "out")
		ls, c := download(t, leecher, sw.Root(), out)
		defer c.Close()
		defer leecher.e.Close()
		if err := seeder.e.Connect(sw, leecher.addr); err != nil {
			t.Fatal(err)
		}
		if !waitDone(t, ls, 30*time.Second) {
			info := ls.Info()
			t.Fatalf("leecher has %d of %d chunks after 30s", info.HaveChunks, info.NumChunks)
		}
		checkFile(t, out, data)
	})
}
