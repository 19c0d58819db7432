package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/nextshare/nextshare/internal/node"
	"github.com/nextshare/nextshare/internal/ppspp"
)

type getCmd struct {
	Timeout time.Duration `default:"0" help:"Give up after this long (0: never)."`
	JSON    bool          `help:"Print a JSON summary {bytes, seconds, peers, bytes_from} when done."`
	URI     string        `arg:"" help:"ppsp:// link or root hash."`
	downloadFlags
}

func (c *getCmd) Run(g *globals) error {
	start := time.Now()
	n, s, _, out, err := c.open(g, c.URI)
	if err != nil {
		return err
	}
	defer n.Close()
	ctx := g.ctx
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	stopBar := func() {}
	if !c.JSON && term.IsTerminal(int(os.Stderr.Fd())) {
		stopBar = showProgress(ctx, s)
	}
	err = node.Wait(ctx, s)
	stopBar()
	if err != nil {
		info := s.Info()
		return fmt.Errorf("download incomplete (%d of %d chunks): %w", info.HaveChunks, info.NumChunks, err)
	}
	info := s.Info()
	if c.JSON {
		from := map[string]uint64{}
		for a, b := range info.BytesFrom {
			from[a.String()] = b
		}
		return json.NewEncoder(os.Stdout).Encode(map[string]any{
			"bytes":      info.Size,
			"seconds":    time.Since(start).Seconds(),
			"peers":      len(info.BytesFrom),
			"bytes_from": from,
			"path":       out,
		})
	}
	fmt.Fprintf(os.Stderr, "%s: %d bytes verified in %.2fs\n", out, info.Size, time.Since(start).Seconds())
	return nil
}

// showProgress draws a progress bar (percent, rate, peers, ETA) until the
// returned function is called.
func showProgress(ctx context.Context, s *ppspp.Swarm) func() {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var bar *progressbar.ProgressBar
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			info := s.Info()
			if bar == nil && info.Size > 0 || bar == nil && info.NumChunks > 0 {
				total := info.Size
				if total < 0 {
					total = int64(info.NumChunks) * 1024
				}
				bar = progressbar.NewOptions64(total,
					progressbar.OptionSetWriter(os.Stderr),
					progressbar.OptionShowBytes(true),
					progressbar.OptionSetWidth(30),
					progressbar.OptionShowCount(),
					progressbar.OptionThrottle(200*time.Millisecond),
					progressbar.OptionClearOnFinish(),
				)
			}
			if bar != nil {
				bar.Describe(fmt.Sprintf("%d peers", len(info.Peers)))
				bar.Set64(int64(info.HaveChunks) * 1024)
			}
			select {
			case <-done:
				if bar != nil {
					bar.Finish()
				}
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}
