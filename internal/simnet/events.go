package simnet

import (
	"container/heap"
	"net/netip"
	"time"
)

// datagram is one packet in flight. data is never modified after WriteTo
// copied it, so duplicates share it.
type datagram struct {
	src, dst netip.AddrPort
	data     []byte
}

// Event kinds: a packet reaching the destination's downlink, and a packet
// leaving the downlink for the destination conn.
const (
	evArrive = iota
	evDeliver
)

type event struct {
	at   time.Time
	seq  uint64 // insertion order; breaks ties between equal times
	kind int
	d    datagram
}

// eventQueue is a min-heap ordered by (at, seq), so that events due at the
// same instant are processed in the order they were scheduled.
type eventQueue []event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = event{}
	*q = old[:len(old)-1]
	return e
}

// scheduleLocked queues an event and makes sure the timer fires for the
// earliest one.
func (n *Network) scheduleLocked(at time.Time, kind int, d datagram) {
	n.seq++
	heap.Push(&n.events, event{at: at, seq: n.seq, kind: kind, d: d})
	n.armLocked()
}

// armLocked points the timer at the earliest pending event.
//
// Invariant: whenever events is non-empty, the timer will fire no later than
// events[0].at (a spurious firing is harmless: fire only processes what is
// due and re-arms).
func (n *Network) armLocked() {
	if len(n.events) == 0 {
		return
	}
	at := n.events[0].at
	if n.timerArmed && n.timerAt.Equal(at) {
		return
	}
	d := time.Until(at)
	if n.timer == nil {
		// The timer is created lazily, by the first goroutine that sends,
		// so that it belongs to the synctest bubble using the network.
		n.timer = time.AfterFunc(d, n.fire)
	} else {
		n.timer.Reset(d)
	}
	n.timerArmed, n.timerAt = true, at
}

// fire processes every event that is due, in (time, insertion) order.
func (n *Network) fire() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.timerArmed = false
	if n.closed {
		return
	}
	now := time.Now()
	for len(n.events) > 0 && !n.events[0].at.After(now) {
		e := heap.Pop(&n.events).(event)
		switch e.kind {
		case evArrive:
			n.arriveLocked(e.at, e.d)
		case evDeliver:
			n.deliverLocked(e.d)
		}
	}
	n.armLocked()
}
