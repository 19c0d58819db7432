package bench

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// Defaults applied by RunTransfer to zero Config fields.
const (
	DefaultSize    = 256 << 20
	DefaultRuns    = 3
	DefaultTimeout = 5 * time.Minute
)

// defaultPython is Debian's interpreter: python3-libtorrent installs into
// its dist-packages, which another python3 first on PATH would not see.
const defaultPython = "/usr/bin/python3"

// stopGrace is how long a seeder has to exit after SIGTERM before it is
// killed.
const stopGrace = 5 * time.Second

// Config says what RunTransfer measures.
type Config struct {
	// Binary is the nextshare binary. Empty skips the nextshare side, which
	// then requires Reference.
	Binary string
	// Size of the random file in bytes; DefaultSize if zero.
	Size int64
	// Runs per implementation; DefaultRuns if zero. The project reports
	// medians of at least 3 runs.
	Runs int
	// Dir holds the source, outputs and state files. Empty means a new
	// temporary directory, removed at the end; a given Dir is kept but the
	// files RunTransfer created in it are removed.
	Dir string
	// Reference also runs the libtorrent transfer after nextshare's.
	Reference bool
	// Timeout bounds each wait for a seeder to become ready and each
	// download; DefaultTimeout if zero.
	Timeout time.Duration
	// Log receives one line per step; nil discards them.
	Log io.Writer

	// Fields below are for tests.

	// argPrefix goes before the subcommand of every Binary invocation, so a
	// test binary can stand in for nextshare.
	argPrefix []string
	// python runs lt_ref.py; defaultPython if empty.
	python string
	// grace replaces stopGrace if non-zero.
	grace time.Duration
}

// withDefaults returns cfg with zero fields filled in, or an error naming
// the field that cannot be used.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Size == 0 {
		cfg.Size = DefaultSize
	}
	if cfg.Runs == 0 {
		cfg.Runs = DefaultRuns
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.python == "" {
		cfg.python = defaultPython
	}
	if cfg.grace == 0 {
		cfg.grace = stopGrace
	}
	switch {
	case cfg.Size < 0:
		return cfg, fmt.Errorf("bench: size %d is negative", cfg.Size)
	case cfg.Runs < 0:
		return cfg, fmt.Errorf("bench: runs %d is negative", cfg.Runs)
	case cfg.Timeout < 0:
		return cfg, fmt.Errorf("bench: timeout %v is negative", cfg.Timeout)
	case cfg.Binary == "" && !cfg.Reference:
		return cfg, errors.New("bench: nothing to run: no nextshare binary and no reference")
	}
	return cfg, nil
}
