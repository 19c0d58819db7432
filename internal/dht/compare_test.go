package dht

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	adht "github.com/anacrolix/dht/v2"
	"github.com/anacrolix/dht/v2/krpc"
	peer_store "github.com/anacrolix/dht/v2/peer-store"
	alog "github.com/anacrolix/log"
	"golang.org/x/time/rate"

	"github.com/nextshare/nextshare/internal/simnet"
)

var (
	compareNodes   = flag.Int("dht.nodes", 300, "TestLookupCompare: DHT nodes in the simulated network (half ours, half anacrolix/dht)")
	compareLookups = flag.Int("dht.lookups", 0, "TestLookupCompare: lookups per implementation (0: 20, or 100 with -dht.nodes >= 1000)")
	compareSeed    = flag.Int64("dht.seed", 1, "TestLookupCompare: seed of the simulated network")
)

// countConn counts the queries written to it: all of them, and get_peers.
type countConn struct {
	net.PacketConn
	queries  atomic.Int64
	getPeers atomic.Int64
}

func (c *countConn) WriteTo(b []byte, a net.Addr) (int, error) {
	if m, err := decodeMsg(b); err == nil && m.Y == 'q' {
		c.queries.Add(1)
		if m.Q == mGetPeers {
			c.getPeers.Add(1)
		}
	}
	return c.PacketConn.WriteTo(b, a)
}

// compareNet is a simulated DHT of our nodes and anacrolix/dht servers.
type compareNet struct {
	t      *testing.T
	net    *simnet.Network
	rng    *rand.Rand
	delays []time.Duration // one-way delay per host, for both directions
	ours   []*Node
	theirs []*adht.Server
	addrs  []netip.AddrPort // per node index: its address
	seeds  []netip.AddrPort
	quiet  alog.Logger
	stores []*ipPortStore // of the anacrolix servers
	ids    []ID           // per node index
}

// holders returns how many nodes store a peer for ih, and how many of the
// bucketK nodes closest to ih do.
func (c *compareNet) holders(ih ID) (all, closest int) {
	type nd struct {
		id  ID
		has bool
	}
	var ns []nd
	for i, id := range c.ids[:len(c.addrs)] {
		var has bool
		if i%2 == 0 {
			n := c.ours[i/2]
			n.mu.Lock()
			has = len(n.peers.get(ih, 10, time.Now())) > 0
			n.mu.Unlock()
		} else {
			has = len(c.stores[i/2].GetPeers(peer_store.InfoHash(ih))) > 0
		}
		ns = append(ns, nd{id, has})
		if has {
			all++
		}
	}
	slices.SortFunc(ns, func(a, b nd) int {
		if closer(ih, a.id, b.id) {
			return -1
		}
		return 1
	})
	for _, x := range ns[:bucketK] {
		if x.has {
			closest++
		}
	}
	return all, closest
}

// compareLoss is the loss of each link; a packet crosses two (the
// sender's uplink and the receiver's downlink), so about 2% per direction.
const compareLoss = 0.01

// hostDelay draws a one-way access delay: 5 ms plus a log-normal part with
// a median of 17 ms, capped at 800 ms. The RTT between two hosts is twice
// the sum of their delays: median about 100 ms, p99 about 500 ms.
func (c *compareNet) hostDelay() time.Duration {
	d := 5 + 17*math.Exp(c.rng.NormFloat64())
	return time.Duration(min(d, 800) * float64(time.Millisecond))
}

func (c *compareNet) host(i int, delay time.Duration) *simnet.Host {
	lc := simnet.LinkConfig{Delay: delay, Jitter: 4 * time.Millisecond, Loss: compareLoss}
	return c.net.AddHost(simAddr(i), lc, lc)
}

func (c *compareNet) listen(h *simnet.Host) net.PacketConn {
	conn, err := h.Listen(simPort)
	if err != nil {
		c.t.Fatal(err)
	}
	return conn
}

