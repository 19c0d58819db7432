package picker

import "github.com/nextshare/nextshare/internal/bin"

// Config tunes a Picker. The zero Config means DefaultConfig(); otherwise a
// zero Window, MaxRun or MaxUnknown takes its default and Endgame, Spread
// and Seed are used as given.
type Config struct {
	// Window is the length of the in-order window in chunks (default 65536,
	// at most 1<<20). Rarest-first applies within [start, start+Window),
	// where start is the first missing chunk at or after the position (see
	// SetPosition). It keeps the download roughly in order for streaming
	// and bounds the scans.
	Window uint64
	// MaxRun is the most chunks one returned range holds (default 64).
	MaxRun uint64
	// Endgame allows, once every missing chunk some peer has is requested,
	// a second request for a chunk to another peer. DefaultConfig sets it.
	Endgame bool
	// Seed seeds the generator that breaks ties between equally rare
	// chunks. Pickers in different nodes should use different seeds so
	// that leechers starting together ask for different chunks.
	Seed uint64
	// Spread starts the scan of the chunks every peer has at a random
	// point of the window, as for rarer chunks, while no urgent range is
	// set; otherwise they go in order. For a download nobody plays: when
	// leechers that arrive together know only a seeder, every chunk is
	// common, and in order they would all ask it for the same first
	// chunks and then have nothing to trade.
	Spread bool
	// MaxUnknown bounds chunk indices while the number of chunks is unknown
	// (default 1<<24), so that a peer's HAVE cannot make the picker
	// allocate without limit.
	MaxUnknown uint64
}

// Defaults.
const (
	DefaultWindow     = 1 << 16
	DefaultMaxRun     = 64
	DefaultMaxUnknown = 1 << 24
	maxWindow         = 1 << 20
)

// DefaultConfig returns the configuration used for a zero Config.
func DefaultConfig() Config {
	return Config{Window: DefaultWindow, MaxRun: DefaultMaxRun, Endgame: true, MaxUnknown: DefaultMaxUnknown}
}

func (c Config) withDefaults() Config {
	if c == (Config{}) {
		return DefaultConfig()
	}
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.Window > maxWindow {
		c.Window = maxWindow
	}
	if c.MaxRun == 0 {
		c.MaxRun = DefaultMaxRun
	}
	if c.MaxUnknown == 0 {
		c.MaxUnknown = DefaultMaxUnknown
	}
	if c.MaxUnknown > bin.MaxChunks {
		c.MaxUnknown = bin.MaxChunks
	}
	return c
}
