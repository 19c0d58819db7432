package dht

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	adht "github.com/anacrolix/dht/v2"
	"github.com/anacrolix/dht/v2/krpc"
	peer_store "github.com/anacrolix/dht/v2/peer-store"
	alog "github.com/anacrolix/log"
	"golang.org/x/time/rate"
)

// ipPortStore is a PeerStore keyed by ip:port (the library's in-memory
// store keys by IP only, which collapses loopback peers into one).
type ipPortStore struct {
	mu sync.Mutex
	m  map[peer_store.InfoHash]map[string]krpc.NodeAddr
}

func (s *ipPortStore) AddPeer(ih peer_store.InfoHash, a krpc.NodeAddr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[peer_store.InfoHash]map[string]krpc.NodeAddr)
	}
	if s.m[ih] == nil {
		s.m[ih] = make(map[string]krpc.NodeAddr)
	}
	s.m[ih][a.String()] = a
}

func (s *ipPortStore) GetPeers(ih peer_store.InfoHash) []krpc.NodeAddr {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []krpc.NodeAddr
	for _, a := range s.m[ih] {
		out = append(out, a)
	}
	return out
}

// TestInteropAnacrolix runs a private DHT of our nodes and
// github.com/anacrolix/dht/v2 servers on 127.0.0.1 and checks announces
// in both directions.
// mixedCluster starts ours of our nodes and theirs anacrolix/dht servers
// on 127.0.0.1, each knowing every other as a bootstrap node, and
// bootstraps them all. Cleanup closes them.
func mixedCluster(t *testing.T, ours, theirs int) ([]*Node, []*adht.Server) {
	t.Helper()
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
		t.Cleanup(func() { n.Close() })
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
		t.Cleanup(func() { s.Close() })
		servers = append(servers, s)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Go(func() {
			if err := n.Bootstrap(ctx); err != nil {
				t.Errorf("bootstrap: %v", err)
			}
		})
	}
	for _, s := range servers {
		wg.Go(func() {
			if _, err := s.BootstrapContext(ctx); err != nil {
				t.Errorf("anacrolix bootstrap: %v", err)
			}
		})
	}
	wg.Wait()
	return nodes, servers
}

func TestInteropAnacrolix(t *testing.T) {
	nodes, servers := mixedCluster(t, 5, 5)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, n := range nodes {
		t.Logf("our node %v: %d nodes in table", n.Addr(), n.Nodes())
	}
	for _, s := range servers {
		t.Logf("anacrolix %v: %d nodes", s.Addr(), s.NumNodes())
	}

	// Ours announces, theirs finds it.
	ih1 := ihFor("interop-ours->theirs")
	a, err := nodes[0].Announce(ctx, ih1, 7001)
	if err != nil {
		t.Fatalf("announce: %v", err)
	}
	t.Logf("our announce: %d queries, %d acknowledged, %v", a.Queries, a.Announced, a.Duration)
	want := krpc.NodeAddr{IP: net.IPv4(127, 0, 0, 1).To4(), Port: 7001}
	tr, err := servers[2].AnnounceTraversal(ih1)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for pv := range tr.Peers {
		for _, p := range pv.Peers {
			if p.String() == want.String() {
				found = true
			}
		}
	}
	tr.Close()
	if !found {
		t.Errorf("anacrolix get_peers did not find %v", want)
	}

	// Theirs announces, ours finds it.
	ih2 := ihFor("interop-theirs->ours")
	ann, err := servers[3].AnnounceTraversal(ih2, adht.AnnouncePeer(adht.AnnouncePeerOpts{Port: 7002}))
	if err != nil {
		t.Fatal(err)
	}
	for range ann.Peers {
	}
	ann.Close()
	l, err := nodes[4].GetPeers(ctx, ih2)
	wantP := netip.MustParseAddrPort("127.0.0.1:7002")
	if err != nil || !slices.Contains(l.Peers, wantP) {
		t.Fatalf("our get_peers: %v, peers %v (want %v)", err, l.Peers, wantP)
	}
	t.Logf("our lookup: %d queries, %v, peers %v", l.Queries, l.Duration, l.Peers)
	s := nodes[4].Stats()
	t.Logf("our node stats: malformed %d, unmatched %d, timeouts %d", s.Malformed, s.Unmatched, s.Timeouts)
}
