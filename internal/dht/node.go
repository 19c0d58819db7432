package dht

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"
)

// DefaultBootstrap lists well-known public routers used when
// Config.Bootstrap is nil.
var DefaultBootstrap = []string{"router.bittorrent.com:6881", "dht.transmissionbt.com:6881", "router.utorrent.com:6881", "dht.libtorrent.org:25401"}

// Config configures a Node.
type Config struct {
	// Conn is the UDP socket. The node always sends on it. Unless Shared
	// is set, the node also reads from it (and owns it: Close closes it).
	Conn net.PacketConn
	// Shared: the socket's owner reads it and hands KRPC datagrams (those
	// whose first byte is 'd') to HandlePacket; Close does not close Conn.
	Shared bool
	// ID is the node ID; zero means a random ID (BEP 42-conformant when
	// the external IP is known).
	ID ID
	// Bootstrap lists "host:port" routers; nil means DefaultBootstrap.
	Bootstrap []string
	// ReadOnly (BEP 43): send "ro":1, never answer queries, never enter
	// others' routing tables.
	ReadOnly bool
	// StatePath, if set, is where the routing table is loaded from by New
	// and saved to periodically and on Close (atomic rename).
	StatePath string
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger

	// Tuning used by tests; zero values take the defaults.
	queryRate  float64 // per-source-IP queries per second (negative: unlimited)
	queryBurst float64
	tick       time.Duration // maintenance period
}

const (
	defaultQueryRate  = 20
	defaultQueryBurst = 40
	defaultTick       = time.Minute
	saveEvery         = 10 * time.Minute
	ampFactor         = 4 // responses are at most this many times the query's size
	maxVerifyPings    = 8 // concurrent pings of unknown querying nodes
	maxRTTEntries     = 8192
	ipVotesNeeded     = 3
)

// Node is a Mainline DHT node.
type Node struct {
	cfg    Config
	conn   net.PacketConn
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed sync.Once

	mu        sync.Mutex
	id        ID
	idFixed   bool
	addr      netip.AddrPort
	tbl       *table
	pending   map[txKey]*tx
	rtt       map[netip.AddrPort]rttEst
	contacts  *contacts
	tok       *tokens
	peers     *peerStore
	items     *itemStore // BEP 44
	lim       *limiter
	stats     Stats
	verifying int
	closing   bool
	votes     map[netip.Addr]map[netip.Addr]bool // external IP -> voters
	external  netip.Addr
	lastSave  time.Time
}

type txKey struct {
	addr netip.AddrPort
	tid  uint16
}

type tx struct {
	ch     chan msg
	method string
	sent   time.Time
}

type rttEst struct {
	srtt, rttvar time.Duration
}

