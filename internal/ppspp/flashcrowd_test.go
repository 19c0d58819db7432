package ppspp

import (
	"flag"
	"fmt"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nextshare/nextshare/internal/ppspp/wire"
	"github.com/nextshare/nextshare/internal/simnet"
)

var (
	flashSize  = flag.Int("flash.size", 1<<20, "content size for TestFlashCrowd, bytes")
	flashQueue = flag.Duration("flash.queue", 50*time.Millisecond, "uplink queue bound for TestFlashCrowd")
	flashTrace = flag.Bool("flash.trace", false, "print the upload state of the seeder and two leechers every second in TestFlashCrowd")
)

// TestFlashCrowd runs one seeder and 30 leechers that arrive at once, over
// simnet links whose uplinks bind (1 Mbit/s each, the seeder's 4 Mbit/s,
// with 50 ms queues as the lab's default): the leechers must trade pieces
// among themselves to finish near the fluid model's bound,
// N·F/(u_s+Σu_i). Links count the headers of IPv4, UDP and Ethernet, as
// the lab's do, and the bound counts the content only, as the lab's does.
// It checks the time against that bound, and that the leechers' uplinks
// carry mostly chunks: HAVEs, ACKs and requests to dozens of peers can
// otherwise take a third of them.
//
// With -flash.size=4194304 it is the lab's flashcrowd-slow scenario; -flash.trace
// shows windows and queues.
func TestFlashCrowd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		src, data := writeRandom(t, dir, *flashSize, 3)
		n := simnet.New(11)
		defer n.Close()
		const (
			leechers = 30
			upRate   = 125e3 // bytes/s
			seedRate = 500e3
			downRate = 500e3
			delay    = 20 * time.Millisecond
		)
		q := *flashQueue
		// Links count IPv4, UDP and Ethernet headers, as the lab's tbf
		// on a veth does.
		const overhead = 28 + 14
		down := simnet.LinkConfig{Delay: delay, Rate: downRate, Queue: q, Overhead: overhead}
		seeder := startNode(t, n, "10.0.0.1", simnet.LinkConfig{Delay: delay, Rate: seedRate, Queue: q, Overhead: overhead}, down, Config{})
		defer seeder.e.Close()
		sw := seed(t, seeder, src)

		var nodes []*testNode
		var swarms []*Swarm
		var outs []string
		var contents []*Content
		defer func() {
			// Engines first: a running engine checkpoints its content.
			for _, ln := range nodes {
				ln.e.Close()
			}
			for _, c := range contents {
				c.Close()
			}
		}()
		for i := range leechers {
			ln := startNode(t, n, fmt.Sprintf("10.0.1.%d", i+1), simnet.LinkConfig{Delay: delay, Rate: upRate, Queue: q, Overhead: overhead}, down, Config{})
			nodes = append(nodes, ln)
			out := filepath.Join(dir, fmt.Sprintf("out-%d", i))
			s, c := download(t, ln, sw.Root(), out, seeder.addr)
			contents = append(contents, c)
			swarms = append(swarms, s)
			outs = append(outs, out)
		}
		start := time.Now()
		if *flashTrace {
			stop := make(chan struct{})
			defer close(stop)
			go traceFlash([]*testNode{seeder, nodes[0], nodes[1]}, nodes, start, stop)
		}
		var last time.Duration
		for i, s := range swarms {
			if !waitDone(t, s, 10*time.Minute) {
				info := s.Info()
				t.Fatalf("leecher %d incomplete: %d/%d chunks", i, info.HaveChunks, info.NumChunks)
			}
			last = max(last, time.Since(start))
		}
		for _, out := range outs {
			checkFile(t, out, data)
		}
		// The bound counts the content's bytes only, as the lab's does:
		// every header, PPSPP's and the link's, is overhead the swarm pays.
		bound := time.Duration(float64(leechers) * float64(len(data)) / (seedRate + leechers*upRate) * float64(time.Second))
		ratio := float64(last) / float64(bound)

		var msgs MsgCounts
		var bytesOut, dgOut, sent, dups, timeouts uint64
		for k, ln := range append([]*testNode{seeder}, nodes...) {
			st := ln.e.Stats().Snapshot()
			if st.Malformed != 0 || st.BadRange != 0 || st.CorruptChunks != 0 {
				t.Errorf("node %d: %d malformed datagrams, %d bad ranges, %d corrupt chunks", k, st.Malformed, st.BadRange, st.CorruptChunks)
			}
			if k == 0 {
				continue
			}
			for k := range msgs {
				msgs[k] += st.MsgsOut[k]
			}
			bytesOut += st.BytesOut
			dgOut += st.DatagramsOut
			sent += st.ChunksSent
			dups += st.Duplicates
			timeouts += st.RequestTimeouts
		}
		total := bytesOut + overhead*dgOut // with IPv4, UDP and Ethernet headers
		dataShare := float64(msgs[wire.TypeData]*1024) / float64(total)
		t.Logf("%d leechers complete in %v; fluid bound %v; ratio %.2f", leechers, last.Round(time.Millisecond), bound.Round(time.Millisecond), ratio)
		t.Logf("leechers sent %d datagrams, %d bytes with headers, %.0f%% of them chunk payload; messages: DATA %d, INTEGRITY %d, HAVE %d, ACK %d, REQUEST %d, CANCEL %d; %d duplicates, %d request timeouts",
			dgOut, total, 100*dataShare, msgs[wire.TypeData], msgs[wire.TypeIntegrity], msgs[wire.TypeHave], msgs[wire.TypeAck], msgs[wire.TypeRequest], msgs[wire.TypeCancel], dups, timeouts)
		t.Logf("seeder sent %d chunks (%.1f copies of the content)", seeder.e.Stats().Snapshot().ChunksSent, float64(seeder.e.Stats().Snapshot().ChunksSent)*1024/float64(len(data)))
		// Bounds with room above what the code does (for 1 MiB, ratio
		// 1.9-2.1 over runs, which differ in map order, and 77-81% chunk
		// payload; 1.35-1.40 and 83-84% at 4 MiB), below what it did
		// before the uplink window was shared and HAVEs went by blocks
		// (about 70% payload at 4 MiB).
		if *flashSize == 1<<20 && *flashQueue == 50*time.Millisecond && ratio > 2.6 {
			t.Errorf("completion %v is %.2f times the fluid bound %v, want at most 2.6", last, ratio, bound)
		}
		if dataShare < 0.75 {
			t.Errorf("chunk payload is %.0f%% of the leechers' uplink bytes, want at least 75%%", 100*dataShare)
		}
	})
}

