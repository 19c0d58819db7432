package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
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
	Put      dhtPutCmd      `cmd:"" help:"Store a value in the DHT (BEP 44): immutable, or mutable signed with --key."`
	Get      dhtGetCmd      `cmd:"" help:"Fetch a value stored in the DHT (BEP 44)."`
}

// dhtFlags are shared by the dht subcommands.
type dhtFlags struct {
	Bootstrap []string      `placeholder:"HOST:PORT" help:"DHT nodes to join through (default: the public routers)."`
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
	Bootstrap []string `placeholder:"HOST:PORT" help:"DHT nodes to join through (default: the public routers; none: nobody, for the first node of a private DHT)."`
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

type dhtPutCmd struct {
	Key   string `placeholder:"FILE" help:"Store a mutable item signed with the ed25519 seed in FILE (32 raw bytes or 64 hex digits); FILE is created with a new seed if missing."`
	Salt  string `help:"Salt of a mutable item (at most 64 bytes)."`
	Seq   int64  `default:"-1" help:"Sequence number of a mutable item (default: one more than the stored one, found with a get)."`
	CAS   int64  `name:"cas" default:"-1" help:"Store only if the stored sequence number is N (compare and swap)."`
	Value string `arg:"" help:"The value, stored as a bencoded byte string."`
	dhtFlags
}

func (c *dhtPutCmd) Run(g *globals) error {
	v := bencodeString(c.Value)
	ctx, cancel := context.WithTimeout(g.ctx, c.Timeout)
	defer cancel()
	if c.Key == "" {
		if c.Salt != "" || c.Seq != -1 || c.CAS != -1 {
			return fmt.Errorf("--salt, --seq and --cas need --key")
		}
		d, err := c.client(ctx, g, false)
		if err != nil {
			return err
		}
		defer d.Close()
		target, res, err := d.PutImmutable(ctx, v)
		if err != nil {
			return fmt.Errorf("put: %w", err)
		}
		fmt.Println(target)
		fmt.Fprintf(os.Stderr, "stored on %d nodes in %.0f ms (%d queries)\n", res.Stored, ms(res.Duration), res.Queries)
		return nil
	}
	key, created, err := loadOrCreateKey(c.Key)
	if err != nil {
		return err
	}
	pub := key.Public().(ed25519.PublicKey)
	if created {
		fmt.Fprintf(os.Stderr, "created %s with a new key, public key %x\n", c.Key, []byte(pub))
	}
	if c.Seq < -1 || c.CAS < -1 {
		return fmt.Errorf("--seq and --cas must not be negative")
	}
	d, err := c.client(ctx, g, false)
	if err != nil {
		return err
	}
	defer d.Close()
	salt := []byte(c.Salt)
	seq := c.Seq
	if seq < 0 {
		it, _, err := d.Get(ctx, dht.MutableTarget(pub, salt), true, salt, pub)
		switch {
		case err == nil:
			seq = it.Seq + 1
		case errors.Is(err, dht.ErrNotFound):
			seq = 1
		default:
			return fmt.Errorf("get the current seq: %w", err)
		}
	}
	var cas *int64
	if c.CAS >= 0 {
		cas = &c.CAS
	}
	target, res, err := d.PutMutable(ctx, key, salt, v, seq, cas)
	if err != nil {
		return fmt.Errorf("put: %w", err)
	}
	fmt.Printf("target %s\npublic_key %x\nseq %d\n", target, []byte(pub), seq)
	fmt.Fprintf(os.Stderr, "stored on %d nodes in %.0f ms (%d queries)\n", res.Stored, ms(res.Duration), res.Queries)
	return nil
}

type dhtGetCmd struct {
	PubKey string `name:"pubkey" placeholder:"HEX" help:"Public key of a mutable item (64 hex digits); the target is computed from it and --salt."`
	Salt   string `help:"Salt of a mutable item."`
	JSON   bool   `help:"Print {\"target\",\"value\",\"bencoded\",\"mutable\",\"seq\",\"public_key\",\"seconds\",\"queries\"} as JSON."`
	Target string `arg:"" optional:"" help:"Target of an immutable item (40 hex digits)."`
	dhtFlags
}

func (c *dhtGetCmd) Run(g *globals) error {
	var (
		target  dht.ID
		pub     ed25519.PublicKey
		mutable = c.PubKey != ""
	)
	switch {
	case mutable && c.Target != "":
		return fmt.Errorf("give either TARGET or --pubkey")
	case mutable:
		b, err := hex.DecodeString(c.PubKey)
		if err != nil || len(b) != ed25519.PublicKeySize {
			return fmt.Errorf("--pubkey: want 64 hex digits")
		}
		pub = b
		target = dht.MutableTarget(pub, []byte(c.Salt))
	case c.Salt != "":
		return fmt.Errorf("--salt needs --pubkey")
	default:
		var err error
		if target, err = dht.ParseID(c.Target); err != nil {
			return fmt.Errorf("target %q: want 40 hex digits", c.Target)
		}
	}
	ctx, cancel := context.WithTimeout(g.ctx, c.Timeout)
	defer cancel()
	d, err := c.client(ctx, g, true)
	if err != nil {
		return err
	}
	defer d.Close()
	it, l, err := d.Get(ctx, target, mutable, []byte(c.Salt), pub)
	if err != nil {
		return fmt.Errorf("get %s: %w", target, err)
	}
	value := string(it.V)
	if s, ok := bdecodeString(it.V); ok {
		value = s
	}
	if c.JSON {
		out := map[string]any{
			"target": target.String(), "value": value, "bencoded": string(it.V), "mutable": mutable,
			"seconds": l.Duration.Seconds(), "queries": l.Queries,
		}
		if mutable {
			out["seq"] = it.Seq
			out["public_key"] = hex.EncodeToString(pub)
		}
		return json.NewEncoder(os.Stdout).Encode(out)
	}
	fmt.Println(value)
	if mutable {
		fmt.Fprintf(os.Stderr, "seq %d, ", it.Seq)
	}
	fmt.Fprintf(os.Stderr, "found in %.0f ms (%d queries)\n", ms(l.Duration), l.Queries)
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// bencodeString is the bencoding of s as a byte string.
func bencodeString(s string) []byte {
	return fmt.Appendf(nil, "%d:%s", len(s), s)
}

// bdecodeString returns the byte string that b is the bencoding of.
func bdecodeString(b []byte) (string, bool) {
	n, rest, ok := strings.Cut(string(b), ":")
	if !ok || n == "" || (n[0] == '0' && len(n) > 1) {
		return "", false
	}
	l, err := strconv.Atoi(n)
	if err != nil || l != len(rest) {
		return "", false
	}
	return rest, true
}

// loadOrCreateKey reads an ed25519 seed (32 raw bytes, or 64 hex digits
// and optional white space) from path; a missing file is created (mode
// 0600) with a new random seed, written in hex.
func loadOrCreateKey(path string) (ed25519.PrivateKey, bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		seed := make([]byte, ed25519.SeedSize)
		rand.Read(seed)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, false, err
		}
		_, err = fmt.Fprintf(f, "%x\n", seed)
		if e := f.Close(); err == nil {
			err = e
		}
		if err != nil {
			return nil, false, err
		}
		return ed25519.NewKeyFromSeed(seed), true, nil
	}
	if err != nil {
		return nil, false, err
	}
	if len(b) == ed25519.SeedSize {
		return ed25519.NewKeyFromSeed(b), false, nil
	}
	seed, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, false, fmt.Errorf("%s: want a 32-byte ed25519 seed, raw or as 64 hex digits", path)
	}
	return ed25519.NewKeyFromSeed(seed), false, nil
}
