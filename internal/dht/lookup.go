package dht

import (
	"context"
	"errors"
	"math"
	"math/bits"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"
)

const (
	alphaStart       = 3 // queries kept in flight, not counting slow ones
	alphaPeers       = 2 // the same for GetPeers, which stops at the first peers
	alphaSlow        = 3 // answers without closer nodes and lateness raise alpha up to this
	lateAfter        = 250 * time.Millisecond
	maxLookupQueries = 256 // queries one lookup may send
	maxCandidates    = 64  // fresh candidates kept per lookup
	maxLookupPeers   = 2000
	takePerResponse  = bucketK // nodes taken from one answer

	// After bootstrap, a contact cache smaller than sampleEnough (and
	// than half the estimated network) is filled by one find_node query
	// for each 2^-sampleBits of the ID space, sampleParallel at a time.
	sampleBits     = 7
	sampleQueries  = 1 << sampleBits
	sampleEnough   = 512
	sampleParallel = 16

	// A query becomes slow after the node's expected RTT (srtt+rttvar),
	// or for a node without an estimate a percentile of the RTTs of known
	// nodes; then the lookup sends another query without giving up on it.
	softPercentile = 0.4
	minSoftTimeout = 40 * time.Millisecond
	maxSoftTimeout = 800 * time.Millisecond
	defSoftTimeout = 400 * time.Millisecond // with too few RTT estimates
)

// Lookup is the result of GetPeers or Announce.
type Lookup struct {
	Peers     []netip.AddrPort // deduplicated peers found
	Queries   int              // messages sent for this lookup
	Duration  time.Duration
	FirstPeer time.Duration // until the first peer was found; 0 if none
	Announced int           // for Announce: nodes that acknowledged announce_peer
}

const (
	stFresh = iota
	stInflight
	stAnswered
	stFailed
)

type cand struct {
	ni    nodeInfo
	known bool // ID known (false for bootstrap routers not yet answered)
	state int
	ert   time.Duration // expected RTT: srtt, or the median of known nodes'
	slow  bool          // in flight past its soft timeout
	soft  time.Time     // when an in-flight query becomes slow
	due   time.Time     // when its query is expected to lead near the target
	token []byte
}

type iterResult struct {
	closest  []*cand // answered nodes, closest first
	peers    []netip.AddrPort
	firstAt  time.Time // when the first peer was found
	queries  int
	answered int
}

// lookup is the state of one iterative lookup.
type lookup struct {
	n       *Node
	target  ID
	cands   []*cand
	seen    map[netip.AddrPort]bool
	seenID  map[ID]bool
	peers   []netip.AddrPort
	seenP   map[netip.AddrPort]bool
	self    ID
	only4   bool
	only6   bool
	answers int
	start   time.Time
	firstAt time.Time
	defSoft time.Duration // soft timeout for nodes without an RTT estimate
	typRTT  time.Duration // expected RTT of nodes without an estimate
	lgK     float64       // log2 of the typical distance to the k-th closest node; 0 if unknown
}

// usable reports whether a lookup may query a: a unicast address of the
// socket's family (either, on an unspecified address), not our own.
func (n *Node) usable(a netip.AddrPort) bool {
	ip, self := a.Addr(), n.addr.Addr()
	if !a.IsValid() || a.Port() == 0 || ip.IsUnspecified() || ip.IsMulticast() || a == n.addr {
		return false
	}
	return !self.IsValid() || self.IsUnspecified() || self.Is4() == ip.Is4()
}

// addLocked adds a candidate. Called with n.mu held.
func (l *lookup) addLocked(ni nodeInfo, known bool) {
	if !l.n.usable(ni.Addr) || l.seen[ni.Addr] || (known && (ni.ID == l.self || l.seenID[ni.ID])) {
		return
	}
	l.seen[ni.Addr] = true
	if known {
		l.seenID[ni.ID] = true
	}
	ert := l.typRTT
	if e, ok := l.n.rtt[ni.Addr]; ok {
		ert = e.srtt
	}
	l.cands = append(l.cands, &cand{ni: ni, known: known, ert: ert})
}

