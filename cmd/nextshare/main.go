// Command nextshare publishes and fetches video over PPSPP (RFC 7574).
//
// It only parses flags and prints; behaviour lives in internal packages.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/alecthomas/kong"
)

type cli struct {
	Verbose    bool   `short:"v" help:"Log protocol events to stderr."`
	CPUProfile string `name:"cpuprofile" placeholder:"FILE" help:"Write a CPU profile (pprof) to FILE."`

	Hash   hashCmd   `cmd:"" help:"Print a file's root hash and ppsp:// link."`
	Seed   seedCmd   `cmd:"" help:"Seed files until interrupted."`
	Get    getCmd    `cmd:"" help:"Download a ppsp:// link from peers, verifying every chunk."`
	Demo   demoCmd   `cmd:"" help:"Run a swarm on loopback (private DHT, seeder, viewers) streaming a video; print where to watch it."`
	Play   playCmd   `cmd:"" help:"Stream a ppsp:// link over HTTP while it downloads, and open a player."`
	Daemon daemonCmd `cmd:"" help:"Run a node with an HTTP API to add, list and remove swarms, and the gateway."`
	DHT    dhtCmd    `cmd:"" name:"dht" help:"Mainline DHT tools."`
	Bench  benchCmd  `cmd:"" help:"Benchmarks."`
	Lab    labCmd    `cmd:"" help:"Swarm lab: emulated networks of real nextshare processes, with plots and a report."`
}

// globals is passed to every command's Run.
type globals struct {
	ctx context.Context
	log *slog.Logger
}

func main() {
	var c cli
	k := kong.Parse(&c,
		kong.Name("nextshare"),
		kong.Description("Peer-to-peer video distribution over PPSPP (RFC 7574)."),
		kong.UsageOnError(),
	)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	level := slog.LevelWarn
	if c.Verbose {
		level = slog.LevelDebug
	}
	g := &globals{ctx: ctx, log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))}
	if c.CPUProfile != "" {
		f, err := os.Create(c.CPUProfile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "nextshare: %v\n", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer f.Close()
	}
	err := k.Run(g)
	pprof.StopCPUProfile()
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "nextshare: %v\n", err)
		os.Exit(1)
	}
}
