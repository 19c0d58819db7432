package main

import (
	"os"
	"time"

	"github.com/nextshare/nextshare/internal/bench"
)

type benchCmd struct {
	Transfer benchTransferCmd `cmd:"" help:"Seed and download a file between two nextshare processes on loopback; with --reference also between two libtorrent sessions over TCP."`
}

type benchTransferCmd struct {
	Size      int64         `default:"268435456" help:"File size in bytes (random content)."`
	Runs      int           `default:"3" help:"Runs per implementation (the median is reported)."`
	Reference bool          `default:"true" negatable:"" help:"Also run Debian's python3-libtorrent over TCP."`
	Timeout   time.Duration `default:"5m" help:"Limit per transfer."`
	Dir       string        `help:"Work directory (default: a temporary one, removed after)."`
}

func (c *benchTransferCmd) Run(g *globals) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	rs, err := bench.RunTransfer(g.ctx, bench.Config{
		Binary: exe, Size: c.Size, Runs: c.Runs, Dir: c.Dir,
		Reference: c.Reference, Timeout: c.Timeout, Log: os.Stderr,
	})
	if len(rs) > 0 {
		bench.PrintTable(os.Stdout, rs)
	}
	return err
}
