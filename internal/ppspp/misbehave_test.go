package ppspp

import (
	"bytes"
	"net/netip"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nextshare/nextshare/internal/bin"
	"github.com/nextshare/nextshare/internal/merkle"
	"github.com/nextshare/nextshare/internal/ppspp/wire"
	"github.com/nextshare/nextshare/internal/simnet"
)

// testOptions returns the handshake options of libswift's profile (version
// 1, Merkle tree, SHA-1, 32-bit chunk ranges), naming the swarm id unless it
// is nil, as a reply does.
func testOptions(id []byte) wire.Options {
	var o wire.Options
	o.SetVersion(1)
	o.SetMinVersion(1)
	if id != nil {
		o.SetSwarmID(id)
	}
	o.SetIntegrityMethod(1)
	o.SetHashFunc(0)
	o.SetChunkAddr(wire.ChunkRange32)
	return o
}

// corruptSeeder is a scripted peer that answers handshakes and requests
// like a seeder but flips a byte in every chunk it sends, with correct
// hashes.
func corruptSeeder(t *testing.T, c *simnet.Conn, tree *merkle.Tree, data []byte) {
	buf := make([]byte, 2048)
	var rd wire.Reader
	var m wire.Msg
	p := wire.DefaultParams
	remote := uint32(0)
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		ch, err := rd.Reset(buf[:n], p)
		if err != nil {
			continue
		}
		for rd.Next(&m) {
			switch m.Type {
			case wire.TypeHandshake:
				if ch != 0 {
					continue
				}
				remote = m.Handshake.SrcChannel
				o := testOptions(nil)
				b := wire.AppendChannel(nil, remote)
				b = wire.Handshake{SrcChannel: 0x01020304, Options: o}.Append(b, p)
				for _, pk := range tree.Peaks() {
					b = wire.Have{Range: pk.Bin.Range()}.Append(b, p)
				}
				c.WriteToUDPAddrPort(b, from)
			case wire.TypeRequest:
				for i := m.Range.Start; i <= m.Range.End; i++ {
					b := wire.AppendChannel(nil, remote)
					nodes := tree.Peaks()
					nodes = tree.Uncles(nodes, i, func(bin.Bin) bool { return false })
					for _, nd := range nodes {
						b = wire.Integrity{Range: nd.Bin.Range(), Hash: nd.Hash}.Append(b, p)
					}
					end := min(int(i+1)*1024, len(data))
					chunk := append([]byte(nil), data[int(i)*1024:end]...)
					chunk[0] ^= 0xff
					b = wire.Data{Range: bin.Range{Start: i, End: i}, Payload: chunk}.Append(b, p)
					c.WriteToUDPAddrPort(b, from)
				}
			}
		}
	}
}

// TestCorruptPeerDropped: a peer that sends corrupt chunks is detected and
// dropped, and the download still completes from an honest seeder.
func TestCorruptPeerDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		src, data := writeRandom(t, dir, 50_000, 2)
		n := simnet.New(3)
		defer n.Close()
		fast := simnet.LinkConfig{Delay: 5 * time.Millisecond}
		slow := simnet.LinkConfig{Delay: 20 * time.Millisecond, Rate: 200_000}
		honest := startNode(t, n, "10.0.0.1", slow, slow, Config{})
		defer honest.e.Close()
		sw := seed(t, honest, src)

		evilHost := n.AddHost(netip.MustParseAddr("10.0.0.66"), fast, fast)
		evilConn, err := evilHost.Listen(7574)
		if err != nil {
			t.Fatal(err)
		}
		go corruptSeeder(t, evilConn, sw.Content().Tree, data)
		defer evilConn.Close()

		leech := startNode(t, n, "10.0.1.1", fast, fast, Config{})
		defer leech.e.Close()
		out := filepath.Join(dir, "out")
		s, c := download(t, leech, sw.Root(), out, evilConn.LocalAddrPort(), honest.addr)
		t.Cleanup(func() { c.Close() }) // after the engine: a running engine checkpoints it
		if !waitDone(t, s, time.Minute) {
			t.Fatal("download did not complete")
		}
		checkFile(t, out, data)
		st := leech.e.Stats().Snapshot()
		if st.CorruptChunks == 0 || st.PeersDropped == 0 {
			t.Fatalf("corrupt chunks %d, peers dropped %d: the bad peer went unnoticed", st.CorruptChunks, st.PeersDropped)
		}
		if got := s.Info().BytesFrom[evilConn.LocalAddrPort()]; got != 0 {
			t.Fatalf("%d bytes credited to the corrupting peer", got)
		}
		t.Logf("corrupt chunks detected: %d, peers dropped: %d", st.CorruptChunks, st.PeersDropped)
	})
}

