package picker

import (
	"math/rand/v2"
	"testing"

	"github.com/nextshare/nextshare/internal/bin"
)

type swarmResult struct {
	rounds        int
	lowerBound    int
	seederUploads int // chunks the seeder sent, counting repeats
	seederChunks  int // distinct chunks the seeder sent
	fullCopy      int // round by which the seeder had sent every chunk once
	duplicates    int // chunks a leecher received twice (endgame)
}

// runSwarm simulates one seeder (node 0) and some leechers exchanging an
// n-chunk content in rounds, without a network: each node uploads at most
// upload chunks per round; leechers, in random order, ask each peer (in
// random order) for up to perAsk chunks out of what it can still upload;
// chunks arrive at the end of the round, when their HAVEs reach everyone.
func runSwarm(t *testing.T, n uint64, leechers, upload, perAsk int, cfg Config) swarmResult {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	nodes := leechers + 1
	pk := make([]*Picker, nodes) // pk[0] is unused: the seeder picks nothing
	for i := 1; i < nodes; i++ {
		c := cfg
		c.Seed = uint64(i)
		pk[i] = New(n, c)
		for j := 0; j < nodes; j++ {
			if j != i {
				pk[i].AddPeer(PeerID(j))
			}
		}
		pk[i].PeerHave(0, bin.Range{Start: 0, End: n - 1})
	}
	res := swarmResult{
		lowerBound: max(int((n+uint64(upload)-1)/uint64(upload)),
			int((uint64(leechers)*n+uint64(nodes*upload)-1)/uint64(nodes*upload))),
	}
	seederSent := make([]bool, n)
	type delivery struct {
		to, from int
		chunk    uint64
	}
	var (
		deliveries []delivery
		rs         []bin.Range
		budget     = make([]int, nodes)
	)
	for !swarmDone(pk) {
		res.rounds++
		if res.rounds > 10*res.lowerBound {
			t.Fatalf("swarm not complete after %d rounds", res.rounds)
		}
		for j := range budget {
			budget[j] = upload
		}
		deliveries = deliveries[:0]
		for _, i := range rng.Perm(leechers) {
			i++ // leechers are nodes 1..leechers
			for _, j := range rng.Perm(nodes) {
				if j == i || budget[j] == 0 {
					continue
				}
				rs = pk[i].Next(rs[:0], PeerID(j), min(budget[j], perAsk))
				for _, c := range flat(rs) {
					budget[j]--
					deliveries = append(deliveries, delivery{i, j, c})
				}
			}
		}
		for _, d := range deliveries {
			p := pk[d.to]
			p.Received(PeerID(d.from), d.chunk)
			if d.from == 0 {
				res.seederUploads++
				if !seederSent[d.chunk] {
					seederSent[d.chunk] = true
					res.seederChunks++
					if res.seederChunks == int(n) {
						res.fullCopy = res.rounds
					}
				}
			}
			if p.Has(d.chunk) {
				res.duplicates++
				continue
			}
			p.Duplicates(d.chunk, PeerID(d.from), func(PeerID) {}) // would CANCEL
			p.Have(d.chunk)
			for k := 1; k < nodes; k++ {
				if k != d.to {
					pk[k].PeerHave(PeerID(d.to), bin.Range{Start: d.chunk, End: d.chunk})
				}
			}
		}
	}
	for i := 1; i < nodes; i++ {
		if err := pk[i].check(); err != nil {
			t.Fatalf("leecher %d: %v", i, err)
		}
	}
	return res
}

func swarmDone(pk []*Picker) bool {
	for _, p := range pk[1:] {
		if !p.Complete() {
			return false
		}
	}
	return true
}

func TestSwarm(t *testing.T) {
	const n, upload = 2048, 32
	for _, tc := range []struct {
		name     string
		window   uint64
		maxRatio float64
	}{
		{"window covers file", 4096, 1.3},
		// A window of a quarter of the file: every leecher works on the same
		// region, so the seeder sends some chunks twice before others once.
		{"window 512", 512, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Window = tc.window
			r := runSwarm(t, n, 20, upload, 8, cfg)
			t.Logf("1 seeder + 20 leechers, %d chunks, uplinks %d chunks/round, window %d: complete in %d rounds "+
				"(lower bound %d, ratio %.2f); seeder sent a full copy by round %d (ideal %d), %d chunks in all; "+
				"%d endgame duplicates",
				n, upload, tc.window, r.rounds, r.lowerBound, float64(r.rounds)/float64(r.lowerBound),
				r.fullCopy, n/upload, r.seederUploads, r.duplicates)
			if r.seederChunks != n {
				t.Errorf("seeder sent only %d distinct chunks", r.seederChunks)
			}
			if ratio := float64(r.rounds) / float64(r.lowerBound); ratio > tc.maxRatio {
				t.Errorf("%d rounds, %.2f× the lower bound %d (want at most %.1f×)", r.rounds, ratio, r.lowerBound, tc.maxRatio)
			}
		})
	}
}
