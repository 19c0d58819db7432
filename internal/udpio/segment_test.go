package udpio

import (
	"bytes"
	"net/netip"
	"testing"
)

func TestGSORun(t *testing.T) {
	a := netip.MustParseAddrPort("127.0.0.1:1000")
	aMapped := netip.MustParseAddrPort("[::ffff:127.0.0.1]:1000")
	b := netip.MustParseAddrPort("127.0.0.1:1001")
	pk := func(n int, to netip.AddrPort) Packet { return Packet{B: make([]byte, n), Addr: to} }
	repeat := func(k, n int) []Packet {
		var p []Packet
		for range k {
			p = append(p, pk(n, a))
		}
		return p
	}
	tests := []struct {
		name string
		pkts []Packet
		want int
	}{
		{"empty batch", nil, 0},
		{"single", []Packet{pk(100, a)}, 1},
		{"equal run", []Packet{pk(100, a), pk(100, a), pk(100, a)}, 3},
		{"short last ends run", []Packet{pk(100, a), pk(100, a), pk(40, a), pk(100, a)}, 3},
		{"longer packet ends run", []Packet{pk(100, a), pk(100, a), pk(101, a)}, 2},
		{"empty first never coalesces", []Packet{pk(0, a), pk(0, a)}, 1},
		{"empty packet ends run", []Packet{pk(100, a), pk(0, a)}, 1},
		{"other address ends run", []Packet{pk(100, a), pk(100, a), pk(100, b)}, 2},
		{"mapped address is the same peer", []Packet{pk(100, a), pk(100, aMapped)}, 2},
		{"segment limit", repeat(100, 10), maxGSOSegments},
		{"byte limit", repeat(60, 1400), maxGSOBytes / 1400},
		{"datagram over byte limit", repeat(3, maxGSOBytes+1), 1},
	}
	for _, tt := range tests {
		if got := gsoRun(tt.pkts); got != tt.want {
			t.Errorf("%s: gsoRun = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestSplitGRO(t *testing.T) {
	from := netip.MustParseAddrPort("[::1]:7")
	msg := make([]byte, 25)
	for i := range msg {
		msg[i] = byte(i)
	}
	tests := []struct {
		name string
		b    []byte
		seg  int
		want []int // lengths of the datagrams
	}{
		{"no segment size", msg, 0, []int{25}},
		{"segment as large as message", msg, 25, []int{25}},
		{"segment larger than message", msg, 40, []int{25}},
		{"even split", msg[:20], 5, []int{5, 5, 5, 5}},
		{"short last", msg, 10, []int{10, 10, 5}},
		{"negative size", msg, -3, []int{25}},
		{"empty message", msg[:0], 10, []int{0}},
	}
	for _, tt := range tests {
		var lens []int
		var joined []byte
		n := splitGRO(tt.b, tt.seg, from, func(b []byte, f netip.AddrPort) {
			if f != from {
				t.Errorf("%s: from %v, want %v", tt.name, f, from)
			}
			if cap(b) != len(b) {
				t.Errorf("%s: segment has spare capacity %d; appending would overwrite the next one", tt.name, cap(b)-len(b))
			}
			lens = append(lens, len(b))
			joined = append(joined, b...)
		})
		if int(n) != len(lens) || len(lens) != len(tt.want) {
			t.Errorf("%s: %d segments (returned %d), want %v", tt.name, len(lens), n, tt.want)
			continue
		}
		for i := range lens {
			if lens[i] != tt.want[i] {
				t.Errorf("%s: segment lengths %v, want %v", tt.name, lens, tt.want)
				break
			}
		}
		if !bytes.Equal(joined, tt.b) {
			t.Errorf("%s: segments do not reassemble the message", tt.name)
		}
	}
}
