package bench

import (
	"slices"
)

// Implementation names used in Result.Impl.
const (
	ImplNextshare  = "nextshare"
	ImplLibtorrent = "libtorrent"
)

const (
	mega = 1e6     // MB, for MB/s
	gibi = 1 << 30 // GiB, for CPU seconds per GiB
)

// Side is one process's share of a transfer.
type Side struct {
	CPUSeconds float64 // user+system
}

// Run is one measured transfer.
type Run struct {
	Seconds float64 // from starting the downloader to its exit
	MBps    float64 // file size in 10^6 bytes / Seconds
	Seeder  Side
	Getter  Side
}

// Stat summarizes one figure over the runs.
type Stat struct {
	Median, Min, Max float64
}

// Result holds the runs of one implementation and their summary.
type Result struct {
	Impl string
	Size int64 // bytes transferred per run
	Runs []Run
	// Skipped says why the implementation did not run; empty if it ran.
	Skipped string

	MBps            Stat
	Seconds         Stat
	SeederCPUPerGiB Stat // CPU seconds per 2^30 bytes transferred
	GetterCPUPerGiB Stat
}

// newRun derives the rates of one transfer of size bytes.
func newRun(size int64, seconds, seederCPU, getterCPU float64) Run {
	r := Run{Seconds: seconds, Seeder: Side{seederCPU}, Getter: Side{getterCPU}}
	if seconds > 0 {
		r.MBps = float64(size) / mega / seconds
	}
	return r
}

// summarize fills in the Stat fields from r.Runs.
func (r *Result) summarize() {
	perGiB := float64(gibi) / float64(max(r.Size, 1))
	pick := func(f func(Run) float64) Stat {
		xs := make([]float64, len(r.Runs))
		for i, run := range r.Runs {
			xs[i] = f(run)
		}
		return summarize(xs)
	}
	r.MBps = pick(func(x Run) float64 { return x.MBps })
	r.Seconds = pick(func(x Run) float64 { return x.Seconds })
	r.SeederCPUPerGiB = pick(func(x Run) float64 { return x.Seeder.CPUSeconds * perGiB })
	r.GetterCPUPerGiB = pick(func(x Run) float64 { return x.Getter.CPUSeconds * perGiB })
}

// summarize returns the median, min and max of xs; for an even count the
// median is the mean of the two middle values. Empty xs gives zeros.
func summarize(xs []float64) Stat {
	if len(xs) == 0 {
		return Stat{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return Stat{Median: med, Min: s[0], Max: s[n-1]}
}
