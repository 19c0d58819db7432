package netlab

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/florianl/go-nfqueue/v2"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Stats counts what the router's packet queue did. When any host has delay,
// jitter or loss, every forwarded packet passes through the queue, so
// packets between unimpaired hosts count as Queued too.
type Stats struct {
	Queued    uint64 // packets the router handed to this process
	Delayed   uint64 // packets held before being let through
	Dropped   uint64 // packets dropped for Loss
	Overflows uint64 // packets that bypassed delay and loss because a queue was full
	// Late counts packets let through more than LateAfter after they were
	// due, because the kernel or this process fell behind on a busy machine.
	Late uint64
	Held int // packets held right now
}

// LateAfter is how far past its due time a packet counts as Late.
const LateAfter = time.Millisecond

// DefaultMaxHeld is Options.MaxHeld when it is 0.
const DefaultMaxHeld = 1 << 16

const (
	queueNum = 0 // nfqueue numbers are per namespace: every router has its own
	// rcvBuf is the queue socket's receive buffer. A queued packet takes
	// well under 1 KiB of it in metadata-only copy mode.
	rcvBuf = 8 << 20
	// maxBatch bounds the packets read, and the verdicts sent, per round of
	// the router loop.
	maxBatch = 1024
	// rtPriority is the SCHED_FIFO priority of the router thread.
	rtPriority = 10
	// lazyMinDelay is the smallest path delay at which the loop reads the
	// queue socket on a schedule instead of on every arrival.
	lazyMinDelay = int64(time.Millisecond)
)

// Message and attribute types of include/uapi/linux/netfilter/nfnetlink_queue.h.
const (
	nfqnlMsgPacket  = 0
	nfqnlMsgVerdict = 1
	nfqnlMsgConfig  = 2

	nfqaPacketHdr  = 1
	nfqaVerdictHdr = 2
	nfqaTimestamp  = 4 // struct nfqnl_msg_packet_timestamp: seconds, microseconds
	nfqaInDev      = 5
	nfqaOutDev     = 6

	nfqaCfgCmd      = 1
	nfqaCfgParams   = 2
	nfqaCfgQueueMax = 3
	nfqaCfgMask     = 4
	nfqaCfgFlags    = 5

	nfqnlCfgCmdBind = 1

	nlaTypeMask = 0x3fff // clears NLA_F_NESTED and NLA_F_NET_BYTEORDER
)

// router applies delay, jitter and loss to the packets the router namespace
// forwards. Its iptables FORWARD chain hands every packet to nfqueue
// queueNum (metadata only), and one goroutine, locked to an OS thread with
// real-time priority (unless Options.NoRealtime), does all the work: it waits in poll(2) on the queue
// socket and a timerfd, decides each new packet's fate, holds delayed
// packets in a heap, and sends the verdicts that are due, many per system
// call and in any order. Real-time priority and the timerfd keep releases
// within tens of microseconds of their time even when the machine is busy
// (a Go timer may fire a millisecond late, and an ordinary thread waits for
// the CPU behind every other runnable one).
//
// A packet's delay counts from its arrival at the router, which the kernel
// stamps (a socket with SO_TIMESTAMPNS turns stamping on). That allows
// lazy reading: while packets are held and every path delays by at least
// minDelay ≥ lazyMinDelay, the loop stops watching the socket and reads it
// on its timer, at least every minDelay/2, so a packet is always read before
// it is due and a busy router wakes once per batch rather than once per
// packet.
//
// The go-nfqueue package opens the socket; the loop reads and writes it
// directly, because that package's receive loop runs on an ordinary
// goroutine and allocates for every packet.
type router struct {
	log    *slog.Logger
	nfq    *nfqueue.Nfqueue
	fd     int // dup of the queue socket, read and written by the loop only
	tfd    int // timerfd for the next release
	stopfd int // eventfd: Close writes it to stop the loop
	tsfd   int // socket with SO_TIMESTAMPNS, kept open so that packets are stamped
	done   chan struct{}

	// Owned by the loop goroutine.
	base     time.Time
	links    map[uint32]*HostSpec // by router-side interface index
	maxHeld  int
	realtime bool
	minDelay int64 // smallest delay of any path, in nanoseconds
	shaper   *shaper
	held     pktHeap
	armed    int64 // time the timerfd is set for; 0 when disarmed
	seq      uint64
	lastID   uint32
	out      []byte // verdicts to send
	// readNow and readWall are the router clock and the wall clock
	// (Unix nanoseconds) when the current read began; lastRead is readNow
	// of the last read that emptied the socket.
	readNow, readWall, lastRead int64
	backlog                     bool // the last read left packets in the socket
	stamped                     bool // the last packet read had an arrival time

	queued, delayed, dropped, overflows, late atomic.Uint64
	nheld                                     atomic.Int64
}

