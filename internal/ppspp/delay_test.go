package ppspp

import (
	"context"
	"log/slog"
	"net/netip"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nextshare/nextshare/internal/ppspp/wire"
	"github.com/nextshare/nextshare/internal/simnet"
)

// slowLog is a log sink that takes pause to write a record, as a log on a
// slow disk or terminal does: the loop that logs stalls meanwhile.
type slowLog struct{ pause time.Duration }

func (h slowLog) Enabled(context.Context, slog.Level) bool { return true }
func (h slowLog) Handle(context.Context, slog.Record) error {
	time.Sleep(h.pause)
	return nil
}
func (h slowLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h slowLog) WithGroup(string) slog.Handler      { return h }

// noisyPeer answers a handshake on c, announcing nothing, and then sends a
// malformed datagram on the channel every 50 ms until stop is closed (at
// most 3,000 of them).
func noisyPeer(c *simnet.Conn, stop <-chan struct{}, stopped chan<- struct{}) {
	defer close(stopped)
	buf := make([]byte, 2048)
	var rd wire.Reader
	var m wire.Msg
	p := wire.DefaultParams
	var remote uint32
	var from netip.AddrPort
	for remote == 0 {
		n, addr, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		if ch, err := rd.Reset(buf[:n], p); err != nil || ch != 0 || !rd.Next(&m) || m.Type != wire.TypeHandshake {
			continue
		}
		remote, from = m.Handshake.SrcChannel, addr
		b := wire.AppendChannel(nil, remote)
		b = wire.Handshake{SrcChannel: 0x01020304, Options: testOptions(nil)}.Append(b, p)
		c.WriteToUDPAddrPort(b, from)
	}
	for range 3000 {
		select {
		case <-stop:
			return
		case <-time.After(50 * time.Millisecond):
		}
		// A message type PPSPP does not define.
		c.WriteToUDPAddrPort(append(wire.AppendChannel(nil, remote), 0xfe, 1, 2, 3), from)
	}
}

// TestDelaySampleStalledLoop: the one-way delay samples a leecher sends
// in its ACKs (RFC 7574 §8.7) measure the path, however long its loop takes
// over a batch. Here each malformed datagram a second peer sends makes the
// leecher's loop stall for 15 ms while DATA keeps arriving. A sample read
// against a clock taken before that DATA arrived reads low, even below zero;
// the seeder's LEDBAT keeps the least sample as the base delay for minutes
// and then reads every later sample as queuing delay, so its window shrinks
// to the minimum and stays there.
func TestDelaySampleStalledLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		src, data := writeRandom(t, dir, 1<<20, 7)
		n := simnet.New(41)
		defer n.Close()
		link := simnet.LinkConfig{Delay: 10 * time.Millisecond, Rate: 2.5e6} // 20 Mbit/s
		// The seeder's uplink, then the leecher's downlink.
		oneWay := 2 * link.Delay
		seeder := startNode(t, n, "10.0.0.1", link, link, Config{})
		defer seeder.e.Close()
		sw := seed(t, seeder, src)
		leecher := startNode(t, n, "10.0.0.2", link, link,
			Config{Logger: slog.New(slowLog{pause: 15 * time.Millisecond})})
		out := filepath.Join(dir, "out")
		ls, c := download(t, leecher, sw.Root(), out, seeder.addr)
		t.Cleanup(func() { c.Close() }) // after the engine: a running engine checkpoints it
		defer leecher.e.Close()

		noise := n.AddHost(netip.MustParseAddr("10.0.0.3"), link, link)
		nc, err := noise.Listen(7574)
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		stopped := make(chan struct{})
		go noisyPeer(nc, stop, stopped)
		leecher.e.Connect(ls, nc.LocalAddrPort())
		done := waitDone(t, ls, 60*time.Second)
		close(stop)
		nc.Close() // ends a read still waiting for the handshake
		<-stopped
		if !done {
			info := ls.Info()
			t.Fatalf("leecher has %d of %d chunks after 60s", info.HaveChunks, info.NumChunks)
		}
		checkFile(t, out, data)
		if m := leecher.e.Stats().Snapshot().Malformed; m == 0 {
			t.Fatal("no datagram of the third host counted as malformed: the loop never stalled")
		}

		var base time.Duration
		var ok bool
		seeder.e.do(func() {
			for _, ch := range seeder.e.channels {
				if b, has := ch.cc.(interface{ BaseDelay() (time.Duration, bool) }); has {
					base, ok = b.BaseDelay()
				}
			}
		})
		if !ok {
			t.Fatal("the seeder's channel has no base delay")
		}
		t.Logf("seeder's base delay to the leecher: %v (path: %v one way)", base, oneWay)
		if base < oneWay {
			t.Fatalf("base delay %v is below the path's one-way delay %v: a delay sample read low", base, oneWay)
		}
	})
}
