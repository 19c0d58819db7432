package node

import (
	"fmt"
	"net"
	"syscall"
)

// socketBuffer is the kernel buffer size we ask for: at several hundred MB/s
// a default 208 KiB receive buffer overflows between two reads.
const socketBuffer = 8 << 20

// ListenUDP opens the node's UDP socket on addr ("host:port") with large
// kernel buffers. As root the buffers may exceed the system maximum
// (SO_RCVBUFFORCE); otherwise they are capped by it.
func ListenUDP(addr string) (*net.UDPConn, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %w", addr, err)
	}
	c, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, err
	}
	c.SetReadBuffer(socketBuffer)
	c.SetWriteBuffer(socketBuffer)
	if rc, err := c.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, socketBuffer)
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUFFORCE, socketBuffer)
		})
	}
	return c, nil
}
