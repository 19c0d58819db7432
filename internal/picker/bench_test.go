package picker

import (
	"math/rand/v2"
	"testing"

	"github.com/nextshare/nextshare/internal/bin"
)

const benchChunks = 262144 // 256 MiB of 1 KiB chunks

// benchDownload runs whole downloads, b.N times, asking the peers in turn
// for up to 64 chunks each. Setting up the picker and the peers' HAVEs is not
// timed. With deliver, every chunk is then received and verified (the
// engine's full cycle); without, the download stops once all is requested.
func benchDownload(b *testing.B, peers [][]bin.Range, deliver bool) {
	b.ReportAllocs()
	var rs []bin.Range
	var chunks, calls, ranges uint64
	for range b.N {
		b.StopTimer()
		p := New(benchChunks, Config{Seed: 1, Window: DefaultWindow, MaxRun: DefaultMaxRun, Endgame: true})
		for id, have := range peers {
			p.AddPeer(PeerID(id))
			for _, r := range have {
				p.PeerHave(PeerID(id), r)
			}
		}
		b.StartTimer()
		requested := uint64(0)
		for idle := 0; idle < len(peers); {
			for id := range peers {
				rs = p.Next(rs[:0], PeerID(id), 64)
				calls++
				ranges += uint64(len(rs))
				if len(rs) == 0 {
					idle++
					continue
				}
				idle = 0
				for _, r := range rs {
					requested += r.Len()
					if !deliver {
						continue
					}
					for c := r.Start; c <= r.End; c++ {
						p.Received(PeerID(id), c)
						p.Have(c)
					}
				}
			}
			if deliver && p.Complete() || !deliver && requested >= benchChunks {
				break
			}
		}
		if deliver && !p.Complete() {
			b.Fatalf("download stalled with %d chunks missing", p.Missing())
		}
		chunks += requested
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(chunks), "ns/chunk")
	b.ReportMetric(float64(ranges)/float64(calls), "ranges/call")
}

// BenchmarkNextOneSeeder: one peer has every chunk.
func BenchmarkNextOneSeeder(b *testing.B) {
	seeder := [][]bin.Range{{{Start: 0, End: benchChunks - 1}}}
	b.Run("request", func(b *testing.B) { benchDownload(b, seeder, false) })
	b.Run("request+deliver", func(b *testing.B) { benchDownload(b, seeder, true) })
}

// BenchmarkNext20Peers: 20 peers, each holding about half the chunks in runs
// of 1 to 64 chunks, every chunk held by at least one peer.
func BenchmarkNext20Peers(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	held := make([]bool, benchChunks)
	peers := make([][]bin.Range, 20)
	for id := range peers {
		for i := uint64(0); i < benchChunks; {
			l := min(1+rng.Uint64N(64), benchChunks-i)
			if rng.IntN(2) == 0 || id == len(peers)-1 {
				r := bin.Range{Start: i, End: i + l - 1}
				if id == len(peers)-1 {
					// The last peer fills the gaps the others left.
					for c := r.Start; c <= r.End; c++ {
						if !held[c] {
							peers[id] = append(peers[id], bin.Range{Start: c, End: c})
						}
					}
				} else {
					peers[id] = append(peers[id], r)
					for c := r.Start; c <= r.End; c++ {
						held[c] = true
					}
				}
			}
			i += l
		}
	}
	b.Run("request", func(b *testing.B) { benchDownload(b, peers, false) })
	b.Run("request+deliver", func(b *testing.B) { benchDownload(b, peers, true) })
}