// New creates a node and starts its goroutines. It does not touch the
// network beyond the given socket and does not block on it.
func New(cfg Config) (*Node, error) {
	if cfg.Conn == nil {
		return nil, errors.New("dht: Config.Conn is nil")
	}
	if cfg.queryRate == 0 {
		cfg.queryRate, cfg.queryBurst = defaultQueryRate, defaultQueryBurst
	}
	if cfg.tick <= 0 {
		cfg.tick = defaultTick
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	now := time.Now()
	n := &Node{
		cfg:      cfg,
		conn:     cfg.Conn,
		log:      lg,
		pending:  make(map[txKey]*tx),
		rtt:      make(map[netip.AddrPort]rttEst),
		contacts: newContacts(),
		tok:      newTokens(now),
		peers:    newPeerStore(),
		items:    newItemStore(),
		lim:      newLimiter(cfg.queryRate, cfg.queryBurst),
		votes:    make(map[netip.Addr]map[netip.Addr]bool),
		lastSave: now,
	}
	if ap, err := netip.ParseAddrPort(cfg.Conn.LocalAddr().String()); err == nil {
		n.addr = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	// An explicit ID is kept as is; a saved or random one may be replaced
	// by a BEP 42 ID once the external IP is known.
	n.id, n.idFixed = cfg.ID, cfg.ID != ID{}
	var saved []nodeInfo
	if cfg.StatePath != "" {
		st, err := loadState(cfg.StatePath)
		if err != nil {
			lg.Warn("dht: cannot load state", "path", cfg.StatePath, "err", err)
		} else if st != nil {
			if !n.idFixed {
				n.id = st.id
			}
			saved = st.nodes
		}
	}
	if n.id == (ID{}) {
		n.id = newIDFor(n.addr.Addr())
		if !bep42Exempt(n.addr.Addr()) {
			n.external = n.addr.Addr()
		}
	}
	n.tbl = newTable(n.id, now)
	for _, ni := range saved {
		n.tbl.insert(ni, now, false)
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	if !cfg.Shared {
		n.wg.Go(n.readLoop)
	}
	n.wg.Go(n.maintain)
	return n, nil
}

// ID returns the node's ID.
func (n *Node) ID() ID {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.id
}

// Addr returns the socket's local address.
func (n *Node) Addr() netip.AddrPort { return n.addr }

// Nodes returns the number of nodes in the routing table.
func (n *Node) Nodes() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.tbl.len()
}

// Close stops the node, saves its state if configured and closes the
// socket unless it is shared.
func (n *Node) Close() error {
	var err error
	n.closed.Do(func() {
		n.mu.Lock()
		n.closing = true
		n.mu.Unlock()
		n.cancel()
		if !n.cfg.Shared {
			err = n.conn.Close()
		}
		n.wg.Wait()
		if n.cfg.StatePath != "" {
			if e := n.save(); e != nil && err == nil {
				err = e
			}
		}
	})
	return err
}

func (n *Node) save() error {
	n.mu.Lock()
	st := state{id: n.id, nodes: n.tbl.nodes()}
	n.mu.Unlock()
	return saveState(n.cfg.StatePath, &st)
}

func (n *Node) readLoop() {
	buf := make([]byte, 2048)
	pc, fast := n.conn.(interface {
		ReadFromUDPAddrPort([]byte) (int, netip.AddrPort, error)
	})
	for {
		var (
			nr   int
			from netip.AddrPort
			err  error
		)
		if fast {
			nr, from, err = pc.ReadFromUDPAddrPort(buf)
		} else {
			var a net.Addr
			nr, a, err = n.conn.ReadFrom(buf)
			if ua, ok := a.(*net.UDPAddr); ok {
				from = ua.AddrPort()
			}
		}
		if err != nil {
			if n.ctx.Err() != nil || errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			n.log.Debug("dht: read", "err", err)
			select {
			case <-n.ctx.Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		if nr > 0 && buf[0] == 'd' {
			n.HandlePacket(buf[:nr], from)
		}
	}
}

// HandlePacket processes one KRPC datagram received from from. b is only
// read during the call. It is safe for concurrent use and does not block.
func (n *Node) HandlePacket(b []byte, from netip.AddrPort) {
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	if len(b) > maxPacket {
		n.mu.Lock()
		n.stats.Oversized++
		n.stats.Malformed++
		n.mu.Unlock()
		return
	}
	m, err := decodeMsg(b)
	if err != nil {
		n.mu.Lock()
		n.stats.Malformed++
		n.mu.Unlock()
		return
	}
	if !from.IsValid() || from.Port() == 0 {
		return
	}
	switch m.Y {
	case 'q':
		n.handleQuery(&m, len(b), from)
	case 'r', 'e':
		n.handleReply(&m, from)
	}
}

func (n *Node) handleReply(m *msg, from netip.AddrPort) {
	now := time.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(m.T) != 2 {
		n.stats.Unmatched++
		return
	}
	key := txKey{from, binary.BigEndian.Uint16(m.T)}
	t := n.pending[key]
	if t == nil {
		n.stats.Unmatched++
		return
	}
	delete(n.pending, key)
	ms := n.stats.method(t.method)
	if m.Y == 'e' {
		ms.ErrorsReceived++
		if e := n.tbl.find(from); e != nil {
			e.fails = 0
		}
	} else {
		ms.ResponsesReceived++
		n.updateRTT(from, now.Sub(t.sent))
		if m.ID != n.id {
			n.contacts.add(nodeInfo{m.ID, from}, now, true)
		}
		if r := n.tbl.insert(nodeInfo{m.ID, from}, now, true); r.ping != nil {
			n.verifyLocked(r.ping.ni)
		}
		if m.IP.IsValid() {
			n.voteLocked(m.IP.Addr().Unmap(), from.Addr(), now)
		}
	}
	// Copy what aliases the datagram before it leaves this call.
	m.T, m.V = nil, nil
	m.Tok = bytes.Clone(m.Tok)
	m.EMsg = bytes.Clone(m.EMsg)
	t.ch <- *m // buffered, one reply per transaction
}

func (n *Node) updateRTT(addr netip.AddrPort, sample time.Duration) {
	e, ok := n.rtt[addr]
	if !ok {
		if len(n.rtt) >= maxRTTEntries {
			i := 0
			for a := range n.rtt {
				if i++; i > maxRTTEntries/8 {
					break
				}
				delete(n.rtt, a)
			}
		}
		e = rttEst{srtt: sample, rttvar: sample / 2}
	} else {
		d := e.srtt - sample
		if d < 0 {
			d = -d
		}
		e.rttvar = (3*e.rttvar + d) / 4
		e.srtt = (7*e.srtt + sample) / 8
	}
	n.rtt[addr] = e
}

// timeoutFor returns the query timeout for addr: srtt+4*rttvar clamped to
// [100ms, 1s], or 1s for a node without an estimate.
func (n *Node) timeoutFor(addr netip.AddrPort) time.Duration {
	n.mu.Lock()
	e, ok := n.rtt[addr]
	n.mu.Unlock()
	if !ok {
		return time.Second
	}
	return min(max(e.srtt+4*e.rttvar, 100*time.Millisecond), time.Second)
}

// voteLocked counts a responder's view of our external IP; once enough
// distinct responders agree on a public IP that our (unfixed) ID does not
// fit under BEP 42, a conformant ID is generated and the table rebuilt.
func (n *Node) voteLocked(ip, voter netip.Addr, now time.Time) {
	if n.idFixed || bep42Exempt(ip) || ip == n.external {
		return
	}
	vs := n.votes[ip]
	if vs == nil {
		if len(n.votes) >= 16 {
			clear(n.votes)
		}
		vs = make(map[netip.Addr]bool)
		n.votes[ip] = vs
	}
	if len(vs) < ipVotesNeeded {
		vs[voter] = true
	}
	if len(vs) < ipVotesNeeded {
		return
	}
	n.external = ip
	clear(n.votes)
	if ValidID(n.id, ip) {
		return
	}
	n.id = newIDFor(ip)
	n.tbl.rehome(n.id, now)
	n.log.Info("dht: new BEP 42 node ID", "ip", ip, "id", n.id)
}

// verifyLocked pings ni in the background (bounded) so that it enters the
// table if it answers, or counts a failure if it does not.
func (n *Node) verifyLocked(ni nodeInfo) {
	if n.verifying >= maxVerifyPings || n.closing {
		return
	}
	n.verifying++
	n.wg.Go(func() {
		defer func() {
			n.mu.Lock()
			n.verifying--
			n.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(n.ctx, 2*time.Second)
		defer cancel()
		n.ping(ctx, ni.Addr)
	})
}

func (n *Node) ping(ctx context.Context, addr netip.AddrPort) error {
	_, err := n.query(ctx, addr, &msg{Q: mPing})
	return err
}

// errTimeout is returned by query when no answer came in time.
var errTimeout = errors.New("dht: query timed out")

// krpcError is an error answer from a remote node.
type krpcError struct {
	Code int
	Msg  string
}

func (e *krpcError) Error() string { return fmt.Sprintf("dht: remote error %d: %s", e.Code, e.Msg) }

// query sends q (its Q and arguments set) to addr and waits for the
// matching answer, the per-node timeout or ctx.
func (n *Node) query(ctx context.Context, addr netip.AddrPort, q *msg) (msg, error) {
	n.mu.Lock()
	var key txKey
	for {
		key = txKey{addr, uint16(rand.Uint32())}
		if n.pending[key] == nil {
			break
		}
	}
	t := &tx{ch: make(chan msg, 1), method: q.Q, sent: time.Now()}
	n.pending[key] = t
	q.Y = 'q'
	q.ID = n.id
	q.Has |= hasID
	q.RO = n.cfg.ReadOnly
	n.stats.method(q.Q).QueriesSent++
	n.mu.Unlock()

	var tid [2]byte
	binary.BigEndian.PutUint16(tid[:], key.tid)
	q.T = tid[:]
	n.send(encodeMsg(make([]byte, 0, 256), q), addr)

	timer := time.NewTimer(n.timeoutFor(addr))
	defer timer.Stop()
	select {
	case r := <-t.ch:
		if r.Y == 'e' {
			return r, &krpcError{r.ECode, string(r.EMsg)}
		}
		return r, nil
	case <-timer.C:
		n.mu.Lock()
		if n.pending[key] == t {
			delete(n.pending, key)
			n.stats.Timeouts++
			n.stats.method(q.Q).Timeouts++
			n.tbl.failed(addr)
			n.contacts.failed(addr)
		}
		n.mu.Unlock()
		select { // an answer may have raced the timer
		case r := <-t.ch:
			return r, nil
		default:
		}
		return msg{}, errTimeout
	case <-ctx.Done():
		n.forget(key, t)
		return msg{}, ctx.Err()
	case <-n.ctx.Done():
		n.forget(key, t)
		return msg{}, net.ErrClosed
	}
}

func (n *Node) forget(key txKey, t *tx) {
	n.mu.Lock()
	if n.pending[key] == t {
		delete(n.pending, key)
	}
	n.mu.Unlock()
}

func (n *Node) send(b []byte, to netip.AddrPort) {
	var err error
	if c, ok := n.conn.(interface {
		WriteToUDPAddrPort([]byte, netip.AddrPort) (int, error)
	}); ok {
		_, err = c.WriteToUDPAddrPort(b, to)
	} else {
		_, err = n.conn.WriteTo(b, net.UDPAddrFromAddrPort(to))
	}
	if err != nil && n.ctx.Err() == nil {
		n.log.Debug("dht: send", "to", to, "err", err)
	}
}

// handleQuery answers an incoming query.
func (n *Node) handleQuery(q *msg, qlen int, from netip.AddrPort) {
	now := time.Now()
	n.mu.Lock()
	ms := n.stats.method(q.Q)
	ms.QueriesReceived++
	if n.cfg.ReadOnly {
		n.stats.Ignored++
		n.mu.Unlock()
		return
	}
	if !n.lim.allow(from.Addr(), now) {
		n.stats.RateLimited++
		n.mu.Unlock()
		return
	}
	r := msg{T: q.T, Y: 'r', ID: n.id, Has: hasID, IP: from}
	code, text := 0, ""
	switch q.Q {
	case mPing:
	case mFindNode:
		if q.Has&hasTarget == 0 {
			code, text = errProtocol, "missing target"
			break
		}
		n.setReplyNodes(&r, q.Tgt, from)
	case mGetPeers:
		if q.Has&hasInfoHash == 0 {
			code, text = errProtocol, "missing info_hash"
			break
		}
		r.Tok = n.tok.issue(from.Addr(), now)
		r.Has |= hasToken
		if vs := n.peers.get(q.IH, maxValuesReply, now); len(vs) > 0 {
			r.Values = vs
			r.Has |= hasValues
		}
		n.setReplyNodes(&r, q.IH, from)
	case mAnnounce:
		port := q.Port
		if q.Impl {
			port = int(from.Port())
		}
		switch {
		case q.Has&hasInfoHash == 0 || q.Has&hasToken == 0 || (q.Has&hasPort == 0 && !q.Impl):
			code, text = errProtocol, "missing argument"
		case port == 0:
			code, text = errProtocol, "bad port"
		case !n.tok.valid(q.Tok, from.Addr(), now):
			code, text = errProtocol, "bad token"
		case !n.peers.add(q.IH, netip.AddrPortFrom(from.Addr(), uint16(port)), now):
			code, text = errServer, "peer store full"
		}
	case mGet:
		code, text = n.serveGetLocked(q, &r, from, now)
	case mPut:
		code, text = n.servePutLocked(q, from, now)
	default:
		code, text = errMethod, "Method Unknown"
	}
	var out []byte
	if code != 0 {
		ms.ErrorsSent++
		e := msg{T: q.T, Y: 'e', ECode: code, EMsg: []byte(text)}
		out = encodeMsg(make([]byte, 0, 64), &e)
	} else {
		ms.ResponsesSent++
		out = encodeMsg(make([]byte, 0, 512), &r)
		// No amplification: trim values, then nodes, to a bounded size.
		limit := min(max(ampFactor*qlen, 128)+itemReplySize(&r), maxPacket)
		for len(out) > limit && (len(r.Values) > 0 || len(r.Nodes) > 0 || len(r.Nodes6) > 0) {
			switch {
			case len(r.Values) > 0:
				r.Values = r.Values[:len(r.Values)/2]
			case len(r.Nodes) > 0:
				r.Nodes = r.Nodes[:len(r.Nodes)/2]
			default:
				r.Nodes6 = r.Nodes6[:len(r.Nodes6)/2]
			}
			out = encodeMsg(out[:0], &r)
		}
	}
	if !q.RO && q.ID != n.id {
		ni := nodeInfo{q.ID, from}
		if !n.tbl.seenQuery(ni, now) && n.tbl.find(from) == nil && n.tbl.wants(q.ID, now) {
			n.verifyLocked(ni)
		}
	}
	n.mu.Unlock()
	n.send(out, from)
}

// setReplyNodes puts the closest nodes of the requester's address family
// into r: "nodes" for IPv4, "nodes6" (BEP 32) for IPv6.
func (n *Node) setReplyNodes(r *msg, target ID, from netip.AddrPort) {
	cand := n.tbl.closest(target, 2*bucketK)
	out := cand[:0]
	v4 := from.Addr().Is4()
	for _, ni := range cand {
		if ni.Addr != from && ni.Addr.Addr().Is4() == v4 && len(out) < bucketK {
			out = append(out, ni)
		}
	}
	if v4 {
		r.Nodes, r.Has = out, r.Has|hasNodes
	} else {
		r.Nodes6, r.Has = out, r.Has|hasNodes6
	}
}

// maintain runs periodic work: token rotation happens lazily; this
// expires peers, pings questionable nodes, refreshes one stale bucket per
// tick and saves the state.
func (n *Node) maintain() {
	tk := time.NewTicker(n.cfg.tick)
	defer tk.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-tk.C:
		}
		now := time.Now()
		n.mu.Lock()
		n.peers.expire(now)
		n.items.expire(now)
		var target ID
		var refresh bool
		if !n.cfg.ReadOnly || n.tbl.len() > 0 {
			target, refresh = n.tbl.staleBucket(now)
		}
		for _, ni := range n.tbl.questionable(now, 4) {
			n.verifyLocked(ni)
		}
		doSave := n.cfg.StatePath != "" && now.Sub(n.lastSave) >= saveEvery
		if doSave {
			n.lastSave = now
		}
		n.mu.Unlock()
		if refresh {
			ctx, cancel := context.WithTimeout(n.ctx, 30*time.Second)
			n.iterate(ctx, target, mFindNode, nil)
			cancel()
		}
		if doSave {
			if err := n.save(); err != nil {
				n.log.Warn("dht: cannot save state", "err", err)
			}
		}
	}
}
