package ppspp

import (
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nextshare/nextshare/internal/ppspp/wire"
	"github.com/nextshare/nextshare/internal/simnet"
)

// TestMsgSlots checks that the counter slots cover every wire message type
// and that KEEPALIVE follows them.
func TestMsgSlots(t *testing.T) {
	if !wire.MsgType(KeepAlive-1).Known() || wire.MsgType(KeepAlive).Known() {
		t.Fatalf("KeepAlive = %d does not follow the last wire message type", KeepAlive)
	}
	want := map[int]string{0: "HANDSHAKE", 1: "DATA", 2: "ACK", 8: "REQUEST", 13: "PEX_REScert", KeepAlive: "KEEPALIVE"}
	for i, name := range want {
		if got := MsgName(i); got != name {
			t.Errorf("MsgName(%d) = %q, want %q", i, got, name)
		}
	}
	c := MsgCounts{wire.TypeData: 3, KeepAlive: 1}
	m := c.ByName()
	if len(m) != 2 || m["DATA"] != 3 || m["KEEPALIVE"] != 1 {
		t.Errorf("ByName = %v", m)
	}
}

// TestMsgCounts downloads over a lossless simulated link and checks that
// each side received exactly the messages the other sent, and the per-peer
// byte counts of both ends.
func TestMsgCounts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		const size = 100_000
		src, _ := writeRandom(t, dir, size, 3)
		n := simnet.New(1)
		defer n.Close()
		link := simnet.LinkConfig{Delay: 5 * time.Millisecond}
		sn := startNode(t, n, "10.0.0.1", link, link, Config{KeepAlive: time.Second})
		defer sn.e.Close()
		ln := startNode(t, n, "10.0.0.2", link, link, Config{KeepAlive: time.Second})
		defer ln.e.Close()
		sw := seed(t, sn, src)
		lw, c := download(t, ln, sw.Root(), filepath.Join(dir, "out"), sn.addr)
		t.Cleanup(func() { c.Close() }) // after the engine: a running engine checkpoints it
		if !waitDone(t, lw, time.Minute) {
			t.Fatal("download incomplete")
		}
		// Idle long enough for keepalives, ending between two of them so that
		// nothing is in flight.
		time.Sleep(3500 * time.Millisecond)
		synctest.Wait()

		ss, ls := sn.e.Stats().Snapshot(), ln.e.Stats().Snapshot()
		if ss.MsgsIn != ls.MsgsOut || ls.MsgsIn != ss.MsgsOut {
			t.Errorf("seeder in %v out %v\nleecher in %v out %v", ss.MsgsIn.ByName(), ss.MsgsOut.ByName(), ls.MsgsIn.ByName(), ls.MsgsOut.ByName())
		}
		chunks := uint64((size + 1023) / 1024)
		if ls.MsgsIn[wire.TypeData] < chunks || ls.MsgsIn[wire.TypeHandshake] == 0 || ls.MsgsOut[wire.TypeRequest] == 0 ||
			ls.MsgsOut[wire.TypeAck] == 0 || ls.MsgsIn[wire.TypeIntegrity] == 0 || ls.MsgsOut[KeepAlive] == 0 {
			t.Errorf("leecher in %v out %v", ls.MsgsIn.ByName(), ls.MsgsOut.ByName())
		}

		li, si := lw.Info(), sw.Info()
		if li.BytesFrom[sn.addr] != size || si.BytesTo[ln.addr] < size {
			t.Errorf("leecher BytesFrom %v, seeder BytesTo %v", li.BytesFrom, si.BytesTo)
		}
		// Closed channels keep their counts.
		if err := sn.e.RemoveSwarm(sw); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := lw.Info().BytesFrom[sn.addr]; got != size {
			t.Errorf("after close: BytesFrom %d, want %d", got, size)
		}
	})
}
