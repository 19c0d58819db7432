package ledbat

import "time"

// Defaults, per RFC 6817 §2.5 unless stated.
const (
	// DefaultTarget is TARGET. RFC 6817 requires at most 100 ms; 25 ms
	// keeps the delay added for interactive traffic small.
	DefaultTarget = 25 * time.Millisecond
	// MaxTarget is the RFC 6817 upper bound on TARGET.
	MaxTarget = 100 * time.Millisecond
	// DefaultMSS fits a PPSPP DATA message carrying a 1024-byte chunk.
	DefaultMSS = 1100
	// DefaultBaseHistory is BASE_HISTORY, in one-minute buckets.
	DefaultBaseHistory = 10
	// DefaultCurrentFilter is CURRENT_FILTER, in samples. The RFC asks for
	// a filter short enough to react within an RTT; the minimum of a few
	// samples removes the positive spikes of delay noise.
	DefaultCurrentFilter = 4
	// DefaultMaxCwnd bounds the window at 16 MiB.
	DefaultMaxCwnd = 16 << 20
)

// Config holds the LEDBAT parameters. The zero value of every field selects
// its default; out-of-range values are clamped to the ranges RFC 6817 allows.
type Config struct {
	Target          time.Duration // TARGET; default 25 ms, at most 100 ms
	Gain            float64       // GAIN; default 1, in (0, 1]
	AllowedIncrease float64       // ALLOWED_INCREASE in MSS; default 1, > 0
	MSS             int           // bytes; default 1100
	MinCwnd         int           // bytes; default 2·MSS (MIN_CWND = 2)
	// InitCwnd is the initial window in bytes; the default is the TCP
	// initial window of RFC 3390, min(4·MSS, max(2·MSS, 4380)), so LEDBAT
	// starts no faster than TCP would.
	InitCwnd      int
	MaxCwnd       int  // bytes; default 16 MiB
	BaseHistory   int  // one-minute buckets of base delay; default 10
	CurrentFilter int  // samples in the current-delay filter; default 4
	NoSlowStart   bool // start in congestion avoidance
	// LossBeta is the fraction of the window kept on a loss in congestion
	// avoidance (one that ends slow start halves it), in (0, 1);
	// default ½ (RFC 6817 §2.4.2). A controller that stands for several
	// flows, each of which would halve only its own share, may keep more.
	LossBeta float64
	// MinRTO is the lower bound of the retransmission timeout; 0 means the
	// RFC 6298 value of one second.
	MinRTO time.Duration
}

// withDefaults returns c with defaults filled in and values clamped.
func (c Config) withDefaults() Config {
	if c.Target <= 0 {
		c.Target = DefaultTarget
	}
	c.Target = min(c.Target, MaxTarget)
	if !(c.Gain > 0) { // also catches NaN
		c.Gain = 1
	}
	c.Gain = min(c.Gain, 1)
	if !(c.AllowedIncrease > 0) {
		c.AllowedIncrease = 1
	}
	if c.MSS <= 0 {
		c.MSS = DefaultMSS
	}
	if c.MinCwnd <= 0 {
		c.MinCwnd = 2 * c.MSS
	}
	if c.MaxCwnd <= 0 {
		c.MaxCwnd = DefaultMaxCwnd
	}
	c.MaxCwnd = max(c.MaxCwnd, c.MinCwnd)
	if c.InitCwnd <= 0 {
		c.InitCwnd = min(4*c.MSS, max(2*c.MSS, 4380))
	}
	c.InitCwnd = min(max(c.InitCwnd, c.MinCwnd), c.MaxCwnd)
	if c.BaseHistory <= 0 {
		c.BaseHistory = DefaultBaseHistory
	}
	if !(c.LossBeta > 0 && c.LossBeta < 1) { // also catches NaN
		c.LossBeta = 0.5
	}
	if c.CurrentFilter <= 0 {
		c.CurrentFilter = DefaultCurrentFilter
	}
	return c
}
