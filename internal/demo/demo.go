// Package demo runs a whole swarm on loopback in one process: a private
// DHT, a seeder of a short video that ships with the project, a few viewer
// nodes that find the seeder through the DHT and share with each other, and
// the HTTP gateway of one viewer, so a browser can watch the stream while
// the table of peers and rates updates.
package demo

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nextshare/nextshare/internal/dht"
	"github.com/nextshare/nextshare/internal/gateway"
	"github.com/nextshare/nextshare/internal/merkle"
	"github.com/nextshare/nextshare/internal/node"
	"github.com/nextshare/nextshare/internal/ppspp"
	"github.com/nextshare/nextshare/internal/uri"
)

// Clip is the demo video: 20 s of a test pattern with a tone, H.264/AAC in
// MP4 with the index at the front (made with ffmpeg's testsrc and sine).
//
//go:embed clip.mp4
var Clip []byte

// Config configures a demo run.
type Config struct {
	Out      io.Writer     // the URL and the table go here
	Viewers  int           // viewer nodes (default 3)
	HTTP     string        // gateway address (default 127.0.0.1:0)
	Duration time.Duration // stop after this long (0: at ctx's end)
	Every    time.Duration // table refresh period (default 1 s)
	Video    string        // a video file to use instead of Clip
	Logger   *slog.Logger
}

// Result is what a run saw.
type Result struct {
	URL       string
	Root      []byte
	Complete  int    // viewers whose copy completed, byte-identical
	FromPeers uint64 // bytes viewers got from other viewers
	Total     uint64 // bytes viewers got in all
}