type routerOptions struct {
	maxHeld  int
	seed     uint64
	realtime bool // run the loop's thread with SCHED_FIFO priority
}

// startRouter opens queue queueNum in namespace ns and starts the loop.
// links maps the router's interface indexes to host specs.
func startRouter(ns string, links map[uint32]*HostSpec, opts routerOptions, log *slog.Logger) (_ *router, err error) {
	r := &router{
		log:      log,
		fd:       -1,
		tfd:      -1,
		stopfd:   -1,
		tsfd:     -1,
		done:     make(chan struct{}),
		base:     time.Now(),
		links:    links,
		maxHeld:  opts.maxHeld,
		realtime: opts.realtime,
		minDelay: minPathDelay(links),
		shaper:   newShaper(opts.seed),
	}
	err = doIn(ns, func() error {
		var err error
		r.nfq, err = nfqueue.Open(&nfqueue.Config{NfQueue: queueNum})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("netlab: open nfqueue socket in %s: %w", ns, err)
	}
	defer func() {
		if err != nil {
			r.closeFDs()
		}
	}()
	if r.tsfd, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0); err != nil {
		return nil, fmt.Errorf("netlab: timestamp socket: %w", err)
	}
	if err = unix.SetsockoptInt(r.tsfd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return nil, fmt.Errorf("netlab: SO_TIMESTAMPNS: %w", err)
	}
	if err := r.configure(opts.maxHeld); err != nil {
		return nil, fmt.Errorf("netlab: configure nfqueue %d in %s: %w", queueNum, ns, err)
	}
	if r.tfd, err = unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_CLOEXEC|unix.TFD_NONBLOCK); err != nil {
		return nil, fmt.Errorf("netlab: timerfd_create: %w", err)
	}
	if r.stopfd, err = unix.Eventfd(0, unix.EFD_CLOEXEC); err != nil {
		return nil, fmt.Errorf("netlab: eventfd: %w", err)
	}
	go r.loop()
	return r, nil
}

// configure binds the socket to the queue and sets its parameters; see
// nfqnl_recv_config in net/netfilter/nfnetlink_queue.c.
func (r *router) configure(maxHeld int) error {
	be32 := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	// Fail open: a full queue lets packets through instead of dropping
	// them. GSO: whole GSO packets are queued rather than segmented first;
	// their contents are never looked at.
	flags := uint32(nfqueue.NfQaCfgFlagFailOpen | nfqueue.NfQaCfgFlagGSO)
	for _, attrs := range [][]netlink.Attribute{
		{{Type: nfqaCfgCmd, Data: []byte{nfqnlCfgCmdBind, 0, 0, unix.AF_INET}}},
		{
			// Copy metadata only (copy range 0).
			{Type: nfqaCfgParams, Data: append(be32(0), nfqueue.NfQnlCopyMeta)},
			// Above maxHeld, so that the kernel's queue overflows only
			// when the loop falls behind reading.
			{Type: nfqaCfgQueueMax, Data: be32(uint32(2 * maxHeld))},
			{Type: nfqaCfgFlags, Data: be32(flags)},
			{Type: nfqaCfgMask, Data: be32(flags)},
		},
	} {
		data, err := netlink.MarshalAttributes(attrs)
		if err != nil {
			return err
		}
		_, err = r.nfq.Con.Execute(netlink.Message{
			Header: netlink.Header{
				Type:  netlink.HeaderType(unix.NFNL_SUBSYS_QUEUE<<8 | nfqnlMsgConfig),
				Flags: netlink.Request | netlink.Acknowledge,
			},
			Data: append(nfgenmsg(), data...),
		})
		if err != nil {
			return err
		}
	}
	if err := r.nfq.SetOption(netlink.NoENOBUFS, true); err != nil {
		return fmt.Errorf("NETLINK_NO_ENOBUFS: %w", err)
	}
	rc, err := r.nfq.Con.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvBuf); serr != nil {
			serr = fmt.Errorf("SO_RCVBUFFORCE %d: %w", rcvBuf, serr)
			return
		}
		// The socket is non-blocking; the loop waits for it in poll(2).
		if r.fd, serr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0); serr != nil {
			serr = fmt.Errorf("dup: %w", serr)
		}
	})
	return errors.Join(err, serr)
}