// TestResumeAfterCrash stops a download midway without a clean shutdown
// (the store is never closed or checkpointed), reopens it, and checks that
// no verified chunk is fetched again.
func TestResumeAfterCrash(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		src, data := writeRandom(t, dir, 1_000_000, 3)
		n := simnet.New(4)
		defer n.Close()
		link := simnet.LinkConfig{Delay: 10 * time.Millisecond, Rate: 100_000}
		seeder := startNode(t, n, "10.0.0.1", link, link, Config{})
		defer seeder.e.Close()
		sw := seed(t, seeder, src)
		out := filepath.Join(dir, "out")

		l1 := startNode(t, n, "10.0.1.1", link, link, Config{})
		s1, c1 := download(t, l1, sw.Root(), out, seeder.addr)
		for s1.Info().HaveChunks < 150 {
			time.Sleep(50 * time.Millisecond)
		}
		l1.e.Close()
		before := s1.content.Store.Have().Count()
		if err := c1.Store.Abandon(); err != nil { // crash: no checkpoint, no close
			t.Fatal(err)
		}

		c2, err := OpenDownload(out, sw.Root(), merkle.SHA1, 1024)
		if err != nil {
			t.Fatal(err)
		}
		defer c2.Close()
		resumed := c2.Store.Have().Count()
		if resumed < before {
			t.Fatalf("resumed with %d chunks, had %d verified before the crash", resumed, before)
		}
		h2 := n.AddHost(netip.MustParseAddr("10.0.1.2"), link, link)
		conn2, _ := h2.Listen(7574)
		e2, err := New(Config{Conn: conn2})
		if err != nil {
			t.Fatal(err)
		}
		defer e2.Close()
		s2, err := e2.AddSwarm(c2)
		if err != nil {
			t.Fatal(err)
		}
		e2.Connect(s2, seeder.addr)
		if !waitDone(t, s2, 5*time.Minute) {
			t.Fatal("resumed download did not complete")
		}
		checkFile(t, out, data)
		total := c2.Tree.NumChunks()
		got := e2.Stats().Snapshot().ChunksVerified
		if got != total-resumed {
			t.Fatalf("second run verified %d chunks; expected exactly the %d missing", got, total-resumed)
		}
		t.Logf("crash after %d of %d chunks; resumed with %d; fetched %d more", before, total, resumed, got)
	})
}

// TestBadInputCounted sends malformed datagrams, an unknown message type,
// a range outside the content and a handshake for an unknown swarm; each is
// dropped and counted, and the node keeps serving.
func TestBadInputCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		src, data := writeRandom(t, dir, 5000, 4)
		n := simnet.New(5)
		defer n.Close()
		seeder := startNode(t, n, "10.0.0.1", simnet.LinkConfig{}, simnet.LinkConfig{}, Config{})
		defer seeder.e.Close()
		sw := seed(t, seeder, src)

		h := n.AddHost(netip.MustParseAddr("10.0.0.9"), simnet.LinkConfig{}, simnet.LinkConfig{})
		raw, _ := h.Listen(1000)
		defer raw.Close()
		p := wire.DefaultParams
		send := func(b []byte) {
			raw.WriteToUDPAddrPort(b, seeder.addr)
			time.Sleep(10 * time.Millisecond)
		}
		o := testOptions(bytes.Repeat([]byte{7}, 20))
		send(wire.Handshake{SrcChannel: 99, Options: o}.Append(wire.AppendChannel(nil, 0), p))
		send([]byte{1, 2})
		send([]byte{0, 0, 0, 0, 0x7f, 1, 2, 3})

		// Open a real channel, then misbehave on it.
		o.SetSwarmID(sw.Root())
		send(wire.Handshake{SrcChannel: 42, Options: o}.Append(wire.AppendChannel(nil, 0), p))
		buf := make([]byte, 2048)
		raw.SetReadDeadline(time.Now().Add(time.Second))
		nn, _, err := raw.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatal(err)
		}
		var rd wire.Reader
		var m wire.Msg
		rd.Reset(buf[:nn], p)
		if !rd.Next(&m) || m.Type != wire.TypeHandshake {
			t.Fatal("no handshake reply")
		}
		ours := m.Handshake.SrcChannel
		send(wire.Request{Range: bin.Range{Start: 100, End: 200}}.Append(wire.AppendChannel(nil, ours), p))
		send(append(wire.AppendChannel(nil, ours), 0x63))
		send(wire.Have{Range: bin.Range{Start: 5, End: 1}}.Append(wire.AppendChannel(nil, ours), p))
		send(wire.Request{Range: bin.Range{}}.Append(wire.AppendChannel(nil, 12345), p))

		st := seeder.e.Stats().Snapshot()
		if st.UnknownSwarm != 1 || st.Malformed < 3 || st.BadRange < 1 || st.UnknownChannel != 1 {
			t.Fatalf("counters: %+v", st)
		}

		leech := startNode(t, n, "10.0.1.1", simnet.LinkConfig{}, simnet.LinkConfig{}, Config{})
		defer leech.e.Close()
		out := filepath.Join(dir, "out")
		s, c := download(t, leech, sw.Root(), out, seeder.addr)
		t.Cleanup(func() { c.Close() }) // after the engine: a running engine checkpoints it
		if !waitDone(t, s, time.Minute) {
			t.Fatal("node stopped serving after bad input")
		}
		checkFile(t, out, data)
	})
}