// Run runs the demo until ctx ends or cfg.Duration passes, then stops every
// node and removes its files.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Viewers <= 0 {
		cfg.Viewers = 3
	}
	if cfg.HTTP == "" {
		cfg.HTTP = "127.0.0.1:0"
	}
	if cfg.Every <= 0 {
		cfg.Every = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	var res Result
	dir, err := os.MkdirTemp("", "nextshare-demo")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	video := filepath.Join(dir, "clip.mp4")
	if cfg.Video != "" {
		video = cfg.Video
	} else if err := os.WriteFile(video, Clip, 0o644); err != nil {
		return res, err
	}
	source, err := os.ReadFile(video)
	if err != nil {
		return res, err
	}

	// The private DHT: one node everyone joins through.
	bconn, err := node.ListenUDP("127.0.0.1:0")
	if err != nil {
		return res, err
	}
	boot, err := dht.New(dht.Config{Conn: bconn, Bootstrap: []string{}, Logger: cfg.Logger})
	if err != nil {
		bconn.Close()
		return res, err
	}
	defer boot.Close()
	bootstrap := []string{boot.Addr().String()}

	var nodes []*node.Node
	defer func() {
		for _, n := range nodes {
			n.Close()
		}
	}()
	start := func() (*node.Node, error) {
		conn, err := node.ListenUDP("127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		n, err := node.New(node.Config{Conn: conn, Logger: cfg.Logger, DHT: true, Bootstrap: bootstrap})
		if err != nil {
			conn.Close()
			return nil, err
		}
		nodes = append(nodes, n)
		return n, nil
	}
	seeder, err := start()
	if err != nil {
		return res, err
	}
	seed, err := seeder.Seed(video, merkle.SHA1)
	if err != nil {
		return res, err
	}
	res.Root = seed.Root()
	link := uri.URI{Root: res.Root, Func: merkle.SHA1, Size: int64(len(source)), ContentType: "video/mp4"}

	// Viewers find the seeder through the DHT once its announce is in.
	if err := waitAnnounced(ctx, boot, node.InfoHash(res.Root), seeder.Engine.LocalAddr()); err != nil {
		return res, err
	}
	type viewer struct {
		name string
		n    *node.Node
		s    *ppspp.Swarm
		path string
	}
	var viewers []viewer
	for i := range cfg.Viewers {
		n, err := start()
		if err != nil {
			return res, err
		}
		path := filepath.Join(dir, fmt.Sprintf("viewer%d.mp4", i+1))
		s, err := n.Get(link, path, nil)
		if err != nil {
			return res, err
		}
		viewers = append(viewers, viewer{fmt.Sprintf("viewer %d", i+1), n, s, path})
	}

	gw := gateway.New(gateway.Config{Swarms: viewers[0].n.Engine, Logger: cfg.Logger})
	base, stop, err := gateway.Serve(cfg.HTTP, gw)
	if err != nil {
		return res, err
	}
	defer stop()
	res.URL = fmt.Sprintf("%s/%x.mp4", base, res.Root)
	fmt.Fprintf(cfg.Out, "swarm %s: %s\n", link.String(), filepath.Base(video))
	fmt.Fprintf(cfg.Out, "watch it: %s\n", res.URL)
	fmt.Fprintf(cfg.Out, "(private DHT at %s; %d viewers; Ctrl-C to stop)\n\n", boot.Addr(), cfg.Viewers)

	// The live table.
	prev := map[string]uint64{}
	tick := time.NewTicker(cfg.Every)
	defer tick.Stop()
	table := func() {
		tw := tabwriter.NewWriter(cfg.Out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "node\taddress\thave\tpeers\tdown kB/s\tup kB/s\tfrom peers")
		row := func(name string, n *node.Node, s *ppspp.Swarm) {
			in := s.Info()
			var down, up, fromPeers uint64
			for a, b := range in.BytesFrom {
				down += b
				if a != seeder.Engine.LocalAddr() {
					fromPeers += b
				}
			}
			for _, p := range in.Peers {
				up += p.BytesTo
			}
			pct := 0.0
			if in.NumChunks > 0 {
				pct = 100 * float64(in.HaveChunks) / float64(in.NumChunks)
			}
			rate := func(key string, v uint64) float64 {
				d := v - prev[key]
				prev[key] = v
				return float64(d) / cfg.Every.Seconds() / 1000
			}
			fmt.Fprintf(tw, "%s\t%s\t%.0f%%\t%d\t%.0f\t%.0f\t%d kB\n", name, n.Engine.LocalAddr(), pct, len(in.Peers),
				rate(name+"d", down), rate(name+"u", up), fromPeers/1000)
		}
		row("seeder", seeder, seed)
		for _, v := range viewers {
			row(v.name, v.n, v.s)
		}
		st := gw.Stats()
		fmt.Fprintf(tw, "gateway\t%s\t%d requests\t%d active\t%d kB served\t%d stalls\t\n", strings.TrimPrefix(base, "http://"), st.Requests, st.Active, st.BytesServed/1000, st.Stalls)
		tw.Flush()
		fmt.Fprintln(cfg.Out)
	}
	table()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
			table()
		}
	}

	for _, v := range viewers {
		in := v.s.Info()
		for a, b := range in.BytesFrom {
			res.Total += b
			if a != seeder.Engine.LocalAddr() {
				res.FromPeers += b
			}
		}
		if in.Complete {
			got, err := os.ReadFile(v.path)
			if err == nil && string(got) == string(source) {
				res.Complete++
			}
		}
	}
	fmt.Fprintf(cfg.Out, "%d of %d viewers have a byte-identical copy; %d of %d kB came from other viewers\n",
		res.Complete, len(viewers), res.FromPeers/1000, res.Total/1000)
	return res, nil
}

// waitAnnounced polls the DHT, from a read-only client joining through
// boot, until addr is among the peers of ih.
func waitAnnounced(ctx context.Context, boot *dht.Node, ih dht.ID, addr netip.AddrPort) error {
	conn, err := node.ListenUDP("127.0.0.1:0")
	if err != nil {
		return err
	}
	d, err := dht.New(dht.Config{Conn: conn, Bootstrap: []string{boot.Addr().String()}, ReadOnly: true})
	if err != nil {
		conn.Close()
		return err
	}
	defer d.Close()
	if err := d.Bootstrap(ctx); err != nil {
		return err
	}
	for try := 0; try < 200; try++ {
		l, err := d.GetPeers(ctx, ih)
		if err == nil {
			if slices.Contains(l.Peers, addr) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return errors.New("the seeder's announce did not reach the DHT")
}
