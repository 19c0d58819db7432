// Package udpio moves batches of UDP datagrams between the PPSPP engine and
// one socket with as few system calls as the kernel allows.
//
// PPSPP runs over UDP (RFC 7574 Section 8): every message travels in a
// datagram of its own address pair, and a seeder sends one DATA datagram of
// about 1 KiB per chunk. At hundreds of thousands of datagrams per second,
// one system call per datagram costs more than the data itself, so a Conn
// reads and writes in batches:
//
//   - On Linux, a *net.UDPConn is driven with recvmmsg and sendmmsg (up to 64
//     messages per call). Consecutive datagrams of equal length to one peer
//     are sent as one UDP GSO message (UDP_SEGMENT) that the kernel cuts into
//     separate datagrams, and receives use UDP GRO so that such trains arrive
//     as one message that ReadBatch splits again. Each feature is probed once
//     when the Conn is made; what the kernel refuses is not used.
//   - Any other net.PacketConn (for example an in-process simulated network)
//     is driven with ReadFrom and WriteTo, one datagram at a time.
//
// Guarantees, whichever path is in use:
//   - The datagrams a peer receives are exactly those passed to WriteBatch or
//     WriteTo, with the same boundaries and contents, sent in the order given.
//     GSO never merges or splits a caller's datagrams on the wire.
//   - ReadBatch hands out one datagram per callback, with a sender address
//     whose IPv4-mapped IPv6 form has been unmapped, so addresses can be used
//     as map keys.
//   - On a *net.UDPConn no memory is allocated per datagram in steady state:
//     message headers, buffers and control-message space are allocated once
//     per Conn. (A generic PacketConn allocates a net.Addr per datagram.)
//   - Read deadlines and Close behave as on the wrapped connection: a blocked
//     ReadBatch returns an error matching os.ErrDeadlineExceeded or
//     net.ErrClosed.
//
// A Conn may be used from several goroutines: reads are serialized among
// themselves, and so are writes, but a reader and a writer run in parallel.
package udpio