func (c *compareNet) randomID() ID {
	var id ID
	for j := range id {
		id[j] = byte(c.rng.Uint32())
	}
	return id
}

func (c *compareNet) newOurs(conn net.PacketConn) *Node {
	id := c.randomID()
	c.ids = append(c.ids, id)
	var boot []string
	for _, a := range c.seeds {
		boot = append(boot, a.String())
	}
	n, err := New(Config{Conn: conn, ID: id, Bootstrap: boot})
	if err != nil {
		c.t.Fatal(err)
	}
	return n
}

func (c *compareNet) newTheirs(conn net.PacketConn) *adht.Server {
	seeds := c.seeds
	id := c.randomID()
	c.ids = append(c.ids, id)
	store := &ipPortStore{}
	c.stores = append(c.stores, store)
	s, err := adht.NewServer(&adht.ServerConfig{
		Conn:       conn,
		NodeId:     krpc.ID(id),
		NoSecurity: true,
		StartingNodes: func() ([]adht.Addr, error) {
			var out []adht.Addr
			for _, a := range seeds {
				out = append(out, adht.NewAddr(net.UDPAddrFromAddrPort(a)))
			}
			return out, nil
		},
		SendLimiter: rate.NewLimiter(rate.Inf, 0),
		PeerStore:   store,
		Logger:      c.quiet,
	})
	if err != nil {
		c.t.Fatal(err)
	}
	return s
}

// build creates count nodes, alternately ours and anacrolix/dht, the first
// four being the seeds everyone bootstraps from; then every node
// bootstraps three times, in concurrent batches, and looks up two random
// targets.
func (c *compareNet) build(count int) {
	c.t.Helper()
	for i := range min(4, count) {
		c.seeds = append(c.seeds, netip.AddrPortFrom(simAddr(i+1), simPort))
	}
	type boot func(ctx context.Context) error
	var boots []boot
	for i := range count {
		d := c.hostDelay()
		c.delays = append(c.delays, d)
		conn := c.listen(c.host(i+1, d))
		c.addrs = append(c.addrs, netip.AddrPortFrom(simAddr(i+1), simPort))
		if i%2 == 0 {
			n := c.newOurs(conn)
			c.ours = append(c.ours, n)
			boots = append(boots, func(ctx context.Context) error { return n.Bootstrap(ctx) })
		} else {
			s := c.newTheirs(conn)
			c.theirs = append(c.theirs, s)
			boots = append(boots, func(ctx context.Context) error { _, err := s.BootstrapContext(ctx); return err })
		}
	}
	run := func(bs []boot) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var wg sync.WaitGroup
		for _, b := range bs {
			wg.Go(func() { b(ctx) }) // a failure shows in the lookups
		}
		wg.Wait()
	}
	seeds := min(4, count)
	run(boots[:seeds])
	for round := range 3 {
		start := 0
		if round == 0 {
			start = seeds
		}
		for i := start; i < count; i += 50 {
			run(boots[i:min(i+50, count)])
		}
	}
	// Background traffic: every node looks up two random targets, as
	// clients do all the time, so that tables fill from the queries they
	// receive.
	var traffic []boot
	for i := range count {
		t1, t2 := c.randomID(), c.randomID()
		if i%2 == 0 {
			n := c.ours[i/2]
			traffic = append(traffic, func(ctx context.Context) error {
				n.iterate(ctx, t1, mFindNode, nil)
				n.iterate(ctx, t2, mGetPeers, nil)
				return nil
			})
		} else {
			s := c.theirs[i/2]
			traffic = append(traffic, func(context.Context) error {
				for _, target := range []ID{t1, t2} {
					a, err := s.AnnounceTraversal(target)
					if err != nil {
						return err
					}
					for range a.Peers {
					}
					a.Close()
				}
				return nil
			})
		}
	}
	for i := 0; i < count; i += 100 {
		run(traffic[i:min(i+100, count)])
	}
}

