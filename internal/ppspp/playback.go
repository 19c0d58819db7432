package ppspp

import (
	"sync"
	"time"

	"github.com/nextshare/nextshare/internal/ppspp/wire"
)

// changes broadcasts "more of the content is readable" to any number of
// waiting readers (an HTTP gateway, say) without a goroutine per reader.
type changes struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns a channel closed at the next notify.
func (c *changes) wait() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch == nil {
		c.ch = make(chan struct{})
	}
	return c.ch
}

func (c *changes) notify() {
	c.mu.Lock()
	if c.ch != nil {
		close(c.ch)
		c.ch = nil
	}
	c.mu.Unlock()
}

// Changed returns a channel that is closed the next time chunks become
// readable from the swarm's store, or the swarm completes or fails. Take a
// new one each time it fires. Safe from any goroutine.
func (s *Swarm) Changed() <-chan struct{} { return s.changes.wait() }

// SetPosition tells the picker where playback reads: its in-order window
// starts at chunk i, so the chunks a player needs next come first. After a
// seek, requests outstanding outside the chunks now needed are cancelled
// (CANCEL to the peer, released in the picker), so the bandwidth they held
// goes to the new position at once, and new requests leave immediately.
// Safe from any goroutine; it returns once the picker has moved.
func (s *Swarm) SetPosition(i uint64) {
	s.e.do(func() {
		if s.pk == nil || !s.tree.Known() || i >= s.tree.NumChunks() {
			return
		}
		old := s.pk.Position()
		s.pk.SetPosition(i)
		now := time.Now()
		for _, c := range s.channels {
			if !c.established {
				continue
			}
			// A seek, not playback moving on: cancel what the old
			// position needed.
			span := uint64(2 * c.window())
			if i < old || i > old+span {
				s.cancelOutside(c, i, i+span, now)
			}
			if b := s.appendRequests(c, s.e.out.begin(c.remote), now); len(b) > 4 {
				s.e.out.commit(b, c.addr)
				c.lastSend = now
			}
		}
	})
}

// cancelOutside cancels c's outstanding requests that lie wholly outside
// chunks [lo, hi).
func (s *Swarm) cancelOutside(c *channel, lo, hi uint64, now time.Time) {
	keep := c.requests[:c.reqsHead]
	b := s.e.out.begin(c.remote)
	for _, rq := range c.requests[c.reqsHead:] {
		if rq.r.End >= lo && rq.r.Start < hi || s.have.HasRange(rq.r) {
			keep = append(keep, rq)
			continue
		}
		for _, rr := range s.wireRanges(c, rq.r, false) {
			m := wire.Cancel{Range: rr}
			if len(b)+m.Len(c.params) > maxPayload {
				s.e.out.commit(b, c.addr)
				b = s.e.out.begin(c.remote)
			}
			b = m.Append(b, c.params)
		}
		s.pk.Release(c.peer, rq.r)
		s.e.stats.Cancelled.Add(1)
	}
	if len(b) > 4 {
		s.e.out.commit(b, c.addr)
		c.lastSend = now
	}
	c.requests = keep
}

// SetSizeHint records the content size a link claimed, for a gateway that
// must announce a length before the last chunk, which proves the size, has
// arrived. Safe from any goroutine.
func (s *Swarm) SetSizeHint(n int64) { s.sizeHint.Store(n) }

// Swarm returns the swarm with the given ID (root hash), or nil. Safe from
// any goroutine.
func (e *Engine) Swarm(root []byte) *Swarm {
	var s *Swarm
	e.do(func() { s = e.swarms[string(root)] })
	return s
}
