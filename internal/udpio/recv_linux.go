package udpio

import (
	"net/netip"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// reader holds everything one recvmmsg call needs, allocated once. Message i
// receives into buf[i*bufSize:], names[i] and ctrl[i*rxCtrlLen:]; those
// pointers are fixed at init, and only lengths are reset before each call.
type reader struct {
	hdrs    [maxBatch]unix.Mmsghdr
	iovs    [maxBatch]unix.Iovec
	names   [maxBatch]rawSockaddr
	ctrl    []byte
	buf     []byte
	bufSize int
	gro     bool

	recv func(fd uintptr) bool // s.recvmmsg, bound once so a read allocates nothing

	// Results of the last recv call.
	n     int
	errno syscall.Errno
	calls uint64
}

func (r *reader) init(s *sysConn) {
	r.gro = s.gro
	r.bufSize = readBufSize
	if r.gro {
		r.bufSize = groBufSize
	}
	r.buf = make([]byte, maxBatch*r.bufSize)
	r.ctrl = make([]byte, maxBatch*rxCtrlLen)
	for i := range r.hdrs {
		r.iovs[i].Base = &r.buf[i*r.bufSize]
		r.iovs[i].SetLen(r.bufSize)
		h := &r.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		h.Iov = &r.iovs[i]
		h.SetIovlen(1)
		if r.gro {
			h.Control = &r.ctrl[i*rxCtrlLen]
		}
	}
	r.recv = s.recvmmsg
}

// reset restores the in-out lengths the kernel overwrote in the last call.
func (r *reader) reset() {
	for i := range r.hdrs {
		h := &r.hdrs[i]
		h.Len = 0
		h.Hdr.Namelen = uint32(unsafe.Sizeof(r.names[i]))
		h.Hdr.Flags = 0
		if r.gro {
			h.Hdr.SetControllen(rxCtrlLen)
		}
	}
}

// recvmmsg is the RawConn read callback: false asks the netpoller to wait
// for the socket to become readable.
//
// The socket is non-blocking, so the call never waits, and it is made raw,
// without telling the Go scheduler. Announcing it costs more than the call
// on a node that sleeps between bursts of datagrams: the first announced
// call after a sleep wakes the runtime's monitor thread (sysmon), which
// then polls every 20 µs for a while, and with one P (GOMAXPROCS=1) a call
// that outlasts one poll has its P handed to another thread. In the lab's
// flashcrowd, 31 nodes on 2 cores, that monitor took a fifth of the
// machine.
func (s *sysConn) recvmmsg(fd uintptr) bool {
	r := &s.r
	for {
		r.calls++
		n, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])), maxBatch, 0, 0, 0)
		switch e {
		case 0:
			r.n, r.errno = int(n), 0
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		default:
			r.n, r.errno = 0, e
			return true
		}
	}
}

// readBatch waits for datagrams and hands them to fn. It loops only if
// every message received was dropped as truncated, so that a return without
// error always means at least one call of fn.
func (s *sysConn) readBatch(c *Conn, fn func([]byte, netip.AddrPort)) error {
	r := &s.r
	for {
		r.reset()
		r.calls = 0
		err := s.rc.Read(r.recv)
		t := tally{syscalls: r.calls}
		if err == nil && r.errno != 0 {
			err = c.opError("read", netip.AddrPort{}, os.NewSyscallError("recvmmsg", r.errno))
		}
		if err == nil {
			r.deliver(fn, &t)
		}
		c.stats.addRead(&t)
		if err != nil || t.datagrams > 0 {
			return err
		}
	}
}

// deliver calls fn for every datagram of the last recvmmsg, splitting GRO
// messages at their segment size.
func (r *reader) deliver(fn func([]byte, netip.AddrPort), t *tally) {
	for i := 0; i < r.n; i++ {
		h := &r.hdrs[i]
		flags := h.Hdr.Flags
		// A truncated datagram is not the one that was sent; with GRO, a
		// truncated control message leaves the segment size unknown.
		if flags&unix.MSG_TRUNC != 0 || r.gro && flags&unix.MSG_CTRUNC != 0 {
			t.truncated++
			continue
		}
		off := i * r.bufSize
		n := min(int(h.Len), r.bufSize)
		b := r.buf[off : off+n : off+n]
		from := addrPortFromSockaddr(&r.names[i])
		seg := 0
		if r.gro {
			cl := min(int(h.Hdr.Controllen), rxCtrlLen)
			seg = groSegmentSize(r.ctrl[i*rxCtrlLen : i*rxCtrlLen+cl])
		}
		k := splitGRO(b, seg, from, fn)
		if k > 1 {
			t.gro++
		}
		t.datagrams += k
		t.bytes += uint64(n)
	}
}
