package lab

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Results is what one lab run measured; WriteReport writes it as
// results.json, durations in nanoseconds. Times in series (Sample.T,
// MessageSample.T) are offsets from Started.
type Results struct {
	Scenario    string
	Started     time.Time     // when the first host could start
	Duration    time.Duration // of the whole run
	ContentSize int64         // bytes
	Chunks      uint64
	Hosts       []HostResult

	// Completion runs from the first get's start to the last get's
	// completion; 0 if some get did not complete.
	Completion time.Duration
	FluidBound time.Duration // see FluidBound
	FluidTerm  string        // the binding term of FluidBound
	BoundRatio float64       // Completion / FluidBound; 0 if either is 0

	// SourceShare is the share of the bytes the gets received that came
	// from seeders (role seed).
	SourceShare  float64
	StartupP50   time.Duration // over the gets that started up
	StartupP95   time.Duration
	AllIdentical bool // every get's file is byte-identical to the source
	// MachineBusy is the share of the machine's CPU time (CPUs of them)
	// spent busy while the hosts ran; 0 if unknown. Near 1 the machine,
	// not the protocol, set the pace.
	MachineBusy float64
	CPUs        int
	Errors      []string
}

// HostResult is one host's part of a run.
type HostResult struct {
	Name, Group string
	Role        string // "seed" or "get"
	Addr        string
	Started     time.Time // first start; zero if it never started
	Completed   time.Time // zero if it did not complete (or is a seeder)
	// Startup runs from Started to the first 1 MiB (all of the content,
	// if smaller) verified; 0 if that never happened.
	Startup   time.Duration
	Identical bool
	BytesFrom map[string]uint64 // verified content bytes received, by source host name
	BytesTo   map[string]uint64 // content bytes sent in DATA, by destination host name
	Samples   []Sample          // in time order
	Messages  []MessageSample   // in time order
}

// Sample is one point of a host's progress. Counts are cumulative over
// the whole run, across restarts.
type Sample struct {
	T          time.Duration // since Results.Started
	Have       uint64        // chunks verified
	BytesIn    uint64        // UDP payload bytes received (PPSPP and DHT)
	BytesOut   uint64        // UDP payload bytes sent
	FromSource uint64        // verified content bytes received from seeders
}

// MessageSample holds a host's cumulative count of messages by type (the
// RFC 7574 names: DATA, ACK, HAVE, ...), received (In) and sent (Out).
type MessageSample struct {
	T       time.Duration // since Results.Started
	In, Out map[string]uint64
}

func (h *HostResult) seed() bool { return h.Role == string(RoleSeed) }
func (h *HostResult) get() bool  { return h.Role == string(RoleGet) }

// Summarize computes the fields derived from Hosts: Completion,
// BoundRatio, SourceShare, StartupP50, StartupP95 and AllIdentical.
// FluidBound is left as it is.
func (r *Results) Summarize() {
	seeders := make(map[string]bool)
	for _, h := range r.Hosts {
		if h.seed() {
			seeders[h.Name] = true
		}
	}
	var fromSeeds, fromAll, lastSrc, lastHave uint64
	var first, last time.Time
	var startups []time.Duration
	gets, done := 0, 0
	r.AllIdentical = true
	for _, h := range r.Hosts {
		if !h.get() {
			continue
		}
		gets++
		for name, b := range h.BytesFrom {
			fromAll += b
			if seeders[name] {
				fromSeeds += b
			}
		}
		if n := len(h.Samples); n > 0 {
			lastSrc += h.Samples[n-1].FromSource
			lastHave += h.Samples[n-1].Have
		}
		if !h.Started.IsZero() && (first.IsZero() || h.Started.Before(first)) {
			first = h.Started
		}
		if !h.Completed.IsZero() {
			done++
			if h.Completed.After(last) {
				last = h.Completed
			}
		}
		if h.Startup > 0 {
			startups = append(startups, h.Startup)
		}
		r.AllIdentical = r.AllIdentical && h.Identical
	}
	r.AllIdentical = r.AllIdentical && gets > 0
	r.Completion = 0
	if gets > 0 && done == gets && !first.IsZero() {
		r.Completion = last.Sub(first)
	}
	r.BoundRatio = 0
	if r.Completion > 0 && r.FluidBound > 0 {
		r.BoundRatio = r.Completion.Seconds() / r.FluidBound.Seconds()
	}
	// The per-source counts are exact; the samples' FromSource over the
	// verified chunks is the fallback for runs that did not record sources.
	switch {
	case fromAll > 0:
		r.SourceShare = float64(fromSeeds) / float64(fromAll)
	case lastHave > 0 && r.Chunks > 0:
		r.SourceShare = min(1, float64(lastSrc)/(float64(lastHave)*r.chunkBytes()))
	default:
		r.SourceShare = 0
	}
	slices.Sort(startups)
	r.StartupP50 = percentile(startups, 0.50)
	r.StartupP95 = percentile(startups, 0.95)
}

// chunkBytes returns the mean size of a chunk.
func (r *Results) chunkBytes() float64 {
	if r.Chunks == 0 {
		return 0
	}
	return float64(r.ContentSize) / float64(r.Chunks)
}

// percentile returns the nearest-rank p-quantile of sorted s; 0 if empty.
func percentile(s []time.Duration, p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// Summary returns one line with the run's main figures, the measured
// completion time beside the fluid bound, for a terminal.
func (r *Results) Summary() string {
	var b strings.Builder
	gets, done := 0, 0
	for _, h := range r.Hosts {
		if h.get() {
			gets++
			if !h.Completed.IsZero() {
				done++
			}
		}
	}
	if r.Completion > 0 {
		fmt.Fprintf(&b, "completion %.2f s", r.Completion.Seconds())
	} else {
		fmt.Fprintf(&b, "%d of %d gets completed", done, gets)
	}
	if r.FluidBound > 0 {
		fmt.Fprintf(&b, ", fluid bound %.2f s (%s)", r.FluidBound.Seconds(), r.FluidTerm)
	}
	if r.BoundRatio > 0 {
		fmt.Fprintf(&b, ", ratio %.2f", r.BoundRatio)
	}
	fmt.Fprintf(&b, "; from seeders %.1f%%", 100*r.SourceShare)
	if r.StartupP50 > 0 {
		fmt.Fprintf(&b, "; startup p50 %.2f s, p95 %.2f s", r.StartupP50.Seconds(), r.StartupP95.Seconds())
	}
	if r.AllIdentical {
		b.WriteString("; every copy identical")
	} else {
		b.WriteString("; NOT every copy identical")
	}
	return b.String()
}

// WriteJSON writes r to dir/results.json, without indentation: a long
// run holds many samples.
func (r *Results) WriteJSON(dir string) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644)
}

// ReadResults reads a results.json written by WriteJSON.
func ReadResults(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := new(Results)
	if err := json.Unmarshal(b, r); err != nil {
		return nil, err
	}
	return r, nil
}
