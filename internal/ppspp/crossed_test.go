package ppspp

import (
	"fmt"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nextshare/nextshare/internal/simnet"
)

// TestCrossedOpens: leechers that all learn of each other at once open
// channels to each other at once, so every pair's handshakes cross. Each
// pair must end with one channel, whose two ends name each other, not two
// that would each carry every HAVE.
func TestCrossedOpens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		src, data := writeRandom(t, dir, 200_000, 9)
		n := simnet.New(5)
		defer n.Close()
		link := simnet.LinkConfig{Delay: 20 * time.Millisecond}
		seeder := startNode(t, n, "10.0.0.1", link, link, Config{})
		defer seeder.e.Close()
		sw := seed(t, seeder, src)

		const leechers = 8
		var nodes []*testNode
		var swarms []*Swarm
		var outs []string
		for i := range leechers {
			ln := startNode(t, n, fmt.Sprintf("10.0.1.%d", i+1), link, link, Config{})
			defer ln.e.Close()
			out := filepath.Join(dir, fmt.Sprintf("out-%d", i))
			s, c := download(t, ln, sw.Root(), out)
			defer c.Close()
			nodes, swarms, outs = append(nodes, ln), append(swarms, s), append(outs, out)
		}
		for i, ln := range nodes {
			for j, other := range append([]*testNode{seeder}, nodes...) {
				if j != i+1 {
					if err := ln.e.Connect(swarms[i], other.addr); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		for i, s := range swarms {
			if !waitDone(t, s, time.Minute) {
				t.Fatalf("leecher %d incomplete", i)
			}
			checkFile(t, outs[i], data)
		}
		// Each leecher's channel to every other, by address: its ID and
		// the peer's.
		type ends struct{ local, remote uint32 }
		chans := make([]map[string]ends, leechers)
		var crossed uint64
		for i, ln := range nodes {
			chans[i] = map[string]ends{}
			ln.e.do(func() {
				for _, c := range ln.e.channels {
					if _, dup := chans[i][c.addr.String()]; dup {
						t.Errorf("leecher %d has two channels to %v", i, c.addr)
					}
					if !c.established {
						t.Errorf("leecher %d: channel to %v not established", i, c.addr)
					}
					chans[i][c.addr.String()] = ends{c.id, c.remote}
				}
			})
			crossed += ln.e.Stats().Snapshot().CrossedOpens
		}
		for i := range nodes {
			if len(chans[i]) != leechers {
				t.Errorf("leecher %d has %d channels, want %d (the seeder and every other leecher)", i, len(chans[i]), leechers)
			}
			for j := i + 1; j < leechers; j++ {
				a, b := chans[i][nodes[j].addr.String()], chans[j][nodes[i].addr.String()]
				if a.local != b.remote || a.remote != b.local {
					t.Errorf("leechers %d and %d: channel ends %+v and %+v do not name each other", i, j, a, b)
				}
			}
		}
		if want := uint64(leechers * (leechers - 1)); crossed != want {
			t.Errorf("%d crossed opens counted, want %d (both ends of every pair)", crossed, want)
		}
	})
}
