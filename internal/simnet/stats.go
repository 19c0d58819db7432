package simnet

import "time"

// Counter counts packets and their payload bytes.
type Counter struct {
	Packets uint64
	Bytes   uint64
}

func (c *Counter) add(size int) {
	c.Packets++
	c.Bytes += uint64(size)
}

// Plus returns the sum of c and d.
func (c Counter) Plus(d Counter) Counter {
	return Counter{Packets: c.Packets + d.Packets, Bytes: c.Bytes + d.Bytes}
}

// Stats counts what happened to datagrams. Once no packet is in flight,
// Sent + Duplicated = Delivered + Dropped().
type Stats struct {
	Sent       Counter // accepted by WriteTo
	Delivered  Counter // placed in a conn's receive queue
	Duplicated Counter // extra copies made by links with Dup > 0

	DroppedLoss       Counter // random loss on a link
	DroppedQueue      Counter // tail drop at a full rate-limited queue
	DroppedRcvBuf     Counter // receive queue of the destination conn was full
	DroppedNoListener Counter // no conn bound to the destination address
}

// Dropped is the total of all drop counters.
func (s Stats) Dropped() Counter {
	return s.DroppedLoss.Plus(s.DroppedQueue).Plus(s.DroppedRcvBuf).Plus(s.DroppedNoListener)
}

func (s Stats) plus(t Stats) Stats {
	return Stats{
		Sent:              s.Sent.Plus(t.Sent),
		Delivered:         s.Delivered.Plus(t.Delivered),
		Duplicated:        s.Duplicated.Plus(t.Duplicated),
		DroppedLoss:       s.DroppedLoss.Plus(t.DroppedLoss),
		DroppedQueue:      s.DroppedQueue.Plus(t.DroppedQueue),
		DroppedRcvBuf:     s.DroppedRcvBuf.Plus(t.DroppedRcvBuf),
		DroppedNoListener: s.DroppedNoListener.Plus(t.DroppedNoListener),
	}
}

// HostStats are the counters of one host plus the state of its queues.
//
// Sent counts datagrams written by the host's conns; Delivered and
// DroppedRcvBuf count datagrams addressed to them; DroppedLoss, DroppedQueue
// and Duplicated count what the host's own two links did; DroppedNoListener
// counts datagrams addressed to this host that found no conn (or, when the
// destination host does not exist, datagrams this host sent there).
type HostStats struct {
	Stats

	// UpQueueDelay is how long a packet written now would wait in the
	// uplink queue before its transmission starts; MaxUpQueueDelay is the
	// longest such wait any accepted packet has had.
	UpQueueDelay    time.Duration
	MaxUpQueueDelay time.Duration
	// DownQueueDelay and MaxDownQueueDelay are the same for the downlink.
	DownQueueDelay    time.Duration
	MaxDownQueueDelay time.Duration
}
