package ppspp

import (
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nextshare/nextshare/internal/bin"
	"github.com/nextshare/nextshare/internal/merkle"
	"github.com/nextshare/nextshare/internal/simnet"
)

// path50ms is one end of the startup benchmark's path: 20 Mbit/s each way,
// 50 ms round trip, 100 ms of queue.
var path50ms = simnet.LinkConfig{Delay: 12500 * time.Microsecond, Rate: 2.5e6, Queue: 100 * time.Millisecond}

// startReader opens a size-hinted download whose one reader waits at chunk
// from, connects it to peers and returns the swarm.
func startReader(t *testing.T, tn *testNode, root []byte, size int64, from uint64, peers ...*testNode) *Swarm {
	t.Helper()
	c, err := OpenDownload(filepath.Join(t.TempDir(), "out"), root, merkle.SHA1, 1024)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s, err := tn.e.AddSwarm(c)
	if err != nil {
		t.Fatal(err)
	}
	s.SetSizeHint(size)
	s.SetReaders([]bin.Range{{Start: from, End: bin.MaxChunks - 1}})
	for _, p := range peers {
		tn.e.Connect(s, p.addr)
	}
	return s
}

// waitChunks returns when chunks r are verified, or fails after limit.
func waitChunks(t *testing.T, s *Swarm, r bin.Range, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for !s.content.Store.Have().HasRange(r) {
		if time.Since(start) > limit {
			t.Fatalf("chunks %v not verified after %v", r, limit)
		}
		time.Sleep(time.Millisecond)
	}
	return time.Since(start)
}

// TestStartupFirstMiB: over the benchmark's path (50 ms RTT, 20 Mbit/s), a
// reader at the start has its first MiB within a second of opening the
// download: one round trip of handshake, which already asks for the first
// chunks, slow start from ten datagrams, then the link's rate (1 MiB takes
// 0.45 s at 20 Mbit/s).
func TestStartupFirstMiB(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		src, _ := writeRandom(t, dir, 4<<20, 11)
		n := simnet.New(1)
		defer n.Close()
		seeder := startNode(t, n, "10.0.0.1", path50ms, path50ms, Config{})
		defer seeder.e.Close()
		sw := seed(t, seeder, src)
		leech := startNode(t, n, "10.0.1.1", path50ms, path50ms, Config{})
		defer leech.e.Close()
		s := startReader(t, leech, sw.Root(), 4<<20, 0, seeder)
		first := waitChunks(t, s, bin.Range{Start: 0, End: 0}, 10*time.Second)
		mib := first + waitChunks(t, s, bin.Range{Start: 0, End: 1023}, 10*time.Second)
		t.Logf("first chunk after %v, first MiB after %v (virtual time)", first, mib)
		if first > 100*time.Millisecond || mib > time.Second {
			t.Errorf("first chunk after %v, first MiB after %v: want at most 100 ms and 1 s", first, mib)
		}
	})
}

// TestStartupWithDeadPeer: the seeder still has a channel to a peer that
// vanished without closing it, and introduces it through PEX. The channel
// our leecher opens to it never answers; it must not change what the
// leecher asks the seeder for (a peer the picker counts makes every chunk
// look rare and scatters the requests over the window).
func TestStartupWithDeadPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		src, _ := writeRandom(t, dir, 4<<20, 12)
		n := simnet.New(2)
		defer n.Close()
		seeder := startNode(t, n, "10.0.0.1", path50ms, path50ms, Config{})
		defer seeder.e.Close()
		sw := seed(t, seeder, src)
		ghost := startNode(t, n, "10.0.2.1", path50ms, path50ms, Config{})
		gs := startReader(t, ghost, sw.Root(), 4<<20, 0, seeder)
		waitChunks(t, gs, bin.Range{Start: 0, End: 0}, 10*time.Second)
		ghost.e.conn.Close() // gone, without an explicit close
		defer ghost.e.Close()

		leech := startNode(t, n, "10.0.1.1", path50ms, path50ms, Config{})
		defer leech.e.Close()
		s := startReader(t, leech, sw.Root(), 4<<20, 0, seeder)
		mib := waitChunks(t, s, bin.Range{Start: 0, End: 1023}, 20*time.Second)
		t.Logf("first MiB after %v (virtual time)", mib)
		if mib > time.Second {
			t.Errorf("first MiB after %v, want at most 1 s", mib)
		}
	})
}

// TestReadersHeadAndTail: a player that reads an MP4's index at the end of
// the file while its first request still waits at the start gets both:
// each reader has an urgent range of its own, the one that waited last
// first.
func TestReadersHeadAndTail(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		const size = 8 << 20
		src, _ := writeRandom(t, dir, size, 13)
		n := simnet.New(3)
		defer n.Close()
		seeder := startNode(t, n, "10.0.0.1", path50ms, path50ms, Config{})
		defer seeder.e.Close()
		sw := seed(t, seeder, src)
		leech := startNode(t, n, "10.0.1.1", path50ms, path50ms, Config{})
		defer leech.e.Close()
		s := startReader(t, leech, sw.Root(), size, 0, seeder)
		waitChunks(t, s, bin.Range{Start: 0, End: 0}, 10*time.Second)
		const last = size/1024 - 1
		tail := bin.Range{Start: last - 63, End: last}
		s.SetReaders([]bin.Range{tail, {Start: 64, End: last}})
		d := waitChunks(t, s, tail, 10*time.Second)
		head := waitChunks(t, s, bin.Range{Start: 0, End: 255}, 10*time.Second)
		t.Logf("tail after %v, then the first 256 chunks after %v more (virtual time)", d, head)
		if d > 300*time.Millisecond || d+head > time.Second {
			t.Errorf("tail after %v, head after %v more: want 300 ms and 1 s in all", d, head)
		}
	})
}

// TestUrgentFromFastPeer: with a fast and a slow seeder, the chunks a
// reader needs after a seek come from the fast one, or are asked of it
// again when the slow one is late, rather than waiting behind the slow
// peer's queue.
func TestUrgentFromFastPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		const size = 32 << 20
		src, _ := writeRandom(t, dir, size, 14)
		n := simnet.New(4)
		defer n.Close()
		slowLink := simnet.LinkConfig{Delay: 40 * time.Millisecond, Rate: 100_000, Queue: time.Second}
		fast := startNode(t, n, "10.0.0.1", path50ms, path50ms, Config{})
		defer fast.e.Close()
		slow := startNode(t, n, "10.0.0.2", slowLink, slowLink, Config{})
		defer slow.e.Close()
		sw := seed(t, fast, src)
		seed(t, slow, src)
		leech := startNode(t, n, "10.0.1.1", path50ms, path50ms, Config{})
		defer leech.e.Close()
		s := startReader(t, leech, sw.Root(), size, 0, fast, slow)
		waitChunks(t, s, bin.Range{Start: 0, End: 511}, 10*time.Second)
		time.Sleep(500 * time.Millisecond) // the peers' rates are known now
		for _, at := range []uint64{20000, 28000, 12000} {
			// A player reading on from the seek moves its reader along.
			var d time.Duration
			for k := range uint64(4) {
				from := at + 128*k
				s.SetReaders([]bin.Range{{Start: from, End: bin.MaxChunks - 1}})
				d += waitChunks(t, s, bin.Range{Start: from, End: from + 127}, 20*time.Second)
			}
			t.Logf("seek to chunk %d: 512 chunks after %v (virtual time)", at, d)
			if d > 600*time.Millisecond {
				t.Errorf("seek to chunk %d: 512 chunks after %v, want at most 600 ms", at, d)
			}
		}
	})
}
