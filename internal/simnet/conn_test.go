package simnet

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
	"testing/synctest"
	"time"
)

func TestReadDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := New(1)
		defer n.Close()
		a := n.AddHost(addrA, LinkConfig{}, LinkConfig{})
		c := mustListen(t, a, 1)
		buf := make([]byte, 10)

		start := time.Now()
		c.SetReadDeadline(start.Add(50 * time.Millisecond))
		_, _, err := c.ReadFrom(buf)
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("ReadFrom past deadline: %v, want os.ErrDeadlineExceeded", err)
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("error %v is not a net.Error with Timeout()", err)
		}
		if d := time.Since(start); d != 50*time.Millisecond {
			t.Errorf("ReadFrom returned after %v, want 50ms", d)
		}

		// A deadline in the past fails at once.
		if _, _, err := c.ReadFrom(buf); !errors.Is(err, os.ErrDeadlineExceeded) || time.Since(start) != 50*time.Millisecond {
			t.Errorf("ReadFrom with expired deadline: %v after %v", err, time.Since(start))
		}

		// Moving the deadline while a read is blocked applies to that read.
		c.SetReadDeadline(time.Now().Add(time.Hour))
		start = time.Now()
		go func() {
			time.Sleep(10 * time.Millisecond)
			c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		}()
		if _, _, err := c.ReadFrom(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("ReadFrom: %v, want deadline exceeded", err)
		}
		if d := time.Since(start); d != 30*time.Millisecond {
			t.Errorf("shortened deadline fired after %v, want 30ms", d)
		}

		// Clearing the deadline lets a read wait for a packet.
		c.SetReadDeadline(time.Time{})
		go func() {
			time.Sleep(time.Minute)
			c.WriteTo([]byte("late"), c.LocalAddr())
		}()
		if nr, _, err := c.ReadFrom(buf); err != nil || string(buf[:nr]) != "late" {
			t.Errorf("ReadFrom without deadline = %q, %v", buf[:nr], err)
		}

		// Write deadlines make writes fail once passed.
		c.SetWriteDeadline(time.Now())
		if _, err := c.WriteTo([]byte("x"), c.LocalAddr()); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("WriteTo after write deadline: %v", err)
		}
	})
}

func TestCloseUnblocksReaders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := New(1)
		a := n.AddHost(addrA, LinkConfig{}, LinkConfig{})
		c1, c2 := mustListen(t, a, 1), mustListen(t, a, 2)
		errs := make(chan error, 4)
		for _, c := range []*Conn{c1, c1, c2, c2} {
			go func() {
				_, _, err := c.ReadFrom(make([]byte, 10))
				errs <- err
			}()
		}
		synctest.Wait()
		c1.Close()
		synctest.Wait()
		if len(errs) != 2 {
			t.Fatalf("%d readers returned after closing one conn, want 2", len(errs))
		}
		n.Close() // closes c2
		for range 4 {
			if err := <-errs; !errors.Is(err, net.ErrClosed) {
				t.Errorf("blocked ReadFrom after Close: %v, want net.ErrClosed", err)
			}
		}
		if err := c1.Close(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("second Close: %v, want net.ErrClosed", err)
		}
		if _, err := c2.WriteTo([]byte("x"), c1.LocalAddr()); !errors.Is(err, net.ErrClosed) {
			t.Errorf("WriteTo after Close: %v, want net.ErrClosed", err)
		}
		if _, err := a.Listen(3); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Listen after network Close: %v, want net.ErrClosed", err)
		}
	})
}

