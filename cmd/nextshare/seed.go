package main

import (
	"fmt"

	"github.com/nextshare/nextshare/internal/ppspp"
	"github.com/nextshare/nextshare/internal/uri"
)

type seedCmd struct {
	Listen   string   `default:":7574" help:"UDP address to listen on."`
	HashFunc string   `name:"hash" default:"sha1" enum:"sha1,sha256" help:"Merkle hash function."`
	Files    []string `arg:"" type:"existingfile" help:"Files to seed."`
	nodeFlags
	eventFlags
}

func (c *seedCmd) Run(g *globals) error {
	n, err := c.start(g, c.Listen)
	if err != nil {
		return err
	}
	defer n.Close()
	f := hashFunc(c.HashFunc)
	var first *ppspp.Swarm
	for _, path := range c.Files {
		s, err := n.Seed(path, f)
		if err != nil {
			return err
		}
		if first == nil {
			first = s
		}
		info := s.Info()
		fmt.Printf("%s\t%s\n", uri.URI{Root: s.Root(), Func: f, Size: info.Size}.String(), path)
	}
	// Signals end the wait below, so the log gets its exit record.
	stopEvents, err := c.startEvents(g, "seed", n, first)
	if err != nil {
		return err
	}
	defer stopEvents(nil)
	fmt.Printf("seeding on %s; Ctrl-C to stop\n", n.Engine.LocalAddr())
	<-g.ctx.Done()
	return nil
}
