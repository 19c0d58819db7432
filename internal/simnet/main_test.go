package simnet

import (
	"net/netip"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var (
	addrA = netip.MustParseAddr("10.0.0.1")
	addrB = netip.MustParseAddr("10.0.0.2")
	addr6 = netip.MustParseAddr("2001:db8::1")
)

func mustListen(t *testing.T, h *Host, port uint16) *Conn {
	t.Helper()
	c, err := h.Listen(port)
	if err != nil {
		t.Fatalf("Listen(%d) on %v: %v", port, h.Addr(), err)
	}
	return c
}

func mustWrite(t *testing.T, c *Conn, b []byte, to *Conn) {
	t.Helper()
	if _, err := c.WriteTo(b, to.LocalAddr()); err != nil {
		t.Fatalf("WriteTo %v: %v", to.LocalAddr(), err)
	}
}