func (c *compareNet) close() {
	for _, n := range c.ours {
		n.Close()
	}
	for _, s := range c.theirs {
		s.Close()
	}
}

// rttPercentiles samples host pairs and returns the median, p90 and p99
// of their RTT (without jitter).
func (c *compareNet) rttPercentiles() (p50, p90, p99 time.Duration) {
	r := rand.New(rand.NewPCG(3, 4))
	var s []time.Duration
	for range 20000 {
		a, b := c.delays[r.IntN(len(c.delays))], c.delays[r.IntN(len(c.delays))]
		s = append(s, 2*(a+b))
	}
	slices.Sort(s)
	return s[len(s)/2], s[len(s)*9/10], s[len(s)*99/100]
}

type lookupSample struct {
	ok       bool
	first    time.Duration // until the announced peer was found
	done     time.Duration // until the lookup returned
	messages int           // get_peers queries sent
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(i, 0)]
}

type lookupSummary struct {
	name                      string
	n, ok                     int
	firstMed, firstP99        time.Duration
	doneMed, doneP99          time.Duration
	msgMed                    int
	msgMean                   float64
	firstSamples, doneSamples []time.Duration
}

func summarize(name string, ss []lookupSample) lookupSummary {
	sum := lookupSummary{name: name, n: len(ss)}
	var msgs []int
	total := 0
	for _, s := range ss {
		if s.ok {
			sum.ok++
			sum.firstSamples = append(sum.firstSamples, s.first)
		}
		sum.doneSamples = append(sum.doneSamples, s.done)
		msgs = append(msgs, s.messages)
		total += s.messages
	}
	sum.firstMed, sum.firstP99 = percentile(sum.firstSamples, 0.5), percentile(sum.firstSamples, 0.99)
	sum.doneMed, sum.doneP99 = percentile(sum.doneSamples, 0.5), percentile(sum.doneSamples, 0.99)
	slices.Sort(msgs)
	if len(msgs) > 0 {
		sum.msgMed = msgs[(len(msgs)-1)/2]
		sum.msgMean = float64(total) / float64(len(msgs))
	}
	return sum
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f", float64(d)/float64(time.Millisecond)) }

// TestLookupCompare runs our nodes and anacrolix/dht servers side by side
// on one simulated network (half of the nodes each), announces random
// info-hashes from random nodes, and then lets a fresh client of each
// implementation look them up. By default it is small and only checks
// that lookups succeed; the full comparison is
//
//	go test -run TestLookupCompare -v ./internal/dht/ -dht.nodes=2000
//
// (the flag must follow the package).
func TestLookupCompare(t *testing.T) {
	if raceEnabled {
		// Go 1.26's race runtime crashes (SIGSEGV, or a ThreadSanitizer
		// CHECK) now and then in a synctest bubble with this many
		// goroutines; scripts/test.sh runs this test without -race.
		t.Skip("not under -race: see scripts/test.sh, which runs it without")
	}
	nodes, lookups := *compareNodes, *compareLookups
	if nodes < 20 {
		t.Fatalf("-dht.nodes=%d: need at least 20", nodes)
	}
	if lookups <= 0 {
		lookups = 20
		if nodes >= 1000 {
			lookups = 100
		}
	}
	wall := time.Now()
	synctest.Test(t, func(t *testing.T) {
		quiet := alog.NewLogger("anacrolix")
		quiet.SetHandlers(alog.DiscardHandler)
		c := &compareNet{t: t, net: simnet.New(*compareSeed), rng: rand.New(rand.NewPCG(uint64(*compareSeed), 11)), quiet: quiet}
		defer c.net.Close()
		defer c.close()
		start := time.Now()
		c.build(nodes)
		p50, p90, p99 := c.rttPercentiles()
		t.Logf("%d nodes (%d ours, %d anacrolix/dht) bootstrapped in %v virtual; RTT between hosts: median %v, p90 %v, p99 %v; loss %.0f%% per link",
			nodes, len(c.ours), len(c.theirs), time.Since(start).Round(time.Second), p50, p90, p99, 100*compareLoss)
		var sizes []int
		for _, n := range c.ours {
			sizes = append(sizes, n.Nodes())
		}
		slices.Sort(sizes)
		var tsizes []int
		for _, s := range c.theirs {
			tsizes = append(tsizes, s.NumNodes())
		}
		slices.Sort(tsizes)
		t.Logf("routing table sizes: ours median %d (min %d), anacrolix median %d (min %d)",
			sizes[len(sizes)/2], sizes[0], tsizes[len(tsizes)/2], tsizes[0])

		// Settle: long enough for our nodes to refresh stale buckets.
		time.Sleep(20 * time.Minute)

		// Announce info-hashes from random nodes.
		ihs := max(lookups/2, 1)
		type announced struct {
			ih   ID
			peer netip.AddrPort
		}
		var anns []announced
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		var wg sync.WaitGroup
		var mu sync.Mutex
		for range ihs {
			ih := c.randomID()
			i := c.rng.IntN(nodes)
			a := announced{ih: ih, peer: c.addrs[i]}
			anns = append(anns, a)
			wg.Go(func() {
				if i%2 == 0 {
					if _, err := c.ours[i/2].Announce(ctx, ih, 0); err != nil {
						mu.Lock()
						t.Logf("announce from our node %v: %v", a.peer, err)
						mu.Unlock()
					}
					return
				}
				ann, err := c.theirs[i/2].AnnounceTraversal(ih, adht.AnnouncePeer(adht.AnnouncePeerOpts{ImpliedPort: true}))
				if err != nil {
					t.Errorf("anacrolix announce: %v", err)
					return
				}
				for range ann.Peers {
				}
				<-ann.Finished()
				ann.Close()
			})
		}
		wg.Wait()
		time.Sleep(time.Minute)

		// Fresh clients on hosts with the median access delay.
		med := slices.Clone(c.delays)
		slices.Sort(med)
		cd := med[len(med)/2]
		ourConn := &countConn{PacketConn: c.listen(c.host(nodes+1, cd))}
		theirConn := &countConn{PacketConn: c.listen(c.host(nodes+2, cd))}
		ours := c.newOurs(ourConn)
		defer ours.Close()
		theirs := c.newTheirs(theirConn)
		defer theirs.Close()
		t0 := time.Now()
		if err := ours.Bootstrap(ctx); err != nil {
			t.Fatalf("our client: bootstrap: %v", err)
		}
		ourBootTime := time.Since(t0)
		t0 = time.Now()
		if _, err := theirs.BootstrapContext(ctx); err != nil {
			t.Fatalf("anacrolix client: bootstrap: %v", err)
		}
		theirBootTime := time.Since(t0)
		t.Logf("clients bootstrapped (access delay %v): ours %d nodes and %d contacts, %d queries, %v; anacrolix %d nodes, %d queries, %v",
			cd, ours.Nodes(), ours.Stats().Contacts, ourConn.queries.Load(), ourBootTime.Round(time.Millisecond),
			theirs.NumNodes(), theirConn.queries.Load(), theirBootTime.Round(time.Millisecond))
		ourBoot, theirBoot := ourConn.queries.Load(), theirConn.queries.Load()

		var oursS, theirsS []lookupSample
		for i := range lookups {
			a := anns[i%len(anns)]
			// Ours.
			before := ourConn.getPeers.Load()
			lctx, lcancel := context.WithTimeout(context.Background(), time.Minute)
			l, err := ours.GetPeers(lctx, a.ih)
			lcancel()
			s := lookupSample{ok: err == nil && slices.Contains(l.Peers, a.peer), done: l.Duration, first: l.FirstPeer,
				messages: int(ourConn.getPeers.Load() - before)}
			if s.messages != l.Queries {
				t.Errorf("our lookup: %d get_peers sent, Lookup.Queries %d", s.messages, l.Queries)
			}
			if !s.ok {
				all, cl := c.holders(a.ih)
				t.Logf("our lookup %d (announce %d by %v): %v, %d peers; %d nodes hold the peer, %d of the %d closest", i, i%len(anns), a.peer, err, len(l.Peers), all, cl, bucketK)
			}
			oursS = append(oursS, s)
			time.Sleep(time.Second)

			// anacrolix.
			before = theirConn.getPeers.Load()
			t0 := time.Now()
			ann, err := theirs.AnnounceTraversal(a.ih)
			if err != nil {
				t.Fatalf("anacrolix lookup: %v", err)
			}
			s = lookupSample{}
			want := a.peer.String()
			for pv := range ann.Peers {
				for _, p := range pv.Peers {
					if !s.ok && p.String() == want {
						s.ok, s.first = true, time.Since(t0)
					}
				}
			}
			s.done = time.Since(t0)
			s.messages = int(theirConn.getPeers.Load() - before)
			ann.Close()
			if !s.ok {
				t.Logf("anacrolix lookup %d for a peer announced by node %d failed", i, i%len(anns))
			}
			theirsS = append(theirsS, s)
			time.Sleep(time.Second)
		}

		so, st := summarize("nextshare", oursS), summarize("anacrolix/dht", theirsS)
		t.Logf("anacrolix/dht: its defaults (alpha 3, k 8, one send per query, 2 s timeout); messages: get_peers queries sent per lookup")
		t.Logf("%-14s %7s %8s %13s %12s %12s %11s %14s", "impl", "lookups", "success", "first med ms", "first p99 ms", "done med ms", "done p99 ms", "msgs med/mean")
		for _, s := range []lookupSummary{so, st} {
			t.Logf("%-14s %7d %8d %13s %12s %12s %11s %9d/%.1f", s.name, s.n, s.ok, ms(s.firstMed), ms(s.firstP99), ms(s.doneMed), ms(s.doneP99), s.msgMed, s.msgMean)
		}
		// Each info-hash is looked up twice; a client that remembers
		// nodes gains on the second lookup, so both halves are shown.
		if lookups > len(anns) {
			for _, h := range []struct {
				name string
				from int
				to   int
			}{{"first lookups", 0, len(anns)}, {"repeat lookups", len(anns), lookups}} {
				o, a := summarize("", oursS[h.from:h.to]), summarize("", theirsS[h.from:h.to])
				t.Logf("%-14s first-peer med/p99 ms: ours %s/%s, anacrolix %s/%s; msgs mean: ours %.1f, anacrolix %.1f",
					h.name, ms(o.firstMed), ms(o.firstP99), ms(a.firstMed), ms(a.firstP99), o.msgMean, a.msgMean)
			}
		}
		perLookup := func(n int64) float64 { return float64(n) / float64(lookups) }
		ourAll, theirAll := ourConn.queries.Load(), theirConn.queries.Load()
		t.Logf("all queries sent per lookup (any method, background work included): ours %.1f, anacrolix %.1f; with the client's bootstrap spread over the lookups: ours %.1f, anacrolix %.1f",
			perLookup(ourAll-ourBoot), perLookup(theirAll-theirBoot), perLookup(ourAll), perLookup(theirAll))
		t.Logf("ratios ours/anacrolix: first-peer median %.2f, first-peer p99 %.2f, done median %.2f, messages mean %.2f",
			float64(so.firstMed)/float64(max(st.firstMed, 1)), float64(so.firstP99)/float64(max(st.firstP99, 1)),
			float64(so.doneMed)/float64(max(st.doneMed, 1)), so.msgMean/max(st.msgMean, 1))
		// Only the success of our lookups is asserted: the figures depend
		// on the size of the network.
		if so.ok < so.n*9/10 {
			t.Errorf("our lookups: %d of %d found the announced peer", so.ok, so.n)
		}
	})
	t.Logf("wall time %v", time.Since(wall).Round(time.Millisecond))
}
