package udpio

import "sync/atomic"

// Stats counts a Conn's traffic since it was made.
type Stats struct {
	DatagramsRead    uint64 // datagrams handed to ReadBatch callbacks; each GRO segment counts once
	BytesRead        uint64 // their payload bytes
	DatagramsWritten uint64 // datagrams the kernel accepted for sending
	BytesWritten     uint64 // their payload bytes
	ReadSyscalls     uint64 // recvmmsg or ReadFrom calls, including ones that found nothing
	WriteSyscalls    uint64 // sendmmsg or WriteTo calls, including ones that had to wait
	GSOSends         uint64 // messages sent as one UDP GSO train of several datagrams
	GROMessages      uint64 // received messages that GRO had built from several datagrams
	Truncated        uint64 // received datagrams dropped because they did not fit the read buffer
	SendErrors       uint64 // datagrams not sent because the kernel or the address refused them
	// Refused counts ECONNREFUSED reports: a peer's port was closed when an
	// earlier datagram arrived. It is a lower bound: sendmmsg drops an
	// error that follows a message it sent, and the next call, which
	// resends the rest, no longer sees it.
	Refused uint64
}

// counters holds Stats as atomics so Stats can be read while a reader and a
// writer update them. The hot paths add once per batch, not per datagram.
type counters struct {
	datagramsRead, bytesRead       atomic.Uint64
	datagramsWritten, bytesWritten atomic.Uint64
	readSyscalls, writeSyscalls    atomic.Uint64
	gsoSends, groMessages          atomic.Uint64
	truncated, sendErrors, refused atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		DatagramsRead:    c.datagramsRead.Load(),
		BytesRead:        c.bytesRead.Load(),
		DatagramsWritten: c.datagramsWritten.Load(),
		BytesWritten:     c.bytesWritten.Load(),
		ReadSyscalls:     c.readSyscalls.Load(),
		WriteSyscalls:    c.writeSyscalls.Load(),
		GSOSends:         c.gsoSends.Load(),
		GROMessages:      c.groMessages.Load(),
		Truncated:        c.truncated.Load(),
		SendErrors:       c.sendErrors.Load(),
		Refused:          c.refused.Load(),
	}
}

// tally accumulates one batch's counts before they are published.
type tally struct {
	datagrams, bytes, syscalls    uint64
	gso, gro, truncated, sendErrs uint64
	refused                       uint64
}

func (c *counters) addRead(t *tally) {
	add(&c.datagramsRead, t.datagrams)
	add(&c.bytesRead, t.bytes)
	add(&c.readSyscalls, t.syscalls)
	add(&c.groMessages, t.gro)
	add(&c.truncated, t.truncated)
}

func (c *counters) addWrite(t *tally) {
	add(&c.datagramsWritten, t.datagrams)
	add(&c.bytesWritten, t.bytes)
	add(&c.writeSyscalls, t.syscalls)
	add(&c.gsoSends, t.gso)
	add(&c.sendErrors, t.sendErrs)
	add(&c.refused, t.refused)
}

// add skips the atomic operation for the common zero.
func add(a *atomic.Uint64, n uint64) {
	if n != 0 {
		a.Add(n)
	}
}
