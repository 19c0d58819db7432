package dht

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	adht "github.com/anacrolix/dht/v2"
)

// TestInteropThreeWay mixes our nodes, anacrolix/dht servers and Debian's
// libtorrent sessions in one private DHT on loopback: each implementation
// announces, and each finds the other two's announces.
func TestInteropThreeWay(t *testing.T) {
	nodes, servers := mixedCluster(t, 4, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ports := freeUDPPorts(t, 3)
	lt := startLibtorrent(t, nodes[0].Addr(), ports)
	for try := 0; ; try++ {
		n := lt.do(t, "nodes")["nodes"].([]any)
		if n[0].(float64) >= 3 && n[len(n)-1].(float64) >= 3 {
			break
		}
		if try == 40 {
			t.Fatalf("libtorrent sessions did not join: %v", n)
		}
		time.Sleep(250 * time.Millisecond)
	}

	ihOurs := ihFor("three-way: ours")
	ihTheirs := ihFor("three-way: anacrolix")
	ihLT := ihFor("three-way: libtorrent")
	pOurs := netip.MustParseAddrPort("127.0.0.1:7101")
	pTheirs := netip.MustParseAddrPort("127.0.0.1:7102")
	pLT := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(ports[0]))

	if _, err := nodes[1].Announce(ctx, ihOurs, int(pOurs.Port())); err != nil {
		t.Fatal(err)
	}
	ann, err := servers[1].AnnounceTraversal(ihTheirs, adht.AnnouncePeer(adht.AnnouncePeerOpts{Port: int(pTheirs.Port())}))
	if err != nil {
		t.Fatal(err)
	}
	for range ann.Peers {
	}
	ann.Close()
	lt.do(t, "announce "+ihLT.String())

	// eventually retries a lookup while the announces spread.
	eventually := func(what string, want netip.AddrPort, look func() []netip.AddrPort) {
		t.Helper()
		var got []netip.AddrPort
		for try := 0; try < 20; try++ {
			if got = look(); slices.Contains(got, want) {
				t.Logf("%s: found %v", what, want)
				return
			}
			time.Sleep(250 * time.Millisecond)
		}
		t.Errorf("%s: found %v, not %v", what, got, want)
	}
	oursLook := func(ih ID) func() []netip.AddrPort {
		return func() []netip.AddrPort {
			l, _ := nodes[2].GetPeers(ctx, ih)
			return l.Peers
		}
	}
	theirsLook := func(ih ID) func() []netip.AddrPort {
		return func() []netip.AddrPort {
			tr, err := servers[2].AnnounceTraversal(ih)
			if err != nil {
				return nil
			}
			defer tr.Close()
			var out []netip.AddrPort
			for pv := range tr.Peers {
				for _, p := range pv.Peers {
					if ap, err := netip.ParseAddrPort(p.String()); err == nil {
						out = append(out, ap)
					}
				}
			}
			return out
		}
	}
	ltLook := func(ih ID) func() []netip.AddrPort {
		return func() []netip.AddrPort {
			var out []netip.AddrPort
			for _, p := range lt.do(t, "peers "+ih.String())["peers"].([]any) {
				if ap, err := netip.ParseAddrPort(fmt.Sprint(p)); err == nil {
					out = append(out, ap)
				}
			}
			return out
		}
	}
	eventually("ours finds anacrolix's announce", pTheirs, oursLook(ihTheirs))
	eventually("ours finds libtorrent's announce", pLT, oursLook(ihLT))
	eventually("anacrolix finds ours", pOurs, theirsLook(ihOurs))
	eventually("anacrolix finds libtorrent's", pLT, theirsLook(ihLT))
	eventually("libtorrent finds ours", pOurs, ltLook(ihOurs))
	eventually("libtorrent finds anacrolix's", pTheirs, ltLook(ihTheirs))
}
