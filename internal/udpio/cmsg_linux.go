package udpio

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Control messages of UDP GSO and GRO (linux/udp.h): level SOL_UDP, type
// UDP_SEGMENT with a uint16 segment size on send, type UDP_GRO with an int
// segment size on receive.
var (
	txCtrlLen = unix.CmsgSpace(2)     // one UDP_SEGMENT message
	rxCtrlLen = 2 * unix.CmsgSpace(4) // one UDP_GRO message, with room for another
)

// putSegmentSize writes a UDP_SEGMENT control message into b, which must
// hold txCtrlLen bytes, and returns the bytes used.
func putSegmentSize(b []byte, seg uint16) int {
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level = unix.SOL_UDP
	h.Type = unix.UDP_SEGMENT
	h.SetLen(unix.CmsgLen(2))
	*(*uint16)(unsafe.Pointer(&b[unix.CmsgLen(0)])) = seg
	return txCtrlLen
}

// groSegmentSize returns the segment size of a UDP_GRO control message in
// b, or 0 if there is none. It checks every length against b, so malformed
// input ends the scan instead of reading past it.
func groSegmentSize(b []byte) int {
	hdr := unix.CmsgLen(0)
	for len(b) >= hdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
		l := int(h.Len)
		if l < hdr || l > len(b) {
			return 0
		}
		if h.Level == unix.SOL_UDP && h.Type == unix.UDP_GRO {
			data := b[hdr:l]
			switch {
			case len(data) >= 4:
				return int(*(*int32)(unsafe.Pointer(&data[0])))
			case len(data) >= 2:
				return int(*(*uint16)(unsafe.Pointer(&data[0])))
			}
			return 0
		}
		next := unix.CmsgSpace(l - hdr)
		if next >= len(b) {
			return 0
		}
		b = b[next:]
	}
	return 0
}
