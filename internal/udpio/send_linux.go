package udpio

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// writer holds everything one sendmmsg call needs, allocated once. The
// iovecs point straight at the callers' packet bytes, so nothing is copied;
// release drops those pointers after each batch.
type writer struct {
	hdrs  [maxBatch]unix.Mmsghdr
	names [maxBatch]rawSockaddr
	iovs  [maxBatch * maxGSOSegments]unix.Iovec
	ctrl  []byte // maxBatch slots of txCtrlLen bytes

	// Per message of the current call: one past the index of its last
	// packet, its payload bytes, and whether it is a GSO train.
	ends  [maxBatch]int
	bytes [maxBatch]int
	isGSO [maxBatch]bool
	nmsg  int
	niov  int // iovecs holding caller pointers, for release

	send func(fd uintptr) bool // s.sendmmsg, bound once so a write allocates nothing

	// Results of the last send call.
	n     int
	errno syscall.Errno
	calls uint64
}

func (w *writer) init(s *sysConn) {
	w.ctrl = make([]byte, maxBatch*txCtrlLen)
	for i := range w.hdrs {
		w.hdrs[i].Hdr.Name = (*byte)(unsafe.Pointer(&w.names[i]))
	}
	w.send = s.sendmmsg
}

// build fills messages for pkts[i:], at most maxBatch of them. Packets at
// indexes below noGSOBefore are sent one per message. It stops before a
// packet whose address cannot be encoded, and returns that error only when
// that packet is pkts[i].
func (w *writer) build(pkts []Packet, i, family int, gso bool, noGSOBefore int) error {
	w.nmsg = 0
	iov := 0
	for p := i; p < len(pkts) && w.nmsg < maxBatch; {
		m := w.nmsg
		namelen, err := putSockaddr(&w.names[m], pkts[p].Addr, family)
		if err != nil {
			if m == 0 {
				return err
			}
			break
		}
		run := 1
		if gso && p >= noGSOBefore {
			run = gsoRun(pkts[p:])
		}
		h := &w.hdrs[m]
		h.Len = 0
		h.Hdr.Namelen = namelen
		h.Hdr.Flags = 0
		h.Hdr.Iov = &w.iovs[iov]
		h.Hdr.SetIovlen(run)
		size := 0
		for _, pk := range pkts[p : p+run] {
			v := &w.iovs[iov]
			v.Base = nil
			if len(pk.B) > 0 {
				v.Base = &pk.B[0]
			}
			v.SetLen(len(pk.B))
			size += len(pk.B)
			iov++
		}
		if run > 1 {
			c := w.ctrl[m*txCtrlLen : (m+1)*txCtrlLen]
			h.Hdr.Control = &c[0]
			h.Hdr.SetControllen(putSegmentSize(c, uint16(len(pkts[p].B))))
		} else {
			h.Hdr.Control = nil
			h.Hdr.SetControllen(0)
		}
		p += run
		w.ends[m], w.bytes[m], w.isGSO[m] = p, size, run > 1
		w.nmsg++
	}
	w.niov = max(w.niov, iov)
	return nil
}

// release drops the pointers into callers' buffers so the Conn does not keep
// them alive.
func (w *writer) release() {
	for i := range w.iovs[:w.niov] {
		w.iovs[i].Base = nil
	}
	w.niov = 0
}

// sendmmsg is the RawConn write callback: false asks the netpoller to wait
// for the socket to become writable. The kernel reports an error only when
// no message was sent, so a set errno is always about message 0. Like
// recvmmsg, it never waits and is made raw.
func (s *sysConn) sendmmsg(fd uintptr) bool {
	w := &s.w
	for {
		w.calls++
		n, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&w.hdrs[0])), uintptr(w.nmsg), 0, 0, 0)
		switch e {
		case 0:
			w.n, w.errno = int(n), 0
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		default:
			w.n, w.errno = 0, e
			return true
		}
	}
}

// writeBatch implements WriteBatch and WriteTo on the batch path.
func (s *sysConn) writeBatch(c *Conn, pkts []Packet) error {
	w := &s.w
	var (
		t           tally
		first       error
		noGSOBefore int  // packets below this index go without GSO after a refused train
		retried     = -1 // index of the packet already resent after ECONNREFUSED
	)
	defer func() {
		w.release()
		c.stats.addWrite(&t)
	}()
	for i := 0; i < len(pkts); {
		if err := w.build(pkts, i, s.family, s.gso.Load(), noGSOBefore); err != nil {
			t.sendErrs++
			if first == nil {
				first = c.opError("write", pkts[i].Addr, err)
			}
			i++
			continue
		}
		w.calls = 0
		err := s.rc.Write(w.send)
		t.syscalls += w.calls
		if err != nil {
			return err // closed, or the write deadline passed
		}
		for m := 0; m < w.n; m++ {
			t.datagrams += uint64(w.ends[m] - i)
			t.bytes += uint64(w.bytes[m])
			if w.isGSO[m] {
				t.gso++
			}
			i = w.ends[m]
		}
		if w.n == 0 && w.errno == 0 {
			w.errno = unix.ENOBUFS // nothing sent and no reason given: skip, never spin
		}
		if w.errno == 0 {
			continue // all sent, or a partial send to be continued from i
		}
		// Message 0 of this call failed: pkts[i:w.ends[0]].
		e, end := w.errno, w.ends[0]
		switch {
		case e == unix.EIO && w.isGSO[0]:
			// The route's device cannot checksum GSO trains; stop using
			// GSO on this socket and resend these packets without it.
			s.gso.Store(false)
			continue
		case (e == unix.EINVAL || e == unix.EMSGSIZE) && w.isGSO[0]:
			// The segment size does not fit this route's MTU, though
			// each datagram alone may still go (fragmented).
			noGSOBefore = end
			continue
		case e == unix.ECONNREFUSED:
			t.refused++
			if retried != i {
				retried = i
				continue // the error was about an earlier datagram: send this one again
			}
		default:
			t.sendErrs += uint64(end - i)
			if first == nil {
				first = c.opError("write", pkts[i].Addr, os.NewSyscallError("sendmmsg", e))
			}
		}
		i = end
	}
	return first
}
