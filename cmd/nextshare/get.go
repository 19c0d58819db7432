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
	Stay    string        `default:"0" placeholder:"DURATION" help:"Once complete, go on seeding for this long before exiting (\"forever\": until interrupted)."`
	URI     string        `arg:"" help:"ppsp:// link or root hash."`
	downloadFlags
	eventFlags
}

func (c *getCmd) Run(g *globals) (err error) {
	start := time.Now()
	stay, err := parseStay(c.Stay)
	if err != nil {
		return err
	}
	n, s, _, out, err := c.open(g, c.URI)
	if err != nil {
		return err
	}
	defer n.Close()
	stopEvents, err := c.startEvents(g, "get", n, s)
	if err != nil {
		return err
	}
	defer func() { stopEvents(err) }()
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
	defer stayFor(g.ctx, stay)
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

// parseStay parses --stay: a duration, or "forever" (returned as -1).
func parseStay(s string) (time.Duration, error) {
	if s == "forever" {
		return -1, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("--stay %q: want a duration such as 30s, or forever", s)
	}
	return d, nil
}

// stayFor waits d (forever if negative) or until ctx ends, while the
// node goes on seeding.
func stayFor(ctx context.Context, d time.Duration) {
	if d == 0 {
		return
	}
	if d < 0 {
		<-ctx.Done()
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
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
