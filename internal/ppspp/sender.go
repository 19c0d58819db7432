package ppspp

import (
	"net/netip"

	"github.com/nextshare/nextshare/internal/ppspp/wire"
	"github.com/nextshare/nextshare/internal/udpio"
)

// maxPayload bounds datagrams we build: DATA with one 1 KiB chunk plus a
// few INTEGRITY messages, under a 1,500-byte MTU.
const maxPayload = 1400

// sender queues datagrams built during one loop iteration in one slab and
// sends them with a single batched write.
type sender struct {
	e    *Engine
	slab []byte
	pkts []udpio.Packet
}

func (s *sender) init(e *Engine) {
	s.e = e
	s.slab = make([]byte, 0, 1<<20)
}

// begin returns an empty datagram addressed to the remote channel, with
// room for maxPayload bytes in the slab (or, for an over-long datagram, in
// a fresh allocation by append).
func (s *sender) begin(remote uint32) []byte {
	if cap(s.slab)-len(s.slab) < 2*maxPayload {
		s.flush()
	}
	n := len(s.slab)
	b := s.slab[n:n:cap(s.slab)]
	return append(b, byte(remote>>24), byte(remote>>16), byte(remote>>8), byte(remote))
}

// commit queues b (returned by begin and appended to) for addr.
func (s *sender) commit(b []byte, addr netip.AddrPort) {
	n := len(s.slab)
	if cap(b) > 0 && len(b) <= cap(s.slab)-n && &s.slab[:n+1][n] == &b[:1][0] {
		s.slab = s.slab[:n+len(b)]
	}
	s.pkts = append(s.pkts, udpio.Packet{B: b, Addr: addr})
	s.e.stats.DatagramsOut.Add(1)
	s.e.stats.BytesOut.Add(uint64(len(b)))
}

func (s *sender) flush() {
	if len(s.pkts) > 0 {
		if err := s.e.conn.WriteBatch(s.pkts); err != nil {
			s.e.log.Debug("write batch", "err", err)
		}
		for i := range s.pkts {
			s.pkts[i] = udpio.Packet{}
		}
		s.pkts = s.pkts[:0]
	}
	s.slab = s.slab[:0]
}

// appendMsg appends m to b, a datagram to c, after sending b and starting
// a new one if m would not fit, and counts it. (Generic rather than taking
// a wire.Message, so that the message does not escape to the heap.)
func appendMsg[M wire.Message](s *Swarm, c *channel, b []byte, m M) []byte {
	if len(b)+m.Len(c.params) > maxPayload {
		s.e.out.commit(b, c.addr)
		b = s.e.out.begin(c.remote)
	}
	s.e.stats.sent(m.Type())
	return m.Append(b, c.params)
}
