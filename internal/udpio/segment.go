package udpio

import "net/netip"

// gsoRun returns how many packets from pkts[0] on can go out as one UDP GSO
// message: the kernel cuts such a message into datagrams of the first
// packet's length, so every packet but the last must have exactly that
// length, the last may be shorter (but not empty, or it would vanish), and
// all must go to one address. It returns at least 1 for a non-empty pkts.
func gsoRun(pkts []Packet) int {
	if len(pkts) < 2 {
		return len(pkts)
	}
	seg := len(pkts[0].B)
	if seg == 0 {
		return 1
	}
	dst := unmap(pkts[0].Addr)
	total, n := seg, 1
	for n < len(pkts) && n < maxGSOSegments {
		l := len(pkts[n].B)
		if l == 0 || l > seg || total+l > maxGSOBytes || unmap(pkts[n].Addr) != dst {
			break
		}
		total += l
		n++
		if l < seg {
			break // a short segment can only end a train
		}
	}
	return n
}

// splitGRO calls fn for each datagram of a received message that GRO built
// from datagrams of seg bytes each (the last may be shorter), and returns how
// many it found. seg <= 0 or seg >= len(b) means b is one datagram; an empty
// b is one empty datagram.
func splitGRO(b []byte, seg int, from netip.AddrPort, fn func([]byte, netip.AddrPort)) uint64 {
	if seg <= 0 || seg >= len(b) {
		fn(b[:len(b):len(b)], from)
		return 1
	}
	var n uint64
	for off := 0; off < len(b); off += seg {
		end := min(off+seg, len(b))
		fn(b[off:end:end], from)
		n++
	}
	return n
}