// sort orders candidates: unknown IDs first, then by distance; fresh
// candidates beyond maxCandidates are dropped.
func (l *lookup) sort() {
	slices.SortStableFunc(l.cands, func(a, b *cand) int {
		switch {
		case a.known != b.known:
			if !a.known {
				return -1
			}
			return 1
		case closer(l.target, a.ni.ID, b.ni.ID):
			return -1
		case closer(l.target, b.ni.ID, a.ni.ID):
			return 1
		}
		return 0
	})
	fresh := 0
	l.cands = slices.DeleteFunc(l.cands, func(c *cand) bool {
		if c.state != stFresh {
			return false
		}
		fresh++
		return fresh > maxCandidates
	})
}

// best returns the closest known candidate that has not failed.
func (l *lookup) best() *cand {
	for _, c := range l.cands {
		if c.known && c.state != stFailed {
			return c
		}
	}
	return nil
}

// skip reports whether c is left out of the k closest: it failed, or its
// query is slow (its answer is still taken if it comes).
func (c *cand) skip() bool {
	return c.state == stFailed || (c.state == stInflight && c.slow)
}

// next returns the next candidate to query: an unknown router, or the
// fresh node among the k closest that have not failed and are not slow
// that promises the earliest answer from near the target.
func (l *lookup) next() *cand {
	count := 0
	var best *cand
	var bestCost time.Duration
	for _, c := range l.cands {
		if c.skip() {
			continue
		}
		if !c.known {
			if c.state == stFresh {
				return c
			}
			continue
		}
		if count++; count > bucketK {
			break
		}
		if c.state != stFresh {
			continue
		}
		if l.lgK == 0 {
			return c // closest first
		}
		if cost := l.cost(c); best == nil || cost < bestCost {
			best, bestCost = c, cost
		}
	}
	return best
}

// earliestDue returns the earliest due time of the queries in flight
// that are not slow.
func (l *lookup) earliestDue() (time.Time, bool) {
	var d time.Time
	for _, c := range l.cands {
		if c.state == stInflight && !c.slow && (d.IsZero() || c.due.Before(d)) {
			d = c.due
		}
	}
	return d, !d.IsZero()
}

// bitsPerHop is how many bits closer to the target a lookup gets per
// hop, roughly: an answer holds the best 8 of a bucket.
const bitsPerHop = 3

// cost estimates how long it takes from querying c to hearing from one
// of the k nodes closest to the target: c's expected RTT, plus a typical
// RTT for each further hop.
func (l *lookup) cost(c *cand) time.Duration {
	far := logDist(l.target, c.ni.ID) - l.lgK
	hops := 0
	if far > 0 {
		hops = int(math.Ceil(far / bitsPerHop))
	}
	return c.ert + time.Duration(hops)*l.typRTT
}

// done reports whether the k closest known candidates that have neither
// failed nor become slow have all answered (all of them if fewer) and no
// router query is pending.
func (l *lookup) done() bool {
	count := 0
	for _, c := range l.cands {
		if c.skip() {
			continue
		}
		if !c.known {
			if c.state == stInflight {
				return false
			}
			continue
		}
		if c.state != stAnswered {
			return false
		}
		if count++; count == bucketK {
			return true
		}
	}
	return l.answers > 0
}

// defaultSoftTimeoutLocked returns the soft timeout for nodes without an
// RTT estimate, a percentile of the smoothed RTTs of known nodes, and
// their median. Called with n.mu held.
func (n *Node) defaultSoftTimeoutLocked() (soft, typical time.Duration) {
	var s []time.Duration
	for _, e := range n.rtt {
		if s = append(s, e.srtt); len(s) >= 512 {
			break
		}
	}
	if len(s) < 8 {
		return defSoftTimeout, defSoftTimeout
	}
	slices.Sort(s)
	soft = min(max(s[int(softPercentile*float64(len(s)-1))], minSoftTimeout), maxSoftTimeout)
	return soft, s[len(s)/2]
}

// lgKLocked estimates log2 of the distance within which a target's k
// closest nodes lie, from the distance of the k-th closest node to the own
// ID; 0 if the table holds fewer than k nodes. Called with n.mu held.
func (n *Node) lgKLocked() float64 {
	cl := n.tbl.closest(n.id, bucketK)
	if len(cl) < bucketK {
		return 0
	}
	return max(logDist(n.id, cl[bucketK-1].ID), 1)
}