// silentPeer is a scripted peer that announces every chunk of tree, takes
// requests and never answers them. It reports the CANCELs it receives on
// cancels until c is closed.
func silentPeer(c *simnet.Conn, tree *merkle.Tree, cancels chan<- bin.Range) {
	buf := make([]byte, 2048)
	var rd wire.Reader
	var m wire.Msg
	p := wire.DefaultParams
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		ch, err := rd.Reset(buf[:n], p)
		if err != nil {
			continue
		}
		for rd.Next(&m) {
			switch m.Type {
			case wire.TypeHandshake:
				if ch != 0 {
					continue
				}
				o := testOptions(nil)
				b := wire.AppendChannel(nil, m.Handshake.SrcChannel)
				b = wire.Handshake{SrcChannel: 0x01020304, Options: o}.Append(b, p)
				for _, pk := range tree.Peaks() {
					b = wire.Have{Range: pk.Bin.Range()}.Append(b, p)
				}
				c.WriteToUDPAddrPort(b, from)
			case wire.TypeCancel:
				select {
				case cancels <- m.Range:
				default:
				}
			}
		}
	}
}

// TestExpiredRequestCancelled: requests a peer leaves unanswered past their
// deadline are cancelled with it, so that it does not send them after the
// chunks were fetched elsewhere, and the download completes from another
// peer.
func TestExpiredRequestCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		src, data := writeRandom(t, dir, 1_000_000, 3)
		n := simnet.New(4)
		defer n.Close()
		fast := simnet.LinkConfig{Delay: 5 * time.Millisecond}
		slow := simnet.LinkConfig{Delay: 20 * time.Millisecond, Rate: 100_000}
		honest := startNode(t, n, "10.0.0.1", slow, slow, Config{})
		defer honest.e.Close()
		sw := seed(t, honest, src)

		mute := n.AddHost(netip.MustParseAddr("10.0.0.77"), fast, fast)
		muteConn, err := mute.Listen(7574)
		if err != nil {
			t.Fatal(err)
		}
		cancels := make(chan bin.Range, 256)
		go silentPeer(muteConn, sw.Content().Tree, cancels)
		defer muteConn.Close()

		leech := startNode(t, n, "10.0.1.1", fast, fast, Config{})
		defer leech.e.Close()
		out := filepath.Join(dir, "out")
		s, c := download(t, leech, sw.Root(), out, honest.addr, muteConn.LocalAddrPort())
		t.Cleanup(func() { c.Close() }) // after the engine: a running engine checkpoints it
		if !waitDone(t, s, time.Minute) {
			t.Fatal("download did not complete")
		}
		checkFile(t, out, data)
		st := leech.e.Stats().Snapshot()
		if st.RequestTimeouts == 0 {
			t.Fatal("no request to the silent peer timed out")
		}
		// A chunk that arrives from another peer is cancelled alone
		// (picker.Duplicates); an expired request is cancelled whole.
		whole := 0
		for len(cancels) > 0 {
			if r := <-cancels; r.Len() > 1 {
				whole++
			}
		}
		if whole == 0 {
			t.Fatalf("%d requests timed out but none was cancelled", st.RequestTimeouts)
		}
	})
}
