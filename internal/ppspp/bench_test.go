package ppspp

import (
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkLoopbackTransfer downloads a 64 MiB file between two engines in
// this process over real UDP sockets on 127.0.0.1, verifying every chunk.
// The two-process figure with CPU per side comes from `nextshare bench
// transfer`; this one is for profiling the engine.
func BenchmarkLoopbackTransfer(b *testing.B) {
	const size = 64 << 20
	dir := b.TempDir()
	src, _ := writeRandom(b, dir, size, 11)
	listen := func() net.PacketConn {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
		if err != nil {
			b.Fatal(err)
		}
		c.SetReadBuffer(8 << 20)
		c.SetWriteBuffer(8 << 20)
		return c
	}
	sconn := listen()
	se, err := New(Config{Conn: sconn})
	if err != nil {
		b.Fatal(err)
	}
	defer se.Close()
	sw := seed(b, &testNode{e: se, addr: se.LocalAddr()}, src)
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		le, err := New(Config{Conn: listen()})
		if err != nil {
			b.Fatal(err)
		}
		out := filepath.Join(dir, "out")
		s, c := download(b, &testNode{e: le}, sw.Root(), out, se.LocalAddr())
		if !waitDone(b, s, 5*time.Minute) {
			b.Fatal("transfer did not complete")
		}
		b.StopTimer()
		le.Close()
		c.Close()
		removeDownload(out)
		b.StartTimer()
	}
}