// softTimeoutLocked is how long a query to addr may take before the
// lookup sends another one. Called with n.mu held.
func (l *lookup) softTimeoutLocked(addr netip.AddrPort) time.Duration {
	if e, ok := l.n.rtt[addr]; ok {
		return min(max(e.srtt+e.rttvar, minSoftTimeout), maxSoftTimeout)
	}
	return l.defSoft
}

type qres struct {
	c   *cand
	m   msg
	err error
}

// lookupOpts tunes one iterative lookup.
type lookupOpts struct {
	alpha int
	// peerQuorum > 0 ends a get_peers lookup once that many nodes have
	// answered with peers.
	peerQuorum int
	// lateAfter > 0 raises alpha to alphaSlow once the lookup has run
	// that long.
	lateAfter time.Duration
	// thrifty skips a candidate when a query in flight is expected to
	// lead near the target a typical RTT earlier.
	thrifty bool
	// onAnswer, if set, sees each answer (in the lookup's goroutine); when
	// it returns true the lookup ends.
	onAnswer func(*msg) bool
}

// iterate runs an iterative find_node, get_peers or get lookup for
// target, starting from the closest known nodes and the given routers.
//
// Each answer is passed to the optional onAnswer (in this goroutine);
// when it returns true the lookup ends.
func (n *Node) iterate(ctx context.Context, target ID, method string, routers []netip.AddrPort, onAnswer ...func(*msg) bool) iterResult {
	o := lookupOpts{alpha: alphaStart}
	if len(onAnswer) > 0 {
		o.onAnswer = onAnswer[0]
	}
	return n.iterateOpts(ctx, target, method, routers, o)
}

// iterateOpts is iterate with options. It keeps o.alpha queries in flight
// that are not slow; a query that passes its soft timeout stays in flight
// (its answer is used if it comes before the end) but no longer holds the
// lookup back. Every query sent is counted.
func (n *Node) iterateOpts(ctx context.Context, target ID, method string, routers []netip.AddrPort, o lookupOpts) iterResult {
	n.mu.Lock()
	l := &lookup{
		n: n, target: target, self: n.id, start: time.Now(),
		seen: make(map[netip.AddrPort]bool), seenID: make(map[ID]bool), seenP: make(map[netip.AddrPort]bool),
	}
	if a := n.addr.Addr(); a.IsValid() && !a.IsUnspecified() {
		l.only4, l.only6 = a.Is4(), !a.Is4()
	}
	seeds := append(n.tbl.closest(target, 2*bucketK), n.contacts.closest(target, contactsTaken)...)
	l.defSoft, l.typRTT = n.defaultSoftTimeoutLocked()
	l.lgK = n.lgKLocked()
	for _, ni := range seeds {
		l.addLocked(ni, true)
	}
	for _, a := range routers {
		l.addLocked(nodeInfo{Addr: a}, false)
	}
	n.mu.Unlock()
	l.sort()

	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res := make(chan qres, 16) // drained before returning
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	alpha := max(o.alpha, 1)
	inflight, active, queries, withPeers := 0, 0, 0, 0
loop:
	for {
		if l.done() || (o.peerQuorum > 0 && withPeers >= o.peerQuorum) {
			break
		}
		if o.lateAfter > 0 && alpha < alphaSlow && time.Since(l.start) >= o.lateAfter {
			alpha = alphaSlow // running late: widen the search
		}
		for active < alpha && queries < maxLookupQueries && lctx.Err() == nil {
			c := l.next()
			if c == nil {
				break
			}
			now := time.Now()
			if o.thrifty && l.lgK != 0 {
				c.due = now.Add(l.cost(c))
				if d, ok := l.earliestDue(); ok && c.due.Sub(d) >= l.typRTT {
					break // a query in flight is likely to get there first
				}
			}
			n.mu.Lock()
			c.soft = now.Add(l.softTimeoutLocked(c.ni.Addr))
			n.mu.Unlock()
			c.state = stInflight
			inflight++
			active++
			queries++
			q := &msg{Q: method}
			if method == mGetPeers {
				q.IH, q.Has = target, hasInfoHash
			} else {
				q.Tgt, q.Has = target, hasTarget
			}
			go func() {
				m, err := n.query(lctx, c.ni.Addr, q)
				res <- qres{c, m, err}
			}()
		}
		if inflight == 0 {
			break
		}
		// Wait for an answer or for the next query to become slow.
		var wake time.Time
		for _, c := range l.cands {
			if c.state == stInflight && !c.slow && (wake.IsZero() || c.soft.Before(wake)) {
				wake = c.soft
			}
		}
		var tc <-chan time.Time
		if !wake.IsZero() {
			timer.Reset(time.Until(wake))
			tc = timer.C
		}
		var r qres
		select {
		case r = <-res:
			timer.Stop()
		case <-tc:
			now := time.Now()
			for _, c := range l.cands {
				if c.state == stInflight && !c.slow && !now.Before(c.soft) {
					c.slow = true
					active-- // one more query takes its place
				}
			}
			continue
		}
		inflight--
		if !r.c.slow {
			active--
		}
		r.c.slow = false
		if r.err != nil {
			r.c.state = stFailed
			continue
		}
		l.answers++
		r.c.state = stAnswered
		r.c.ni.ID, r.c.known = r.m.ID, true
		r.c.token = r.m.Tok
		if o.onAnswer != nil && o.onAnswer(&r.m) {
			break loop
		}
		nodes := r.m.Nodes
		if l.only6 {
			nodes = r.m.Nodes6
		} else if !l.only4 {
			nodes = append(slices.Clip(nodes), r.m.Nodes6...)
		}
		best := l.best()
		nodes = nodes[:min(len(nodes), takePerResponse)]
		now := time.Now()
		n.mu.Lock()
		for _, ni := range nodes {
			if n.usable(ni.Addr) && ni.ID != l.self {
				n.contacts.add(ni, now, false)
			}
			l.addLocked(ni, true)
		}
		n.mu.Unlock()
		got := false
		for _, p := range r.m.Values {
			if len(l.peers) >= maxLookupPeers {
				break
			}
			if p.Port() == 0 || p.Addr().IsUnspecified() || l.seenP[p] {
				continue
			}
			got = true
			l.seenP[p] = true
			if len(l.peers) == 0 {
				l.firstAt = time.Now()
			}
			l.peers = append(l.peers, p)
		}
		if got {
			withPeers++
		}
		l.sort()
		if best != nil && l.best() == best {
			// No closer node: widen the search.
			alpha = min(alpha+1, alphaSlow)
		}
	}
	cancel() // queries still in flight are slow or farther than the k closest answers
	for ; inflight > 0; inflight-- {
		<-res
	}
	out := iterResult{peers: l.peers, firstAt: l.firstAt, queries: queries, answered: l.answers}
	for _, c := range l.cands {
		if c.state == stAnswered && c.known && c.ni.ID != l.self {
			out.closest = append(out.closest, c)
		}
	}
	return out
}

