package dht

import (
	"bytes"
	"context"
	"net/netip"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nextshare/nextshare/internal/simnet"
)

// TestSimFlood sends a victim node malformed, oversized and valid-looking
// queries from many simulated sources: counters rise, state stays bounded
// and legitimate lookups still work.
func TestSimFlood(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newSimCluster(t, 7)
		defer c.close()
		c.build(30, 3)
		victim := c.nodes[10]
		victim.mu.Lock()
		victim.peers.maxTotal, victim.peers.maxPerHash, victim.peers.maxHashes = 500, 20, 50
		victim.mu.Unlock()

		const attackers = 300
		type atk struct {
			ip   netip.Addr
			send func([]byte)
		}
		var atks []atk
		for i := range attackers {
			h := c.net.AddHost(simAddr(0x10000+i), c.link(0), c.link(0))
			conn, err := h.Listen(simPort)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			atks = append(atks, atk{h.Addr(), func(b []byte) { conn.WriteToUDPAddrPort(b, victim.Addr()) }})
		}
		big := append([]byte("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:q1:z4000:"), bytes.Repeat([]byte("x"), 4000)...)
		big = append(big, 'e')
		garbage := [][]byte{
			[]byte("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qeTRAILING"),
			[]byte("d1:t2:aa1:y1:q"),
			[]byte("d1:ad2:id19:short-idxxxxxxxxxxe1:q4:ping1:t2:aa1:y1:qe"),
			[]byte("dllllllllllllllllllllllllllllllllllllll"),
			[]byte("d99999999999999999999:x"),
			big,
		}
		sent := 0
		for round := range 3 {
			for i, a := range atks {
				for _, g := range garbage {
					a.send(g)
					sent++
				}
				var id ID
				id[0], id[1], id[2] = byte(i), byte(i>>8), byte(round)
				for j := range 20 {
					var ih ID
					ih[0], ih[1], ih[2] = byte(j), byte(i), byte(round)
					q := msg{T: []byte{byte(j), byte(round)}, Y: 'q', ID: id, Has: hasID}
					switch j % 4 {
					case 0:
						q.Q = mPing
					case 1:
						q.Q, q.Tgt, q.Has = mFindNode, ih, q.Has|hasTarget
					case 2:
						q.Q, q.IH, q.Has = mGetPeers, ih, q.Has|hasInfoHash
					case 3:
						victim.mu.Lock()
						tok := victim.tok.issue(a.ip, time.Now())
						victim.mu.Unlock()
						q.Q, q.IH, q.Tok, q.Port, q.Has = mAnnounce, ih, tok, 1000+j, q.Has|hasInfoHash|hasToken|hasPort
					}
					a.send(encodeMsg(nil, &q))
					sent++
				}
			}
			time.Sleep(3 * time.Second)
		}
		time.Sleep(5 * time.Second) // verification pings to the silent attackers time out
		s := victim.Stats()
		t.Logf("flood: %d datagrams sent; victim stats: malformed %d (oversized %d), rate-limited %d, queries answered %d, "+
			"table %d, peers %d in %d info-hashes (%d refused), pending %d, timeouts %d",
			sent, s.Malformed, s.Oversized, s.RateLimited, s.ResponsesSent(), s.Nodes, s.Peers, s.InfoHashes, s.StoreFull, s.PendingTx, s.Timeouts)
		if s.Malformed < uint64(attackers*3*(len(garbage)-1)) || s.Oversized == 0 {
			t.Errorf("malformed/oversized datagrams not counted: %+v", s)
		}
		if s.RateLimited == 0 {
			t.Error("no query was rate-limited")
		}
		if s.Peers > 500 || s.InfoHashes > 50 || s.StoreFull == 0 {
			t.Errorf("peer store not bounded: %d peers, %d info-hashes, %d refused", s.Peers, s.InfoHashes, s.StoreFull)
		}
		victim.mu.Lock()
		for _, a := range atks {
			if victim.tbl.find(netip.AddrPortFrom(a.ip, simPort)) != nil {
				t.Errorf("silent attacker %v entered the routing table", a.ip)
				break
			}
		}
		victim.mu.Unlock()
		if s.Nodes > 160*bucketK || s.RTTEntries > maxRTTEntries || s.PendingTx > maxVerifyPings {
			t.Errorf("state not bounded: %+v", s)
		}

		// Legitimate use still works, through the victim too.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		ih := ihFor("after-the-flood-----")
		if _, err := c.nodes[3].Announce(ctx, ih, 4242); err != nil {
			t.Fatalf("announce: %v", err)
		}
		l, err := victim.GetPeers(ctx, ih)
		want := netip.AddrPortFrom(c.nodes[3].Addr().Addr(), 4242)
		if err != nil || !slices.Contains(l.Peers, want) {
			t.Fatalf("lookup after flood: %v, peers %v", err, l.Peers)
		}
	})
}

