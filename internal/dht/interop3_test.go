package dht

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	adht "github.com/anacrolix/dht/v2"
	alog "github.com/anacrolix/log"
	"golang.org/x/time/rate"
)

// TestInteropThreeWay mixes our nodes, anacrolix/dht servers and Debian's
// libtorrent sessions in one private DHT on loopback: each implementation
// announces, and each finds the other two's announces.
func TestInteropThreeWay(t *testing.T) {
	const ours, theirs = 4, 4
	var conns []net.PacketConn
	var addrs []string
	for range ours + theirs {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		addrs = append(addrs, c.LocalAddr().String())
	}
	var nodes []*Node
	for i := range ours {
		n, err := New(Config{Conn: conns[i], Bootstrap: addrs, queryRate: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		nodes = append(nodes, n)
	}
	quiet := alog.NewLogger("anacrolix")
	quiet.SetHandlers(alog.DiscardHandler)
	var servers []*adht.Server
	for i := range theirs {
		s, err := adht.NewServer(&adht.ServerConfig{
			Conn:       conns[ours+i],
			NoSecurity: true,
			StartingNodes: func() ([]adht.Addr, error) {
				var out []adht.Addr
				for _, a := range addrs {
					ua, err := net.ResolveUDPAddr("udp4", a)
					if err != nil {
						return nil, err
					}
					out = append(out, adht.NewAddr(ua))
				}
				return out, nil
			},
			SendLimiter:      rate.NewLimiter(rate.Inf, 0),
			PeerStore:        &ipPortStore{},
			Logger:           quiet,
			QueryResendDelay: func() time.Duration { return 300 * time.Millisecond },
		})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		servers = append(servers, s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, n := range nodes {
		if err := n.Bootstrap(ctx); err != nil {
			t.Fatalf("bootstrap: %v", err)
		}
	}
	for _, s := range servers {
		if _, err := s.BootstrapContext(ctx); err != nil {
			t.Fatalf("anacrolix bootstrap: %v", err)
		}
	}
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