// routers resolves the bootstrap list.
func (n *Node) routers() []netip.AddrPort {
	list := n.cfg.Bootstrap
	if list == nil {
		list = DefaultBootstrap
	}
	var out []netip.AddrPort
	for _, s := range list {
		ua, err := net.ResolveUDPAddr("udp", s)
		if err != nil {
			n.log.Debug("dht: cannot resolve bootstrap node", "addr", s, "err", err)
			continue
		}
		ap := ua.AddrPort()
		out = append(out, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
	}
	return out
}

// Bootstrap looks up the node's own ID starting from the routing table and
// the bootstrap list until the table has nodes (at most three rounds). It
// fails if no node answered.
func (n *Node) Bootstrap(ctx context.Context) error {
	routers := n.routers()
	answered := 0
	for round := 0; round < 3; round++ {
		if round > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-n.ctx.Done():
				return net.ErrClosed
			case <-time.After(time.Duration(round) * time.Second):
			}
		}
		r := n.iterate(ctx, n.ID(), mFindNode, routers)
		answered += r.answered
		if n.Nodes() > 0 {
			n.sample(ctx)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if answered == 0 {
		return errors.New("dht: bootstrap: no node answered")
	}
	return errors.New("dht: bootstrap: routing table still empty")
}

// sample fills a sparse contact cache with nodes spread over the ID
// space: for each of sampleQueries equal parts of the space it asks the
// closest known node (not asked yet), which knows that part best, for the
// nodes closest to a random target in it. Lookups then start a few bits
// closer to any target than the routing table alone would allow. A node
// that knows sampleEnough contacts, or half of a small network, does not
// sample.
func (n *Node) sample(ctx context.Context) {
	n.mu.Lock()
	enough := sampleEnough
	if lg := n.lgKLocked(); lg != 0 {
		// k nodes within 2^lg of any point: k*2^(160-lg) in all.
		enough = min(enough, int(bucketK*math.Exp2(160-lg)/2))
	}
	have := n.contacts.len()
	n.mu.Unlock()
	if have >= enough {
		return
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, sampleParallel)
	used := make(map[netip.AddrPort]bool)
	for i := range sampleQueries {
		if ctx.Err() != nil {
			break
		}
		// Parts in bit-reversed order, so that the first answers
		// already cover the whole space coarsely.
		target := randomID()
		part := bits.Reverse8(uint8(i)) >> (8 - sampleBits)
		target[0] = target[0]&(0xff>>sampleBits) | part<<(8-sampleBits)
		sem <- struct{}{}
		n.mu.Lock()
		var via netip.AddrPort
		for _, ni := range n.contacts.closest(target, sampleParallel) {
			if !used[ni.Addr] {
				via = ni.Addr
				break
			}
		}
		n.mu.Unlock()
		if !via.IsValid() {
			<-sem
			continue
		}
		used[via] = true
		wg.Go(func() {
			defer func() { <-sem }()
			m, err := n.query(ctx, via, &msg{Q: mFindNode, Tgt: target, Has: hasTarget})
			if err != nil {
				return
			}
			now := time.Now()
			n.mu.Lock()
			for _, ni := range slices.Concat(m.Nodes[:min(len(m.Nodes), takePerResponse)], m.Nodes6[:min(len(m.Nodes6), takePerResponse)]) {
				if n.usable(ni.Addr) && ni.ID != n.id {
					n.contacts.add(ni, now, false)
				}
			}
			n.mu.Unlock()
		})
	}
	wg.Wait()
}

func (n *Node) seedRouters() []netip.AddrPort {
	if n.Nodes() == 0 {
		return n.routers()
	}
	return nil
}

// GetPeers looks up peers for info-hash ih. It returns with the peers of
// the first node that gives some (Lookup.FirstPeer), or when the closest
// nodes have all answered without any.
func (n *Node) GetPeers(ctx context.Context, ih ID) (Lookup, error) {
	start := time.Now()
	r := n.iterateOpts(ctx, ih, mGetPeers, n.seedRouters(), lookupOpts{alpha: alphaPeers, peerQuorum: 1, lateAfter: lateAfter, thrifty: true})
	l := Lookup{Peers: r.peers, Queries: r.queries, Duration: time.Since(start)}
	if !r.firstAt.IsZero() {
		l.FirstPeer = r.firstAt.Sub(start)
	}
	if r.answered == 0 {
		if err := ctx.Err(); err != nil {
			return l, err
		}
		return l, errors.New("dht: get_peers: no node answered")
	}
	return l, nil
}

// Announce finds the nodes closest to ih with get_peers and announces
// port to the closest bucketK of them that gave a token. Port 0 means
// implied_port (the source port of our datagrams).
func (n *Node) Announce(ctx context.Context, ih ID, port int) (Lookup, error) {
	if port < 0 || port > 65535 {
		return Lookup{}, errors.New("dht: announce: bad port")
	}
	start := time.Now()
	r := n.iterate(ctx, ih, mGetPeers, n.seedRouters())
	l := Lookup{Peers: r.peers, Queries: r.queries}
	var targets []*cand
	for _, c := range r.closest {
		if len(c.token) > 0 && len(targets) < bucketK {
			targets = append(targets, c)
		}
	}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for _, c := range targets {
		q := &msg{Q: mAnnounce, IH: ih, Tok: c.token, Has: hasInfoHash | hasToken | hasPort, Port: port}
		if port == 0 {
			q.Impl, q.Port = true, int(n.addr.Port())
		}
		l.Queries++
		wg.Go(func() {
			if _, err := n.query(ctx, c.ni.Addr, q); err == nil {
				mu.Lock()
				l.Announced++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	l.Duration = time.Since(start)
	if l.Announced == 0 {
		if err := ctx.Err(); err != nil {
			return l, err
		}
		return l, errors.New("dht: announce: no node acknowledged")
	}
	return l, nil
}
