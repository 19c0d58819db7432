package udpio

import (
	"net"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

const (
	// maxBatch is the number of messages one recvmmsg or sendmmsg call
	// carries.
	maxBatch = 64
	// readBufSize holds any datagram of an Ethernet-sized path with room to
	// spare; larger datagrams are dropped and counted in Stats.Truncated.
	readBufSize = 2048
	// groBufSize holds the largest message GRO can build (a full 64 KiB UDP
	// payload).
	groBufSize = 64 << 10
)

// sysConn is the Linux batch path: recvmmsg and sendmmsg on the socket's own
// descriptor, reached through syscall.RawConn so that the Go netpoller does
// the blocking (and so deadlines and Close work as for any net.Conn).
type sysConn struct {
	rc     syscall.RawConn
	family int         // AF_INET or AF_INET6: the socket's, which fixes the sockaddr format
	gro    bool        // UDP_GRO is on: read buffers are groBufSize and carry a segment size
	gso    atomic.Bool // UDP_SEGMENT works; cleared for good when a device refuses it

	r reader // guarded by Conn.rmu
	w writer // guarded by Conn.wmu
}

// newSys probes the socket once and returns nil if it cannot be driven
// directly, in which case the Conn uses the portable path.
func newSys(uc *net.UDPConn, want features) *sysConn {
	rc, err := uc.SyscallConn()
	if err != nil {
		return nil
	}
	s := &sysConn{rc: rc}
	var gso bool
	cerr := rc.Control(func(fd uintptr) {
		sa, err := unix.Getsockname(int(fd))
		if err != nil {
			return
		}
		switch sa.(type) {
		case *unix.SockaddrInet4:
			s.family = unix.AF_INET
		case *unix.SockaddrInet6:
			s.family = unix.AF_INET6
		default:
			return
		}
		if want.gso {
			// Reading the option succeeds exactly on kernels that
			// accept UDP_SEGMENT as a per-message option too.
			_, err := unix.GetsockoptInt(int(fd), unix.IPPROTO_UDP, unix.UDP_SEGMENT)
			gso = err == nil
		}
		if want.gro {
			s.gro = unix.SetsockoptInt(int(fd), unix.IPPROTO_UDP, unix.UDP_GRO, 1) == nil
		}
	})
	if cerr != nil || s.family == 0 {
		return nil
	}
	s.gso.Store(gso)
	s.r.init(s)
	s.w.init(s)
	return s
}

func (s *sysConn) features() (gso, gro bool) { return s.gso.Load(), s.gro }
