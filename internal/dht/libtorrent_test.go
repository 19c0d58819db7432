package dht

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// ltPeers drives testdata/lt_dht.py: libtorrent sessions on loopback.
type ltPeers struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func startLibtorrent(t *testing.T, bootstrap netip.AddrPort, ports []int) *ltPeers {
	t.Helper()
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import libtorrent").Run(); err != nil {
		if os.Getenv("CI") != "" || os.Geteuid() == 0 {
			t.Fatalf("python3-libtorrent is needed (scripts/test.sh installs it): %v", err)
		}
		t.Skipf("python3-libtorrent not installed: %v", err)
	}
	ps := make([]string, len(ports))
	for i, p := range ports {
		ps[i] = fmt.Sprint(p)
	}
	cmd := exec.Command(python, "-I", "-u", "testdata/lt_dht.py",
		"--bootstrap", bootstrap.String(), "--ports", strings.Join(ps, ","),
		"--save", t.TempDir(), "--timeout", "40")
	in, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lt := &ltPeers{cmd: cmd, in: in, out: bufio.NewScanner(stdout)}
	t.Cleanup(func() {
		in.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	if ev := lt.read(t); ev["event"] != "ready" {
		t.Fatalf("libtorrent: %v", ev)
	}
	return lt
}

func (lt *ltPeers) read(t *testing.T) map[string]any {
	t.Helper()
	if !lt.out.Scan() {
		t.Fatal("libtorrent helper exited")
	}
	var ev map[string]any
	if err := json.Unmarshal(lt.out.Bytes(), &ev); err != nil {
		t.Fatalf("libtorrent helper said %q: %v", lt.out.Text(), err)
	}
	return ev
}

func (lt *ltPeers) do(t *testing.T, cmd string) map[string]any {
	t.Helper()
	if _, err := fmt.Fprintln(lt.in, cmd); err != nil {
		t.Fatal(err)
	}
	ev := lt.read(t)
	t.Logf("libtorrent: %s -> %v", cmd, ev)
	return ev
}

func freeUDPPorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var conns []net.PacketConn
	for range n {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		ports = append(ports, c.LocalAddr().(*net.UDPAddr).Port)
	}
	for _, c := range conns {
		c.Close()
	}
	return ports
}

// TestLibtorrentInterop mixes our nodes with Debian's libtorrent sessions
// in a private DHT on loopback: each side finds what the other announced.
func TestLibtorrentInterop(t *testing.T) {
	ours := loopbackNodes(t, 4)
	ports := freeUDPPorts(t, 3)
	lt := startLibtorrent(t, ours[0].Addr(), ports)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ihOurs, _ := ParseID("5ca1ab1e00000000000000000000000000000001")
	ihTheirs, _ := ParseID("5ca1ab1e00000000000000000000000000000002")

	// Let libtorrent's sessions join through our node.
	for try := 0; ; try++ {
		ev := lt.do(t, "nodes")
		n := ev["nodes"].([]any)
		if n[0].(float64) > 0 && n[len(n)-1].(float64) > 0 {
			break
		}
		if try == 40 {
			t.Fatalf("libtorrent sessions did not join our DHT: %v", n)
		}
		time.Sleep(250 * time.Millisecond)
	}

	if _, err := ours[1].Announce(ctx, ihOurs, 4242); err != nil {
		t.Fatal(err)
	}
	lt.do(t, "announce "+ihTheirs.String())

	want := netip.MustParseAddrPort("127.0.0.1:4242")
	var got []string
	for try := 0; try < 20; try++ {
		ev := lt.do(t, "peers "+ihOurs.String())
		got = got[:0]
		for _, p := range ev["peers"].([]any) {
			got = append(got, p.(string))
		}
		if slices.Contains(got, want.String()) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if !slices.Contains(got, want.String()) {
		t.Errorf("libtorrent's get_peers found %v, not our announce %v", got, want)
	}

	var l Lookup
	for try := 0; try < 20; try++ {
		var err error
		l, err = ours[2].GetPeers(ctx, ihTheirs)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(l.Peers, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(ports[0]))) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	ltPeer := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(ports[0]))
	if !slices.Contains(l.Peers, ltPeer) {
		t.Errorf("our get_peers found %v for libtorrent's announce, want %v", l.Peers, ltPeer)
	}
	t.Logf("libtorrent found our announce; we found libtorrent's: %v (%d queries, %v)", l.Peers, l.Queries, l.Duration)
}

// loopbackNodes starts n of our nodes on 127.0.0.1, each knowing all the
// others as bootstrap nodes, and bootstraps them.
func loopbackNodes(t *testing.T, n int) []*Node {
	t.Helper()
	var conns []net.PacketConn
	var addrs []string
	for range n {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		addrs = append(addrs, c.LocalAddr().String())
	}
	var nodes []*Node
	for _, c := range conns {
		nd, err := New(Config{Conn: c, Bootstrap: addrs, queryRate: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nd.Close() })
		nodes = append(nodes, nd)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, nd := range nodes {
		if err := nd.Bootstrap(ctx); err != nil {
			t.Fatalf("bootstrap: %v", err)
		}
	}
	return nodes
}