// minPathDelay returns the smallest delay of a path between two different
// hosts: min over A ≠ B of A's Up delay plus B's Down delay.
func minPathDelay(links map[uint32]*HostSpec) int64 {
	specs := make([]*HostSpec, 0, len(links))
	for _, h := range links {
		specs = append(specs, h)
	}
	best := time.Duration(-1)
	// The two smallest Up and Down delays suffice: if one host has both
	// minima, the best path pairs one of them with the other's runner-up.
	ups, downs := smallest2(specs, func(h *HostSpec) time.Duration { return h.Up.Delay }),
		smallest2(specs, func(h *HostSpec) time.Duration { return h.Down.Delay })
	for _, u := range ups {
		for _, d := range downs {
			if u != d && (best < 0 || specs[u].Up.Delay+specs[d].Down.Delay < best) {
				best = specs[u].Up.Delay + specs[d].Down.Delay
			}
		}
	}
	return int64(max(best, 0))
}

// smallest2 returns the indexes of the (up to) two hosts with the smallest
// f.
func smallest2(specs []*HostSpec, f func(*HostSpec) time.Duration) []int {
	var idx []int
	for i := range specs {
		switch {
		case len(idx) < 2:
			idx = append(idx, i)
			if len(idx) == 2 && f(specs[idx[1]]) < f(specs[idx[0]]) {
				idx[0], idx[1] = idx[1], idx[0]
			}
		case f(specs[i]) < f(specs[idx[0]]):
			idx[0], idx[1] = i, idx[0]
		case f(specs[i]) < f(specs[idx[1]]):
			idx[1] = i
		}
	}
	return idx
}

// nfgenmsg returns struct nfgenmsg for queueNum: family, version, and the
// queue number in network byte order.
func nfgenmsg() []byte {
	return []byte{unix.AF_UNSPEC, unix.NFNETLINK_V0, queueNum >> 8, queueNum & 0xff}
}

// now is the router's clock: nanoseconds since start, monotonic.
func (r *router) now() int64 { return int64(time.Since(r.base)) }

func (r *router) loop() {
	defer close(r.done)
	// The thread stays locked until the goroutine ends, so the runtime
	// discards it rather than reusing a real-time thread for other work.
	runtime.LockOSThread()
	if r.realtime {
		attr := unix.SchedAttr{Policy: unix.SCHED_FIFO, Priority: rtPriority}
		if err := unix.SchedSetAttr(0, &attr, 0); err != nil {
			r.log.Info("netlab: router thread runs without real-time priority; delays may be late on a busy machine", "err", err)
		}
	}
	fds := []unix.PollFd{
		{Fd: int32(r.fd), Events: unix.POLLIN},
		{Fd: int32(r.tfd), Events: unix.POLLIN},
		{Fd: int32(r.stopfd), Events: unix.POLLIN},
	}
	m := newMmsgs()
	var tick [8]byte
	for {
		lazy := r.stamped && !r.backlog && len(r.held) > 0 && r.minDelay >= lazyMinDelay
		fds[0].Fd = int32(r.fd)
		if lazy {
			fds[0].Fd = -1 // poll ignores negative descriptors
		}
		r.arm(lazy)
		if _, err := unix.Poll(fds, -1); err != nil && err != unix.EINTR {
			r.log.Error("netlab: router poll; delay and loss stop", "err", err)
			return
		}
		if fds[2].Revents != 0 {
			return
		}
		if fds[1].Revents != 0 {
			unix.Read(r.tfd, tick[:]) // clears the expiry
			r.armed = 0               // a one-shot timer that fired is disarmed
		}
		if lazy || fds[0].Revents != 0 {
			r.read(m)
		}
		r.release()
		r.flush()
	}
}

// read handles the packets waiting in the queue socket, up to maxBatch,
// readBatch of them per recvmmsg call: the loop's system calls cost more
// than its work, and one read per packet made the router the busiest
// process of a large lab.
func (r *router) read(m *mmsgs) {
	t := time.Now()
	r.readNow, r.readWall = int64(t.Sub(r.base)), t.UnixNano()
	r.backlog = true
	for got := 0; got < maxBatch; {
		n, err := m.recv(r.fd)
		if err == unix.EINTR {
			continue
		}
		if err != nil && err != unix.EAGAIN {
			r.log.Debug("netlab: read nfqueue", "err", err)
		}
		for i := range n {
			r.parse(m.msg(i))
		}
		got += n
		if err != nil || n < readBatch {
			// The socket is empty (a short batch means a further call
			// would find nothing).
			r.backlog = false
			r.lastRead = r.readNow
			return
		}
	}
}

