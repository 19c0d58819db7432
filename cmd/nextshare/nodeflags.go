package main

import (
	"fmt"
	"net/netip"

	"github.com/nextshare/nextshare/internal/node"
	"github.com/nextshare/nextshare/internal/ppspp"
	"github.com/nextshare/nextshare/internal/uri"
)

// nodeFlags are the flags of the commands that run a node.
type nodeFlags struct {
	DHT       bool     `name:"dht" default:"true" negatable:"" help:"Find peers and announce through the Mainline DHT (on the same UDP port)."`
	Bootstrap []string `placeholder:"HOST:PORT" help:"DHT nodes to join through (default: the public routers)."`
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

// downloadFlags are what get and play share: where to fetch from and to.
type downloadFlags struct {
	Peer   []string `help:"Peer to download from (HOST:PORT); repeatable."`
	Output string   `short:"o" help:"Output path (default: the root hash in hex)."`
	Listen string   `default:":0" help:"UDP address to listen on."`
	nodeFlags
}

// open starts a node and the download of link; the caller closes the node.
func (f *downloadFlags) open(g *globals, link string) (*node.Node, *ppspp.Swarm, uri.URI, string, error) {
	u, err := uri.Parse(link)
	if err != nil {
		return nil, nil, u, "", err
	}
	peers, err := parsePeers(f.Peer)
	if err != nil {
		return nil, nil, u, "", err
	}
	if len(peers)+len(u.Peers) == 0 && !f.DHT {
		return nil, nil, u, "", fmt.Errorf("no peers: pass --peer HOST:PORT, or leave the DHT on")
	}
	out := f.Output
	if out == "" {
		out = node.DefaultOutput(u)
	}
	n, err := f.start(g, f.Listen)
	if err != nil {
		return nil, nil, u, "", err
	}
	s, err := n.Get(u, out, peers)
	if err != nil {
		n.Close()
		return nil, nil, u, "", err
	}
	return n, s, u, out, nil
}

// parsePeers parses --peer values.
func parsePeers(ss []string) ([]netip.AddrPort, error) {
	var peers []netip.AddrPort
	for _, p := range ss {
		ap, err := netip.ParseAddrPort(p)
		if err != nil {
			return nil, fmt.Errorf("--peer %q: want HOST:PORT with a numeric address: %v", p, err)
		}
		peers = append(peers, ap)
	}
	return peers, nil
}
