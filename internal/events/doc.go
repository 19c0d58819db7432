// Package events writes and reads a node's event log: a compact record of
// one swarm's progress and of the node's traffic over time, for tools that
// run many nodes and plot what each did (progress, speed, who served whom,
// startup delays, messages by type).
//
// The format is JSON Lines: one Record per line, each a JSON object, in the
// order written. Fields, all optional except t and ev:
//
//	t       Unix time in milliseconds: wall clock when the log started plus
//	        monotonic time since, so never decreasing within one log and
//	        comparable between processes on one machine
//	ev      "start" (first record), "sample" (every interval), "complete"
//	        (once, when the swarm holds every chunk: at once for a seeder),
//	        "exit" (last record, as the process stops)
//	role    "seed" or "get"                                  (start)
//	addr    local UDP address as bound, "ip:port" ("[::]:port" on all
//	        interfaces)                                      (start)
//	root    swarm root hash in hex                           (start)
//	size    content bytes, once known
//	chunks  chunks in the content, once known
//	have    chunks verified so far
//	from    verified payload bytes received, by source "ip:port"
//	to      payload bytes sent in DATA, by destination "ip:port"
//	in      messages received, by RFC 7574 name ("DATA", "ACK", ...,
//	        "KEEPALIVE" for a datagram with no message)
//	out     messages sent, by the same names
//	bin     UDP payload bytes received (PPSPP and DHT)
//	bout    UDP payload bytes sent by the PPSPP engine
//	loss    datagrams the engine took as lost; retx: chunks sent again
//	cwnd    the uplink's congestion window, bytes (the LEDBAT window all
//	        channels share), infl its bytes in flight, and qd the queuing
//	        delay it reads, microseconds: gauges, as of the latest ACK
//	err     why the process stopped, if it failed           (exit)
//
// Every count is cumulative since the node started, and every record
// carries them all, so each line stands on its own and a log cut short
// still ends with usable state; maps leave out zero entries. A seeder of
// several files logs the first one's swarm.
//
// A Sampler writes a log from a PPSPP engine and one of its swarms; Read
// reads one back.
//
// Guarantees: the Writer writes each record as one line with one write
// call and no buffering, so a process killed at any point leaves complete
// lines followed by at most one truncated line. Read skips, and counts,
// lines that are truncated, malformed or longer than MaxLine; it never
// fails on content, only on errors of the underlying reader.
package events