// TestServerAnswers checks the server side directly: answers, errors,
// tokens, implied_port and the amplification bound.
func TestServerAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newSimCluster(t, 3)
		defer c.close()
		srv := c.add(1, Config{Bootstrap: []string{}})
		h := c.net.AddHost(simAddr(2), simnet0(), simnet0())
		conn, err := h.Listen(5555)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		buf := make([]byte, 2048)
		ask := func(q msg) msg {
			t.Helper()
			q.Y, q.T, q.Has = 'q', []byte("tx"), q.Has|hasID
			b := encodeMsg(nil, &q)
			conn.WriteToUDPAddrPort(b, srv.Addr())
			conn.SetReadDeadline(time.Now().Add(time.Second))
			for {
				n, _, err := conn.ReadFromUDPAddrPort(buf)
				if err != nil {
					t.Fatalf("%s: no answer: %v", q.Q, err)
				}
				m, err := decodeMsg(bytes.Clone(buf[:n]))
				if err != nil {
					t.Fatalf("%s: bad answer %q: %v", q.Q, buf[:n], err)
				}
				if m.Y == 'q' || string(m.T) != "tx" {
					continue // the server verifying us with a ping
				}
				if n > ampFactor*len(b) && n > 128 {
					t.Errorf("%s: answer of %d bytes to a query of %d", q.Q, n, len(b))
				}
				return m
			}
		}
		me := ihFor("the-querying-node---")
		if r := ask(msg{Q: mPing, ID: me}); r.Y != 'r' || r.ID != srv.ID() || r.IP != conn.LocalAddrPort() {
			t.Errorf("ping answer %+v", r)
		}
		if r := ask(msg{Q: "vote", ID: me}); r.Y != 'e' || r.ECode != errMethod {
			t.Errorf("unknown method answer %+v", r)
		}
		if r := ask(msg{Q: mFindNode, ID: me}); r.Y != 'e' || r.ECode != errProtocol {
			t.Errorf("find_node without target: %+v", r)
		}
		ih := ihFor("server-answers-ih---")
		gp := ask(msg{Q: mGetPeers, ID: me, IH: ih, Has: hasInfoHash})
		if gp.Y != 'r' || len(gp.Tok) == 0 {
			t.Fatalf("get_peers answer %+v", gp)
		}
		if r := ask(msg{Q: mAnnounce, ID: me, IH: ih, Tok: []byte("forged!!"), Port: 1, Has: hasInfoHash | hasToken | hasPort}); r.Y != 'e' || r.ECode != errProtocol {
			t.Errorf("announce with a bad token: %+v", r)
		}
		if r := ask(msg{Q: mAnnounce, ID: me, IH: ih, Tok: gp.Tok, Port: 9, Impl: true, Has: hasInfoHash | hasToken | hasPort}); r.Y != 'r' {
			t.Errorf("announce: %+v", r)
		}
		// implied_port: the peer is stored with the query's source port.
		if r := ask(msg{Q: mGetPeers, ID: me, IH: ih, Has: hasInfoHash}); len(r.Values) != 1 || r.Values[0] != conn.LocalAddrPort() {
			t.Errorf("values after implied_port announce: %v, want [%v]", r.Values, conn.LocalAddrPort())
		}
		// Many peers: the answer's values are trimmed to the size bound.
		srv.mu.Lock()
		for i := range 150 {
			srv.peers.add(ih, netip.AddrPortFrom(simAddr(0x20000+i), 80), time.Now())
		}
		srv.mu.Unlock()
		r := ask(msg{Q: mGetPeers, ID: me, IH: ih, Has: hasInfoHash})
		if len(r.Values) == 0 || len(r.Values) >= 50 {
			t.Errorf("get_peers answer has %d values, want some but fewer than the 50 allowed without the size bound", len(r.Values))
		}
		// Tokens survive one rotation, not two.
		time.Sleep(tokenRotate + time.Second)
		if r := ask(msg{Q: mAnnounce, ID: me, IH: ih, Tok: gp.Tok, Port: 7, Has: hasInfoHash | hasToken | hasPort}); r.Y != 'r' {
			t.Errorf("token from the previous period refused: %+v", r)
		}
		time.Sleep(tokenRotate)
		if r := ask(msg{Q: mAnnounce, ID: me, IH: ih, Tok: gp.Tok, Port: 7, Has: hasInfoHash | hasToken | hasPort}); r.Y != 'e' {
			t.Errorf("token two periods old accepted: %+v", r)
		}
		// Peers expire after 30 minutes.
		time.Sleep(peerTTL)
		srv.mu.Lock()
		got := srv.peers.get(ih, 1000, time.Now())
		srv.mu.Unlock()
		if len(got) != 0 {
			t.Errorf("%d peers left after expiry", len(got))
		}
	})
}

func simnet0() simnet.LinkConfig { return simnet.LinkConfig{Delay: 5 * time.Millisecond} }

// TestSpoofedResponse checks that an answer is accepted only from the
// address the query went to.
func TestSpoofedResponse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newSimCluster(t, 5)
		defer c.close()
		n := c.add(1, Config{Bootstrap: []string{}})
		target, err := c.net.AddHost(simAddr(2), simnet0(), simnet0()).Listen(7000)
		if err != nil {
			t.Fatal(err)
		}
		defer target.Close()
		spoofer, err := c.net.AddHost(simAddr(3), simnet0(), simnet0()).Listen(7000)
		if err != nil {
			t.Fatal(err)
		}
		defer spoofer.Close()
		done := make(chan error, 1)
		go func() { done <- n.ping(context.Background(), target.LocalAddrPort()) }()
		buf := make([]byte, 1500)
		nr, _, err := target.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatal(err)
		}
		q, err := decodeMsg(buf[:nr])
		if err != nil || q.Q != mPing {
			t.Fatalf("query %q: %v", buf[:nr], err)
		}
		r := msg{T: q.T, Y: 'r', ID: ihFor("responder-id--------"), Has: hasID}
		spoofer.WriteToUDPAddrPort(encodeMsg(nil, &r), n.Addr())
		time.Sleep(200 * time.Millisecond) // less than the 1 s timeout of an unknown node
		if s := n.Stats(); s.Unmatched != 1 || n.Nodes() != 0 {
			t.Fatalf("spoofed answer: unmatched %d, table %d", s.Unmatched, n.Nodes())
		}
		target.WriteToUDPAddrPort(encodeMsg(nil, &r), n.Addr())
		if err := <-done; err != nil {
			t.Fatalf("ping: %v", err)
		}
		if n.Nodes() != 1 {
			t.Fatalf("responder not added: table %d", n.Nodes())
		}
	})
}
