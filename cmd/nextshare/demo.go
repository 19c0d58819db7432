package main

import (
	"os"
	"time"

	"github.com/nextshare/nextshare/internal/demo"
)

type demoCmd struct {
	Duration time.Duration `help:"Stop after this long (default: run until Ctrl-C)."`
	Viewers  int           `default:"3" help:"Viewer nodes."`
	HTTP     string        `name:"http" default:"127.0.0.1:8090" help:"Address of the HTTP gateway (port 0: any free port)."`
	Video    string        `type:"existingfile" help:"Video to stream instead of the bundled 20 s clip."`
}

func (c *demoCmd) Run(g *globals) error {
	_, err := demo.Run(g.ctx, demo.Config{
		Out: os.Stdout, Viewers: c.Viewers, HTTP: c.HTTP, Duration: c.Duration, Video: c.Video, Logger: g.log,
	})
	return err
}
