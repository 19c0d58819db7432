//go:build !linux

package udpio

import (
	"errors"
	"net"
	"net/netip"
)

// sysConn is the batch path, which exists only on Linux; elsewhere newSys
// declines and every Conn uses the portable path.
type sysConn struct{}

func newSys(*net.UDPConn, features) *sysConn { return nil }

func (*sysConn) readBatch(*Conn, func([]byte, netip.AddrPort)) error {
	return errors.ErrUnsupported
}

func (*sysConn) writeBatch(*Conn, []Packet) error { return errors.ErrUnsupported }

func (*sysConn) features() (gso, gro bool) { return false, false }