// readBatch is how many queue messages one recvmmsg call reads, and
// readMsgSize the buffer for each: a queued packet's metadata, in
// metadata-only copy mode, is well under it.
const (
	readBatch   = 64
	readMsgSize = 4 << 10
)

// mmsgs holds the buffers of recvmmsg, set up once.
type mmsgs struct {
	hdrs [readBatch]unix.Mmsghdr
	iovs [readBatch]unix.Iovec
	buf  []byte
}

func newMmsgs() *mmsgs {
	m := &mmsgs{buf: make([]byte, readBatch*readMsgSize)}
	for i := range m.hdrs {
		m.iovs[i].Base = &m.buf[i*readMsgSize]
		m.iovs[i].SetLen(readMsgSize)
		m.hdrs[i].Hdr.Iov = &m.iovs[i]
		m.hdrs[i].Hdr.SetIovlen(1)
	}
	return m
}

// recv reads up to readBatch messages from the non-blocking socket fd. The
// call never waits, so it is made raw, without telling the scheduler.
func (m *mmsgs) recv(fd int) (int, error) {
	for i := range m.hdrs {
		m.hdrs[i].Len = 0
		m.hdrs[i].Hdr.Flags = 0
	}
	n, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&m.hdrs[0])), readBatch, unix.MSG_DONTWAIT, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// msg returns message i of the last recv.
func (m *mmsgs) msg(i int) []byte {
	return m.buf[i*readMsgSize:][:min(int(m.hdrs[i].Len), readMsgSize)]
}

// arm sets the timerfd for the next release or, when lazy, for the next
// read if that comes first.
func (r *router) arm(lazy bool) {
	next := int64(0)
	if len(r.held) > 0 {
		next = r.held[0].at
	}
	if lazy {
		next = min(next, r.lastRead+r.minDelay/2)
	}
	if next == r.armed {
		return
	}
	var spec unix.ItimerSpec // zero disarms
	if next != 0 {
		spec.Value = unix.NsecToTimespec(max(next-r.now(), 1))
	}
	if err := unix.TimerfdSettime(r.tfd, 0, &spec, nil); err != nil {
		r.log.Error("netlab: timerfd_settime", "err", err)
	}
	r.armed = next
}

// parse handles the netlink messages in b.
func (r *router) parse(b []byte) {
	for len(b) >= unix.NLMSG_HDRLEN {
		l := int(binary.NativeEndian.Uint32(b))
		if l < unix.NLMSG_HDRLEN || l > len(b) {
			return
		}
		typ := binary.NativeEndian.Uint16(b[4:])
		switch typ {
		case unix.NFNL_SUBSYS_QUEUE<<8 | nfqnlMsgPacket:
			if l >= unix.NLMSG_HDRLEN+4 { // nlmsghdr, nfgenmsg, attributes
				r.packet(b[unix.NLMSG_HDRLEN+4 : l])
			}
		case unix.NLMSG_ERROR:
			// The kernel answers a verdict for a packet it no longer
			// holds with an error; nothing to do.
			if l >= unix.NLMSG_HDRLEN+4 {
				errno := -int32(binary.NativeEndian.Uint32(b[unix.NLMSG_HDRLEN:]))
				if errno != 0 {
					r.log.Debug("netlab: nfqueue error", "err", unix.Errno(errno))
				}
			}
		}
		b = b[min(nlmsgAlign(l), len(b)):]
	}
}

