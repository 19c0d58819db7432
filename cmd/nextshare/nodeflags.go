package main

import (
	"github.com/nextshare/nextshare/internal/node"
)

// nodeFlags are the flags of the commands that run a node.
type nodeFlags struct {
	DHT       bool     `name:"dht" default:"true" negatable:"" help:"Find peers and announce through the Mainline DHT (on the same UDP port)."`
	Bootstrap []string `placeholder:"HOST:PORT,..." help:"DHT nodes to join through (default: the public routers)."`
	DHTState  string   `name:"dht-state" placeholder:"FILE" help:"Keep the DHT routing table in FILE across runs."`
	ChunkSize int      `default:"1024" help:"Chunk size in bytes."`
}

// start listens on listen and starts a node.
func (f *nodeFlags) start(g *globals, listen string) (*node.Node, error) {
	conn, err := node.ListenUDP(listen)
	if err != nil {
		return nil, err
	}
	n, err := node.New(node.Config{
		Conn: conn, Logger: g.log, ChunkSize: f.ChunkSize,
		DHT: f.DHT, Bootstrap: bootstrapList(f.Bootstrap), DHTState: f.DHTState,
	})
	if err != nil {
		conn.Close()
		return nil, err
	}
	return n, nil
}
