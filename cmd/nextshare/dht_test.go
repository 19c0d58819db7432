package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// dhtNode runs `nextshare dht node` on loopback with no bootstrap (the
// first node of a private DHT) and returns its address.
func dhtNode(t *testing.T) string {
	t.Helper()
	sc := start(t, "dht", "node", "--listen", "127.0.0.1:0", "--bootstrap", "none")
	for sc.Scan() {
		if _, rest, ok := strings.Cut(sc.Text(), " on "); ok {
			addr, _, _ := strings.Cut(rest, ";")
			go func() {
				for sc.Scan() {
				}
			}()
			return addr
		}
	}
	t.Fatal("dht node did not report its address")
	return ""
}

type peersResult struct {
	Peers   []string `json:"peers"`
	Queries int      `json:"queries"`
	Seconds float64  `json:"seconds"`
}

// TestDHTDiscovery runs a private DHT on loopback: a seeder announces its
// swarm, `dht peers` finds it, and `get` with no --peer finds the seeder
// through the DHT and downloads the file.
func TestDHTDiscovery(t *testing.T) {
	boot := dhtNode(t)
	src, data := randomFile(t, 500_000)
	addr, link := seeder(t, src, "--bootstrap", boot)

	var found peersResult
	for try := 0; try < 40 && !slices.Contains(found.Peers, addr); try++ {
		if try > 0 {
			time.Sleep(250 * time.Millisecond)
		}
		out, err := exec.Command(binary, "dht", "peers", "--bootstrap", boot, "--timeout", "10s", "--json", link).Output()
		if err != nil {
			t.Fatalf("dht peers: %v", err)
		}
		found = peersResult{}
		if err := json.Unmarshal(out, &found); err != nil {
			t.Fatalf("dht peers output %q: %v", out, err)
		}
	}
	if !slices.Contains(found.Peers, addr) {
		t.Fatalf("dht peers found %v, not the seeder %s", found.Peers, addr)
	}
	t.Logf("dht peers found the seeder: %d queries, %.1f ms", found.Queries, found.Seconds*1000)

	out := filepath.Join(t.TempDir(), "got")
	cmd := exec.Command(binary, "get", "--bootstrap", boot, "--listen", "127.0.0.1:0", "-o", out, "--json", "--timeout", "60s", link)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("get through the DHT: %v", err)
	}
	var sum summary
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.BytesFrom[addr] == 0 {
		t.Errorf("bytes_from %v: nothing from the seeder %s", sum.BytesFrom, addr)
	}
	got, err := os.ReadFile(out)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("downloaded file differs from the source (err %v)", err)
	}
}

// TestDHTAnnounce checks `dht announce` and `dht peers` against each other.
func TestDHTAnnounce(t *testing.T) {
	boot := dhtNode(t)
	const ih = "0123456789abcdef0123456789abcdef01234567"
	out, err := exec.Command(binary, "dht", "announce", "--bootstrap", boot, "--port", "4242", ih).CombinedOutput()
	if err != nil {
		t.Fatalf("dht announce: %v\n%s", err, out)
	}
	b, err := exec.Command(binary, "dht", "peers", "--bootstrap", boot, "--json", ih).Output()
	if err != nil {
		t.Fatalf("dht peers: %v", err)
	}
	var found peersResult
	if err := json.Unmarshal(b, &found); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(found.Peers, "127.0.0.1:4242") {
		t.Fatalf("dht peers found %v, want 127.0.0.1:4242", found.Peers)
	}
}
