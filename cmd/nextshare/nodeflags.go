package main

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/nextshare/nextshare/internal/events"
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

// eventFlags are the flags of the commands that can write an event log.
type eventFlags struct {
	Events      string        `placeholder:"FILE" help:"Write an event log to FILE, as JSON Lines with times in Unix ms: a start record; every --events-every a sample of chunks verified, bytes from and to each peer, and messages received and sent by type; a complete record when the content is whole; an exit record when the command ends, on SIGINT and SIGTERM too. seed logs its first FILE."`
	EventsEvery time.Duration `name:"events-every" default:"250ms" help:"Interval between samples in the --events log."`
}

// startEvents starts the --events log of swarm s on n. The returned stop
// writes the exit record, with the command's error if any, and closes the
// log; call it before closing n. Without --events it does nothing.
func (f *eventFlags) startEvents(g *globals, role string, n *node.Node, s *ppspp.Swarm) (stop func(error), err error) {
	if f.Events == "" {
		return func(error) {}, nil
	}
	w, err := events.Create(f.Events)
	if err != nil {
		return nil, err
	}
	sm, err := events.Start(w, events.Source{Role: role, Engine: n.Engine, Swarm: s}, f.EventsEvery)
	if err != nil {
		return nil, err
	}
	return func(cause error) {
		if err := sm.Stop(cause); err != nil {
			g.log.Warn("event log", "file", f.Events, "err", err)
		}
	}, nil
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
