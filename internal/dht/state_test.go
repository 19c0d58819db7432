package dht

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"
)

// TestStatePersistence saves a node's table on Close and restores ID and
// contacts in a new node; the restored node can look up without routers.
func TestStatePersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dht.json")
	synctest.Test(t, func(t *testing.T) {
		c := newSimCluster(t, 11)
		defer c.close()
		c.build(20, 2)
		h := c.net.AddHost(simAddr(500), c.link(0), c.link(0))
		conn, err := h.Listen(simPort)
		if err != nil {
			t.Fatal(err)
		}
		n, err := New(Config{Conn: conn, Bootstrap: c.boot, StatePath: path})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := n.Bootstrap(ctx); err != nil {
			t.Fatal(err)
		}
		id, size := n.ID(), n.Nodes()
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); err != nil {
			t.Fatal(err)
		}
		conn, err = h.Listen(simPort)
		if err != nil {
			t.Fatal(err)
		}
		n2, err := New(Config{Conn: conn, Bootstrap: []string{}, StatePath: path})
		if err != nil {
			t.Fatal(err)
		}
		defer n2.Close()
		if n2.ID() != id || n2.Nodes() != size {
			t.Fatalf("restored ID %v with %d nodes, want %v with %d", n2.ID(), n2.Nodes(), id, size)
		}
		if _, err := n2.GetPeers(ctx, ihFor("restored-node-lookup")); err != nil {
			t.Fatalf("lookup from restored table: %v", err)
		}
	})
	// A corrupt state file is reported and ignored.
	os.WriteFile(path, []byte("{not json"), 0o600)
	if st, err := loadState(path); err == nil || st != nil {
		t.Fatalf("loadState of corrupt file = %v, %v", st, err)
	}
}

// TestExternalIPVotes checks that an unfixed ID becomes BEP 42-conformant
// once three responders report the same public address.
func TestExternalIPVotes(t *testing.T) {
	n, err := New(Config{Conn: &discardConn{}, Shared: true, Bootstrap: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	pub := netip.MustParseAddr("81.2.69.160")
	if ValidID(n.ID(), pub) {
		t.Skip("random ID happens to be valid already")
	}
	n.mu.Lock()
	for i := range 3 {
		n.voteLocked(pub, netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), time.Now())
	}
	n.mu.Unlock()
	if !ValidID(n.ID(), pub) {
		t.Fatalf("ID %v not valid for %v after votes", n.ID(), pub)
	}
}
