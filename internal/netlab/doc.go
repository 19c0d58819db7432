// Package netlab builds emulated networks out of Linux network namespaces,
// so that real processes (nextshare nodes, DHT peers) can be run against
// each other over links with delay, jitter, loss, reordering, rate limits
// and NATs. It needs root, iproute2 (ip, tc) and iptables.
//
// # Topology
//
// A Network has one router namespace and one namespace per host. Host i is
// joined to the router by a veth pair on 10.x.y.0/24 (x.y = i+1): the
// router's end, hI, is 10.x.y.1 and the host's end, eth0, is 10.x.y.2 with a
// default route through the router, which forwards between all hosts. A
// host may instead sit behind a NAT namespace: host 192.168.z.2 (eth0) ↔
// NAT 192.168.z.1 (lan0) and 10.x.y.2 (wan0) ↔ router. Its public address,
// Host.Addr, is then the NAT's outside address. NAT kinds are iptables
// rules in the NAT namespace: MASQUERADE (port-restricted cone), plus a
// DNAT of all inbound UDP to the host (full cone), or MASQUERADE
// --random-fully (symmetric).
//
// # Links
//
// Each host's access link (to the router, or from its NAT to the router) has
// an Up direction (towards the router) and a Down direction, each with its
// own Link settings:
//
//   - Rate is a tc tbf qdisc on the egress of the sending end: the host's
//     eth0 (or the NAT's wan0) for Up, the router's hI for Down.
//   - Delay, jitter, loss and reordering are applied by the router: its
//     iptables FORWARD chain hands every forwarded packet to an nfqueue read
//     by the process that called New, which holds each packet for its path's
//     delay and then lets it go, or drops it. A packet from host A to host B
//     gets A's Up plus B's Down settings. Packets on one path keep their
//     order unless Reorder lets one overtake. Only packet metadata is copied
//     to the process. The kernel has no netem qdisc, hence the queue.
//
// A packet's delay counts from its arrival at the router as stamped by the
// kernel (the queue turns on kernel receive timestamps, SO_TIMESTAMPNS,
// which is a machine-wide switch). One thread with real-time priority
// (SCHED_FIFO, see Options.NoRealtime) and a timerfd releases packets,
// usually within a tenth of a millisecond of their time even on a busy
// machine; Stats.Late counts those more than LateAfter late. The queue
// fails open: packets the process cannot take (its queue or socket is full,
// see Options.MaxHeld) pass without delay or loss and are counted in
// Stats.Overflows. With no delay, jitter or loss anywhere the queue is not
// used at all.
//
// Every link has static neighbour entries for both ends, so hosts never
// ARP, and hundreds of hosts do not overflow the kernel's neighbour table.
//
// # Processes and cleanup
//
// Command runs a program in a host's namespace; Do runs a function there on
// a locked OS thread, which is how in-process sockets are opened inside a
// host. Close deletes every namespace the Network created. Namespace names
// embed the PID of the creating process, so Cleanup can find and remove the
// namespaces of a lab process that died without closing its Network.
package netlab
