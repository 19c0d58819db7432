package ppspp

import (
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nextshare/nextshare/internal/bin"
	"github.com/nextshare/nextshare/internal/ppspp/wire"
	"github.com/nextshare/nextshare/internal/simnet"
)

// scriptedLeecher is a peer driven step by step by a test: it downloads
// from a seeder and acknowledges chunks when the test says so.
type scriptedLeecher struct {
	t      *testing.T
	c      *simnet.Conn
	seeder netip.AddrPort
	remote uint32
	buf    []byte
	rd     wire.Reader
}

func newScriptedLeecher(t *testing.T, n *simnet.Network, link simnet.LinkConfig, seeder netip.AddrPort, root []byte) *scriptedLeecher {
	t.Helper()
	h := n.AddHost(netip.MustParseAddr("10.0.2.1"), link, link)
	c, err := h.Listen(7574)
	if err != nil {
		t.Fatal(err)
	}
	l := &scriptedLeecher{t: t, c: c, seeder: seeder, buf: make([]byte, 2048)}
	o := testOptions(root)
	b := wire.AppendChannel(nil, 0)
	b = wire.Handshake{SrcChannel: 0x0a0b0c0d, Options: o}.Append(b, wire.DefaultParams)
	l.write(b)
	for l.remote == 0 {
		l.read(func(m *wire.Msg) {
			if m.Type == wire.TypeHandshake {
				l.remote = m.Handshake.SrcChannel
			}
		})
	}
	return l
}

func (l *scriptedLeecher) write(b []byte) {
	if _, err := l.c.WriteToUDPAddrPort(b, l.seeder); err != nil {
		l.t.Fatal(err)
	}
}

// read waits for one datagram and passes each of its messages to f.
func (l *scriptedLeecher) read(f func(*wire.Msg)) {
	l.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := l.c.ReadFromUDPAddrPort(l.buf)
	if err != nil {
		l.t.Fatal(err)
	}
	if _, err := l.rd.Reset(l.buf[:n], wire.DefaultParams); err != nil {
		l.t.Fatal(err)
	}
	var m wire.Msg
	for l.rd.Next(&m) {
		f(&m)
	}
}

// nextData waits for the next DATA and returns its chunk.
func (l *scriptedLeecher) nextData() uint64 {
	for {
		got, ok := uint64(0), false
		l.read(func(m *wire.Msg) {
			if m.Type == wire.TypeData {
				got, ok = m.Range.Start, true
			}
		})
		if ok {
			return got
		}
	}
}

func (l *scriptedLeecher) send(m wire.Message) {
	b := wire.AppendChannel(nil, l.remote)
	l.write(m.Append(b, wire.DefaultParams))
}

func (l *scriptedLeecher) ack(i uint64) {
	l.send(wire.Ack{Range: bin.Range{Start: i, End: i}})
}

// lossSetup starts a seeder and a scripted leecher, 20ms apart, that
// requests the content and acknowledges chunks as they come, except the
// 40th, until it has acknowledged three later ones, which declares the
// held chunk lost. It returns the seeder's swarm, the leecher, the held
// chunk and the seeder's window just before the third later ACK was sent,
// which it returns right after.
func lossSetup(t *testing.T, n *simnet.Network) (*Swarm, *scriptedLeecher, uint64, int) {
	dir := t.TempDir()
	src, _ := writeRandom(t, dir, 400_000, 11)
	link := simnet.LinkConfig{Delay: 10 * time.Millisecond}
	seeder := startNode(t, n, "10.0.0.1", link, link, Config{})
	t.Cleanup(func() { seeder.e.Close() })
	sw := seed(t, seeder, src)
	l := newScriptedLeecher(t, n, link, seeder.addr, sw.Root())
	t.Cleanup(func() { l.c.Close() })
	l.send(wire.Request{Range: bin.Range{Start: 0, End: 300}})

	const heldAt = 40
	var held uint64
	later := 0
	for count := 0; ; count++ {
		i := l.nextData()
		switch {
		case count < heldAt:
			l.ack(i)
		case count == heldAt:
			held = i
		case later < 2:
			l.ack(i)
			later++
		default:
			synctest.Wait()
			w, _ := seederWindow(t, sw)
			l.ack(i)
			return sw, l, held, w
		}
	}
}

// seederWindow reads the seeder's uplink window, and whether the cut of
// its only channel's loss can still be undone, in the engine's loop. (The
// path to the leecher has no queue of its own, so a loss on it is the
// uplink's to answer: the channel's own window stays.)
func seederWindow(t *testing.T, sw *Swarm) (w int, undoable bool) {
	t.Helper()
	found := false
	sw.e.do(func() {
		for _, c := range sw.channels {
			w, undoable, found = sw.e.up.cc.Window(), c.cut != nil, true
		}
	})
	if !found {
		t.Fatal("seeder has no channel")
	}
	return w, undoable
}

// TestSpuriousLossUndone: an ACK (or a HAVE) that arrives late, just after
// three later chunks were acknowledged and before the retransmission could
// be answered, undoes the window cut.
func TestSpuriousLossUndone(t *testing.T) {
	t.Run("ack", func(t *testing.T) { testSpuriousLossUndone(t, false) })
	t.Run("have", func(t *testing.T) { testSpuriousLossUndone(t, true) })
}

func testSpuriousLossUndone(t *testing.T, have bool) {
	synctest.Test(t, func(t *testing.T) {
		n := simnet.New(21)
		defer n.Close()
		sw, l, held, before := lossSetup(t, n)
		// The last ACK reaches the seeder after the one-way delay of
		// 20ms; the held one follows 1ms later.
		time.Sleep(time.Millisecond)
		if have {
			l.send(wire.Have{Range: bin.Range{Start: held, End: held}})
		} else {
			l.ack(held)
		}
		time.Sleep(19*time.Millisecond + 500*time.Microsecond)
		synctest.Wait()
		if w, cut := seederWindow(t, sw); !cut || w >= before {
			t.Fatalf("no cut: window %d, before %d", w, before)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		st := sw.e.Stats().Snapshot()
		if st.Losses != 1 || st.SpuriousLosses != 1 {
			t.Fatalf("losses %d, spurious %d; want 1 and 1", st.Losses, st.SpuriousLosses)
		}
		if w, cut := seederWindow(t, sw); cut || w < before {
			t.Errorf("window %d after the late ACK, want the %d before the cut restored", w, before)
		}
	})
}

// TestRealLossKept: a chunk acknowledged only once its retransmission
// arrived was really lost: the cut stands.
func TestRealLossKept(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := simnet.New(22)
		defer n.Close()
		sw, l, held, before := lossSetup(t, n)
		for {
			i := l.nextData()
			l.ack(i)
			if i == held {
				break
			}
		}
		time.Sleep(25 * time.Millisecond)
		synctest.Wait()
		st := sw.e.Stats().Snapshot()
		if st.Losses != 1 || st.SpuriousLosses != 0 || st.Retransmits != 1 {
			t.Fatalf("losses %d, spurious %d, retransmits %d; want 1, 0, 1", st.Losses, st.SpuriousLosses, st.Retransmits)
		}
		if w, cut := seederWindow(t, sw); cut || w > before*3/4 {
			t.Errorf("window %d after a real loss, from %d", w, before)
		}
	})
}
