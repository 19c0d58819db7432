package bench

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
)

// Names of the nextshare download and its resume state in the work dir;
// the getter keeps its state next to the output as <out>.nsstate.
const (
	nextshareOut   = "nextshare.out"
	nextshareState = nextshareOut + ".nsstate"
)

// runNextshare measures one transfer between `nextshare seed` and
// `nextshare get` over a fresh loopback UDP port.
func runNextshare(ctx context.Context, cfg Config, ws *workspace) (Run, error) {
	port, err := freeUDPPort()
	if err != nil {
		return Run{}, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	out, state := ws.path(nextshareOut), ws.path(nextshareState)
	args := func(a ...string) []string {
		return append(slices.Clone(cfg.argPrefix), a...)
	}
	return measure(ctx, cfg, ws, transfer{
		impl:      ImplNextshare,
		seedPath:  cfg.Binary,
		seedArgs:  args("seed", "--no-dht", "--listen", addr, ws.src),
		ready:     findURI,
		readyWhat: "ppsp:// URI",
		prepare: func() error {
			return removeFiles(out, state)
		},
		getter: func(uri string) (string, []string) {
			return cfg.Binary, args("get", "--no-dht", "--peer", addr, "-o", out, "--json", uri)
		},
		output: out,
	})
}

// removeFiles removes the named files if they exist.
func removeFiles(paths ...string) error {
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove previous %s: %w", p, err)
		}
	}
	return nil
}
