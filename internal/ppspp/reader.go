package ppspp

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/nextshare/nextshare/internal/merkle"
	"github.com/nextshare/nextshare/internal/ppspp/wire"
)

// maxDatagram bounds what we accept; larger datagrams are malformed.
const maxDatagram = 65507

// inbound is one received datagram, with the leaf hash of its DATA chunk
// already computed when it carried exactly one chunk.
type inbound struct {
	buf     []byte
	from    netip.AddrPort
	at      time.Time // when the reader took it off the socket
	leaf    [64]byte
	leafLen int
	dataOff int // offset of the DATA payload, or -1
}

var inboundPool = sync.Pool{New: func() any { return &inbound{buf: make([]byte, 0, 2048)} }}

func getInbound(b []byte, from netip.AddrPort) *inbound {
	in := inboundPool.Get().(*inbound)
	in.buf = append(in.buf[:0], b...)
	in.from = from
	in.leafLen = 0
	in.dataOff = -1
	return in
}

func putInbound(in *inbound) {
	if cap(in.buf) > 4096 {
		in.buf = make([]byte, 0, 2048)
	}
	inboundPool.Put(in)
}

// reader moves datagrams from the socket to the loop. It also hashes DATA
// payloads so that the loop only compares hashes (hashing off the protocol
// goroutine).
func (e *Engine) reader() {
	defer close(e.rdone)
	var (
		rd    wire.Reader
		m     wire.Msg
		batch []*inbound
	)
	for {
		batch = make([]*inbound, 0, 64)
		var at time.Time
		err := e.conn.ReadBatch(func(b []byte, from netip.AddrPort) {
			if at.IsZero() {
				at = time.Now()
			}
			e.stats.DatagramsIn.Add(1)
			e.stats.BytesIn.Add(uint64(len(b)))
			if len(b) == 0 || len(b) > maxDatagram {
				e.stats.Malformed.Add(1)
				return
			}
			if b[0] == 'd' {
				e.stats.Other.Add(1)
				if e.cfg.OnOther != nil {
					e.cfg.OnOther(b, from)
				}
				return
			}
			in := getInbound(b, netip.AddrPortFrom(from.Addr().Unmap(), from.Port()))
			in.at = at
			e.prehash(in, &rd, &m)
			batch = append(batch, in)
		})
		if len(batch) > 0 {
			select {
			case e.in <- batch:
			case <-e.quit:
				return
			}
		}
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-e.quit:
				return
			default:
			}
		}
	}
}

// prehash finds a single-chunk DATA message and hashes its payload.
func (e *Engine) prehash(in *inbound, rd *wire.Reader, m *wire.Msg) {
	ch, err := rd.Reset(in.buf, wire.DefaultParams)
	if err != nil || ch == 0 {
		return
	}
	p := e.paramsFor(ch)
	rd.Reset(in.buf, p)
	for rd.Next(m) {
		if m.Type == wire.TypeData {
			if m.Range.Start == m.Range.End {
				h := merkle.LeafHash(hashFuncOf(p.HashSize), in.leaf[:0], m.Payload)
				in.leafLen = len(h)
				in.dataOff = len(in.buf) - len(m.Payload)
			}
			return
		}
	}
}
