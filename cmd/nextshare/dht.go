package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nextshare/nextshare/internal/dht"
	"github.com/nextshare/nextshare/internal/node"
	"github.com/nextshare/nextshare/internal/uri"
)

type dhtCmd struct {
	Node     dhtNodeCmd     `cmd:"" help:"Run a DHT node until interrupted."`
	Peers    dhtPeersCmd    `cmd:"" help:"Look up the peers of an info-hash."`
	Announce dhtAnnounceCmd `cmd:"" help:"Announce a port for an info-hash."`
}

// dhtFlags are shared by the dht subcommands.
type dhtFlags struct {
	Bootstrap []string      `placeholder:"HOST:PORT,..." help:"DHT nodes to join through (default: the public routers)."`
	Timeout   time.Duration `default:"30s" help:"Give up after this long."`
}

// bootstrapList maps the --bootstrap flag to dht.Config.Bootstrap: unset
// means the public routers, "none" means nobody (the first node of a
// private DHT).
func bootstrapList(flag []string) []string {
	if len(flag) == 1 && flag[0] == "none" {
		return []string{}
	}
	return flag
}

// client starts a short-lived DHT node on an ephemeral port and joins the
// DHT. A read-only node (BEP 43) takes no part in routing.
func (f *dhtFlags) client(ctx context.Context, g *globals, readOnly bool) (*dht.Node, error) {
	conn, err := node.ListenUDP(":0")
	if err != nil {
		return nil, err
	}
	d, err := dht.New(dht.Config{Conn: conn, Bootstrap: bootstrapList(f.Bootstrap), ReadOnly: readOnly, Logger: g.log})
	if err != nil {
		conn.Close()
		return nil, err
	}
	if err := d.Bootstrap(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("join the DHT: %w", err)
	}
	return d, nil
}

// parseInfoHash takes 40 hex digits, or a ppsp:// link or root hash (whose
// first 20 bytes are the swarm's DHT key).
func parseInfoHash(s string) (dht.ID, error) {
	if id, err := dht.ParseID(s); err == nil {
		return id, nil
	}
	u, err := uri.Parse(s)
	if err != nil {
		return dht.ID{}, fmt.Errorf("%q is neither an info-hash (40 hex digits) nor a ppsp:// link", s)
	}
	return node.InfoHash(u.Root), nil
}

type dhtNodeCmd struct {
	Listen    string   `default:":6881" help:"UDP address to listen on."`
	Bootstrap []string `placeholder:"HOST:PORT,..." help:"DHT nodes to join through (default: the public routers; none: nobody, for the first node of a private DHT)."`
	State     string   `placeholder:"FILE" help:"Keep the routing table in FILE across runs."`
}

func (c *dhtNodeCmd) Run(g *globals) error {
	conn, err := node.ListenUDP(c.Listen)
	if err != nil {
		return err
	}
	d, err := dht.New(dht.Config{Conn: conn, Bootstrap: bootstrapList(c.Bootstrap), StatePath: c.State, Logger: g.log})
	if err != nil {
		conn.Close()
		return err
	}
	defer d.Close()
	fmt.Printf("dht node %s on %s; Ctrl-C to stop\n", d.ID(), d.Addr())
	if boot := bootstrapList(c.Bootstrap); boot == nil || len(boot) > 0 {
		ctx, cancel := context.WithTimeout(g.ctx, 30*time.Second)
		err = d.Bootstrap(ctx)
		cancel()
		if err != nil {
			fmt.Fprintf(os.Stderr, "nextshare: join the DHT: %v; serving anyway\n", err)
		}
	}
	<-g.ctx.Done()
	fmt.Printf("%d nodes in the routing table\n", d.Nodes())
	return nil
}

type dhtPeersCmd struct {
	JSON     bool   `help:"Print {\"info_hash\",\"peers\",\"seconds\",\"queries\"} as JSON."`
	InfoHash string `arg:"" name:"infohash" help:"Info-hash (40 hex digits) or ppsp:// link."`
	dhtFlags
}

func (c *dhtPeersCmd) Run(g *globals) error {
	ih, err := parseInfoHash(c.InfoHash)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(g.ctx, c.Timeout)
	defer cancel()
	d, err := c.client(ctx, g, true)
	if err != nil {
		return err
	}
	defer d.Close()
	l, err := d.GetPeers(ctx, ih)
	if err != nil {
		return fmt.Errorf("lookup: %w", err)
	}
	peers := make([]string, len(l.Peers))
	for i, p := range l.Peers {
		peers[i] = p.String()
	}
	if c.JSON {
		return json.NewEncoder(os.Stdout).Encode(map[string]any{
			"info_hash": ih.String(), "peers": peers,
			"seconds": l.Duration.Seconds(), "queries": l.Queries,
		})
	}
	if len(peers) > 0 {
		fmt.Println(strings.Join(peers, "\n"))
	}
	fmt.Fprintf(os.Stderr, "%d peers in %.0f ms (%d queries)\n", len(peers), float64(l.Duration)/float64(time.Millisecond), l.Queries)
	return nil
}

type dhtAnnounceCmd struct {
	Port     int    `required:"" help:"Port to announce (the UDP port the peer serves PPSPP on)."`
	InfoHash string `arg:"" name:"infohash" help:"Info-hash (40 hex digits) or ppsp:// link."`
	dhtFlags
}

func (c *dhtAnnounceCmd) Run(g *globals) error {
	ih, err := parseInfoHash(c.InfoHash)
	if err != nil {
		return err
	}
	if c.Port < 1 || c.Port > 65535 {
		return fmt.Errorf("--port %d: want 1..65535", c.Port)
	}
	ctx, cancel := context.WithTimeout(g.ctx, c.Timeout)
	defer cancel()
	d, err := c.client(ctx, g, false)
	if err != nil {
		return err
	}
	defer d.Close()
	l, err := d.Announce(ctx, ih, c.Port)
	if err != nil {
		return fmt.Errorf("announce: %w", err)
	}
	if l.Announced == 0 {
		return fmt.Errorf("announce: no node accepted it (%d queries)", l.Queries)
	}
	fmt.Printf("announced %s port %d to %d nodes in %.0f ms\n", ih, c.Port, l.Announced, float64(l.Duration)/float64(time.Millisecond))
	return nil
}
