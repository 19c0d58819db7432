package dht

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// TestWatchReverseDiscovery: a read-only source that finds nobody announces
// anyway, so a booster finds it; once viewers announce, the source's
// periodic lookups report each of them exactly once.
func TestWatchReverseDiscovery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newSimCluster(t, 7)
		defer c.close()
		c.build(60, 3)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		ih := ihFor("mobile-source-swarm")

		source := c.add(500, Config{ReadOnly: true})
		if err := source.Bootstrap(ctx); err != nil {
			t.Fatal(err)
		}
		var reported []netip.AddrPort
		done := make(chan error, 1)
		go func() {
			done <- source.Watch(ctx, ih, WatchConfig{Interval: 10 * time.Second, AnnounceIfAlone: true, Port: 7000, Lookups: 4},
				func(p netip.AddrPort) { reported = append(reported, p) })
		}()

		// The first lookup found nobody, so the source announced itself.
		time.Sleep(5 * time.Second)
		booster := c.nodes[20]
		l, err := booster.GetPeers(ctx, ih)
		if err != nil {
			t.Fatal(err)
		}
		srcAddr := netip.AddrPortFrom(source.Addr().Addr(), 7000)
		if !slices.Contains(l.Peers, srcAddr) {
			t.Fatalf("booster found %v, not the source %v that announced when alone", l.Peers, srcAddr)
		}

		viewers := []*Node{c.nodes[30], c.nodes[40]}
		var want []netip.AddrPort
		for _, v := range viewers {
			if _, err := v.Announce(ctx, ih, 0); err != nil {
				t.Fatal(err)
			}
			want = append(want, v.Addr())
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if n := countOf(reported, w); n != 1 {
				t.Errorf("viewer %v reported %d times, want once (reported %v)", w, n, reported)
			}
		}
		if n := countOf(reported, srcAddr); n > 1 {
			t.Errorf("the source's own announce reported %d times", n)
		}
	})
}

func countOf(s []netip.AddrPort, x netip.AddrPort) int {
	n := 0
	for _, v := range s {
		if v == x {
			n++
		}
	}
	return n
}