func nlmsgAlign(n int) int { return (n + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }

// packet handles one queued packet's attributes.
func (r *router) packet(attrs []byte) {
	var id, in, out uint32
	var stamp int64 // arrival, Unix nanoseconds
	haveID := false
	for len(attrs) >= 4 {
		l := int(binary.NativeEndian.Uint16(attrs))
		typ := binary.NativeEndian.Uint16(attrs[2:]) & nlaTypeMask
		if l < 4 || l > len(attrs) {
			break
		}
		v := attrs[4:l]
		switch {
		case typ == nfqaPacketHdr && len(v) >= 4:
			id, haveID = binary.BigEndian.Uint32(v), true
		case typ == nfqaInDev && len(v) >= 4:
			in = binary.BigEndian.Uint32(v)
		case typ == nfqaTimestamp && len(v) >= 16:
			be := binary.BigEndian
			stamp = int64(be.Uint64(v))*1e9 + int64(be.Uint64(v[8:]))*1e3
		case typ == nfqaOutDev && len(v) >= 4:
			out = binary.BigEndian.Uint32(v)
		}
		attrs = attrs[min(nlmsgAlign(l), len(attrs)):]
	}
	if !haveID {
		return
	}
	// Packet ids count up by one per queued packet. A gap means the kernel
	// could not deliver some to the socket and let them through (fail open).
	if id > r.lastID+1 {
		r.overflows.Add(uint64(id - r.lastID - 1))
	}
	r.lastID = id
	r.queued.Add(1)

	var up, down *Link
	if h := r.links[in]; h != nil {
		up = &h.Up
	}
	if h := r.links[out]; h != nil {
		down = &h.Down
	}
	// The arrival time on the router clock; the read time if the kernel did
	// not stamp the packet or the stamp is implausible.
	arrival := r.readNow
	lag := r.readWall - stamp
	r.stamped = stamp != 0 && lag >= 0 && lag < int64(time.Second)
	if r.stamped {
		arrival -= lag
	}
	at, drop := r.shaper.decide(arrival, uint64(in)<<32|uint64(out), up, down)
	switch {
	case drop:
		r.dropped.Add(1)
		r.verdict(id, nfqueue.NfDrop)
	case at <= r.readNow:
		if r.readNow-at > int64(LateAfter) {
			r.late.Add(1)
		}
		r.verdict(id, nfqueue.NfAccept)
	case len(r.held) >= r.maxHeld:
		r.overflows.Add(1)
		r.verdict(id, nfqueue.NfAccept)
	default:
		r.seq++
		r.held.push(heldPkt{at: at, seq: r.seq, id: id})
		r.delayed.Add(1)
	}
}

// release lets through the held packets that are due.
func (r *router) release() {
	now := r.now()
	for len(r.held) > 0 && r.held[0].at <= now {
		p := r.held.pop()
		if now-p.at > int64(LateAfter) {
			r.late.Add(1)
		}
		r.verdict(p.id, nfqueue.NfAccept)
	}
	r.nheld.Store(int64(len(r.held)))
}

// verdictLen is the length of one verdict message: nlmsghdr, nfgenmsg and
// an NFQA_VERDICT_HDR attribute holding struct nfqnl_msg_verdict_hdr.
const verdictLen = unix.NLMSG_HDRLEN + 4 + 4 + 8

// verdict queues a verdict for packet id; flush sends them.
func (r *router) verdict(id uint32, verdict int) {
	if len(r.out)/verdictLen >= maxBatch {
		r.flush()
	}
	var m [verdictLen]byte
	ne, be := binary.NativeEndian, binary.BigEndian
	ne.PutUint32(m[0:], verdictLen)
	ne.PutUint16(m[4:], unix.NFNL_SUBSYS_QUEUE<<8|nfqnlMsgVerdict)
	ne.PutUint16(m[6:], unix.NLM_F_REQUEST)
	// sequence number and port id stay 0
	copy(m[16:], nfgenmsg())
	ne.PutUint16(m[20:], 12) // nla_len
	ne.PutUint16(m[22:], nfqaVerdictHdr)
	be.PutUint32(m[24:], uint32(verdict))
	be.PutUint32(m[28:], id)
	r.out = append(r.out, m[:]...)
}

// flush sends the queued verdicts in one system call; the kernel handles
// every message of the datagram.
func (r *router) flush() {
	if len(r.out) == 0 {
		return
	}
	for {
		_, err := unix.Write(r.fd, r.out)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			r.log.Warn("netlab: send nfqueue verdicts", "count", len(r.out)/verdictLen, "err", err)
		}
		break
	}
	r.out = r.out[:0]
}

func (r *router) stats() Stats {
	return Stats{
		Queued:    r.queued.Load(),
		Delayed:   r.delayed.Load(),
		Dropped:   r.dropped.Load(),
		Overflows: r.overflows.Load(),
		Late:      r.late.Load(),
		Held:      int(r.nheld.Load()),
	}
}

// close stops the loop and closes the queue. Packets still held are dropped
// by the kernel when the queue goes away.
func (r *router) close() error {
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	if _, err := unix.Write(r.stopfd, one[:]); err != nil {
		return fmt.Errorf("netlab: stop router: %w", err)
	}
	<-r.done
	return r.closeFDs()
}

func (r *router) closeFDs() error {
	for _, fd := range []int{r.fd, r.tfd, r.stopfd, r.tsfd} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
	if err := r.nfq.Close(); err != nil {
		return fmt.Errorf("netlab: close nfqueue: %w", err)
	}
	return nil
}