func TestRecvQueueOverflowAndNoListener(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := New(1)
		defer n.Close()
		a := n.AddHost(addrA, LinkConfig{}, LinkConfig{})
		b := n.AddHost(addrB, LinkConfig{}, LinkConfig{})
		ca, cb := mustListen(t, a, 1), mustListen(t, b, 2)
		for range RecvQueuePackets + 100 {
			mustWrite(t, ca, []byte("data"), cb)
		}
		ca.WriteTo([]byte("nobody"), net.UDPAddrFromAddrPort(netip.AddrPortFrom(addrB, 9)))
		ca.WriteTo([]byte("nohost"), net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr6, 9)))
		synctest.Wait()
		time.Sleep(time.Millisecond)
		hb := b.Stats()
		if hb.Delivered.Packets != RecvQueuePackets || hb.DroppedRcvBuf.Packets != 100 {
			t.Errorf("delivered %d, receive-queue drops %d; want %d and 100",
				hb.Delivered.Packets, hb.DroppedRcvBuf.Packets, RecvQueuePackets)
		}
		if hb.DroppedNoListener.Packets != 1 || a.Stats().DroppedNoListener.Packets != 1 {
			t.Errorf("no-listener drops: %d at the destination, %d at the sender; want 1 and 1",
				hb.DroppedNoListener.Packets, a.Stats().DroppedNoListener.Packets)
		}
		s := n.Stats()
		if s.Sent.Plus(s.Duplicated) != s.Delivered.Plus(s.Dropped()) {
			t.Errorf("stats do not balance: %+v", s)
		}
		// The queue drains in order.
		buf := make([]byte, 10)
		for range RecvQueuePackets {
			if nr, _, err := cb.ReadFrom(buf); err != nil || nr != 4 {
				t.Fatalf("ReadFrom = %d, %v", nr, err)
			}
		}
	})
}

func TestListenAndAddresses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := New(1)
		defer n.Close()
		h := n.AddHost(addr6, LinkConfig{}, LinkConfig{})
		c1 := mustListen(t, h, 0)
		c2 := mustListen(t, h, 0)
		if c1.LocalAddrPort().Port() != firstEphemeralPort || c2.LocalAddrPort().Port() != firstEphemeralPort+1 {
			t.Errorf("ephemeral ports %v, %v", c1.LocalAddr(), c2.LocalAddr())
		}
		if _, err := h.Listen(c1.LocalAddrPort().Port()); !errors.Is(err, ErrPortInUse) {
			t.Errorf("Listen on a used port: %v, want ErrPortInUse", err)
		}
		if ua, ok := c1.LocalAddr().(*net.UDPAddr); !ok || ua.AddrPort() != c1.LocalAddrPort() {
			t.Errorf("LocalAddr = %#v", c1.LocalAddr())
		}

		// ListenUDP creates the host; IPv4-mapped addresses name the IPv4 host.
		c4, err := n.ListenUDP(netip.MustParseAddrPort("[::ffff:192.0.2.1]:7"))
		if err != nil {
			t.Fatal(err)
		}
		if got := c4.LocalAddrPort(); got != netip.MustParseAddrPort("192.0.2.1:7") {
			t.Errorf("ListenUDP bound %v", got)
		}
		if n.Host(netip.MustParseAddr("192.0.2.1")) == nil {
			t.Error("ListenUDP did not create the host")
		}
		if _, err := n.ListenUDP(netip.MustParseAddrPort("0.0.0.0:7")); err == nil {
			t.Error("ListenUDP on the unspecified address succeeded")
		}

		// Addresses in other net.Addr forms, and bad ones.
		mustWrite(t, c4, []byte("hi"), c1)
		if _, err := c1.WriteTo([]byte("x"), stringAddr("192.0.2.1:7")); err != nil {
			t.Errorf("WriteTo a non-UDPAddr: %v", err)
		}
		if _, err := c1.WriteTo([]byte("x"), stringAddr("garbage")); err == nil {
			t.Error("WriteTo an unparsable address succeeded")
		}
		if _, err := c1.WriteTo([]byte("x"), nil); err == nil {
			t.Error("WriteTo nil succeeded")
		}
		if _, err := c1.WriteTo(make([]byte, MaxDatagram+1), c4.LocalAddr()); err == nil {
			t.Error("WriteTo of an oversized datagram succeeded")
		}
		buf := make([]byte, 1)
		if nr, from, err := c1.ReadFrom(buf); err != nil || nr != 1 || buf[0] != 'h' || from.String() != "192.0.2.1:7" {
			t.Errorf("truncated ReadFrom = %d %q from %v, %v", nr, buf[:nr], from, err)
		}
		if nr, _, err := c4.ReadFrom(buf); err != nil || nr != 1 {
			t.Errorf("ReadFrom = %d, %v", nr, err)
		}
	})
}

type stringAddr string

func (a stringAddr) Network() string { return "udp" }
func (a stringAddr) String() string  { return string(a) }
