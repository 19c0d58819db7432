package ppspp

import "sync"

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
// starts at chunk i, so the chunks a player needs next come first. Safe
// from any goroutine; it returns once the picker has moved.
func (s *Swarm) SetPosition(i uint64) {
	s.e.do(func() {
		if s.pk != nil && s.tree.Known() && i < s.tree.NumChunks() {
			s.pk.SetPosition(i)
		}
	})
}

// Swarm returns the swarm with the given ID (root hash), or nil. Safe from
// any goroutine.
func (e *Engine) Swarm(root []byte) *Swarm {
	var s *Swarm
	e.do(func() { s = e.swarms[string(root)] })
	return s
}
