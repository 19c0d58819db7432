package dht

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nextshare/nextshare/internal/simnet"
)

const simPort = 6881

// simAddr is the address of simulated host i.
func simAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
}

// simCluster is a set of our nodes on a simulated network.
type simCluster struct {
	t     *testing.T
	net   *simnet.Network
	rng   *rand.Rand
	nodes []*Node
	boot  []string
}

func newSimCluster(t *testing.T, seed int64) *simCluster {
	return &simCluster{t: t, net: simnet.New(seed), rng: rand.New(rand.NewPCG(uint64(seed), 7))}
}

// link returns a link with 10–40 ms one-way delay (so 20–80 ms per host
// pair and direction) and the given loss.
func (c *simCluster) link(loss float64) simnet.LinkConfig {
	return simnet.LinkConfig{Delay: time.Duration(10+c.rng.IntN(31)) * time.Millisecond, Jitter: 2 * time.Millisecond, Loss: loss}
}

// add creates a node on a new host with index i.
func (c *simCluster) add(i int, cfg Config) *Node {
	c.t.Helper()
	h := c.net.AddHost(simAddr(i), c.link(0.005), c.link(0.005))
	conn, err := h.Listen(simPort)
	if err != nil {
		c.t.Fatal(err)
	}
	cfg.Conn = conn
	if cfg.Bootstrap == nil {
		cfg.Bootstrap = c.boot
	}
	if cfg.ID == (ID{}) {
		for j := range cfg.ID {
			cfg.ID[j] = byte(c.rng.Uint32())
		}
	}
	n, err := New(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	c.nodes = append(c.nodes, n)
	return n
}

func (c *simCluster) close() {
	for _, n := range c.nodes {
		n.Close()
	}
	c.net.Close()
}

// build creates count nodes: the first seeds bootstrap from each other,
// the rest from the seeds, in concurrent batches.
func (c *simCluster) build(count, seeds int) {
	c.t.Helper()
	for i := range seeds {
		c.boot = append(c.boot, netip.AddrPortFrom(simAddr(i+1), simPort).String())
	}
	for i := range count {
		c.add(i+1, Config{})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bootstrap := func(ns []*Node) {
		var wg sync.WaitGroup
		for _, n := range ns {
			wg.Go(func() {
				if err := n.Bootstrap(ctx); err != nil {
					c.t.Errorf("bootstrap %v: %v", n.Addr(), err)
				}
			})
		}
		wg.Wait()
	}
	bootstrap(c.nodes[:seeds])
	for i := seeds; i < count; i += 25 {
		bootstrap(c.nodes[i:min(i+25, count)])
	}
	// A second round, as bucket refreshes would do over time.
	for i := 0; i < count; i += 50 {
		bootstrap(c.nodes[i:min(i+50, count)])
	}
}

func ihFor(s string) ID {
	var id ID
	copy(id[:], s)
	return id
}

// TestSimLookup200 bootstraps 200 nodes over lossy simulated links,
// announces from one and finds the peer from another; a read-only node
// looks up the same info-hash and must not enter anyone's table.
func TestSimLookup200(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newSimCluster(t, 42)
		defer c.close()
		c.build(200, 4)
		sizes := make([]int, 0, len(c.nodes))
		for _, n := range c.nodes {
			sizes = append(sizes, n.Nodes())
		}
		slices.Sort(sizes)
		t.Logf("routing table sizes: min %d, median %d, max %d", sizes[0], sizes[len(sizes)/2], sizes[len(sizes)-1])
		if sizes[0] == 0 {
			t.Fatal("a node has an empty routing table")
		}

		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		ih := ihFor("simulated-infohash-1")
		announcer, seeker := c.nodes[57], c.nodes[163]
		a, err := announcer.Announce(ctx, ih, 0)
		if err != nil {
			t.Fatalf("announce: %v", err)
		}
		t.Logf("announce: %d queries, %d nodes acknowledged, %v", a.Queries, a.Announced, a.Duration)
		if a.Announced < 4 {
			t.Errorf("only %d nodes acknowledged the announce", a.Announced)
		}
		want := announcer.Addr()
		var queries []int
		var durs []time.Duration
		for i, n := range []*Node{seeker, c.nodes[5], c.nodes[99], c.nodes[199]} {
			l, err := n.GetPeers(ctx, ih)
			if err != nil {
				t.Fatalf("get_peers from node %d: %v", i, err)
			}
			t.Logf("lookup from %v: %d queries, %v, peers %v", n.Addr(), l.Queries, l.Duration, l.Peers)
			if !slices.Contains(l.Peers, want) {
				t.Errorf("lookup from %v did not find %v", n.Addr(), want)
			}
			queries = append(queries, l.Queries)
			durs = append(durs, l.Duration)
		}
		t.Logf("lookup figures: queries %v, durations %v", queries, durs)

		// Read-only node.
		ro := c.add(1000, Config{ReadOnly: true})
		if err := ro.Bootstrap(ctx); err != nil {
			t.Fatalf("read-only bootstrap: %v", err)
		}
		l, err := ro.GetPeers(ctx, ih)
		if err != nil || !slices.Contains(l.Peers, want) {
			t.Fatalf("read-only lookup: %v, peers %v", err, l.Peers)
		}
		t.Logf("read-only lookup: %d queries, %v", l.Queries, l.Duration)
		time.Sleep(5 * time.Second) // let any verification pings finish
		for _, n := range c.nodes[:200] {
			n.mu.Lock()
			e := n.tbl.find(ro.Addr())
			n.mu.Unlock()
			if e != nil {
				t.Fatalf("read-only node found in the table of %v", n.Addr())
			}
		}
		if s := ro.Stats(); s.QueriesSent() == 0 || s.ResponsesSent() != 0 {
			t.Errorf("read-only node stats: %+v", s)
		}
	})
}