// traceFlash prints, every second, the upload state of the nodes in show
// and the chunks all leechers sent and verified in that second.
func traceFlash(show, leechers []*testNode, start time.Time, stop chan struct{}) {
	var sent, verified uint64
	for range 600 {
		select {
		case <-stop:
			return
		case <-time.After(time.Second):
		}
		var s, v uint64
		for _, ln := range leechers {
			st := ln.e.Stats().Snapshot()
			s, v = s+st.ChunksSent, v+st.ChunksVerified
		}
		fmt.Printf("t=%v leechers sent %d chunks, verified %d\n", time.Since(start).Round(time.Second), s-sent, v-verified)
		sent, verified = s, v
		for k, tn := range show {
			e := tn.e
			var line string
			if e.do(func() {
				var queued, infl, outst int
				minW, maxW := 1<<30, 0
				for _, c := range e.channels {
					queued += c.queueLen()
					infl += c.inflightLen()
					w := c.cc.Window() / ledbatMSS
					minW, maxW = min(minW, w), max(maxW, w)
					outst += len(c.requests) - c.reqsHead
				}
				st := e.stats.Snapshot()
				line = fmt.Sprintf("node %d t=%v channels=%d uplink cwnd=%d inflight=%d qdelay=%v; queued %d, in flight %d, channel cwnd %d..%d; requests out %d; sent %d verified %d losses %d timeouts %d",
					k, time.Since(start).Round(time.Second), len(e.channels), e.up.cc.Window()/ledbatMSS, e.up.inflight/ledbatMSS,
					e.up.cc.QueuingDelay().Round(time.Millisecond), queued, infl, minW, maxW, outst,
					st.ChunksSent, st.ChunksVerified, st.Losses, st.RequestTimeouts)
			}) != nil {
				return
			}
			fmt.Println(line)
		}
	}
}

const ledbatMSS = 1100
