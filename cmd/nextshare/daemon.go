package main

import (
	"fmt"
	"os"

	"github.com/nextshare/nextshare/internal/daemon"
	"github.com/nextshare/nextshare/internal/gateway"
)

type daemonCmd struct {
	HTTP   string `name:"http" default:"127.0.0.1:7575" help:"Address of the HTTP API and gateway."`
	Listen string `default:":7574" help:"UDP address to listen on."`
	Dir    string `default:"." help:"Where downloads go when a request names no path."`
	nodeFlags
}

func (c *daemonCmd) Run(g *globals) error {
	n, err := c.start(g, c.Listen)
	if err != nil {
		return err
	}
	defer n.Close()
	gw := gateway.New(gateway.Config{Swarms: n.Engine, Logger: g.log})
	base, stop, err := gateway.Serve(c.HTTP, daemon.New(daemon.Config{Node: n, Dir: c.Dir, Gateway: gw}))
	if err != nil {
		return err
	}
	defer stop()
	fmt.Printf("daemon: API %s/api/swarms, streams %s/<roothash>, PPSPP on %s; Ctrl-C to stop\n", base, base, n.Engine.LocalAddr())
	<-g.ctx.Done()
	st := gw.Stats()
	fmt.Fprintf(os.Stderr, "served %d bytes to %d requests; %d stalls\n", st.BytesServed, st.Requests, st.Stalls)
	return nil
}
