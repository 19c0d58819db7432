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

// TestDHTPutGet stores an immutable and a mutable item with `dht put` and
// reads them back with `dht get`.
func TestDHTPutGet(t *testing.T) {
	boot := dhtNode(t)
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(binary, append([]string{"dht", args[0], "--bootstrap", boot, "--timeout", "20s"}, args[1:]...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("dht %v: %v\n%s", args, err, stderr.Bytes())
		}
		t.Logf("dht %v: %s%s", args, out, stderr.Bytes())
		return string(out)
	}
	type getResult struct {
		Target    string `json:"target"`
		Value     string `json:"value"`
		Bencoded  string `json:"bencoded"`
		Mutable   bool   `json:"mutable"`
		Seq       int64  `json:"seq"`
		PublicKey string `json:"public_key"`
	}
	get := func(args ...string) getResult {
		t.Helper()
		var r getResult
		out := run(append([]string{"get", "--json"}, args...)...)
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("dht get output %q: %v", out, err)
		}
		return r
	}

	// Immutable: the target of BEP 44's test vector.
	target := strings.TrimSpace(run("put", "Hello World!"))
	if target != "e5f96f6f38320f0f33959cb4d3d656452117aadb" {
		t.Fatalf("dht put printed %q", target)
	}
	if r := get(target); r.Value != "Hello World!" || r.Bencoded != "12:Hello World!" || r.Mutable {
		t.Fatalf("dht get: %+v", r)
	}
	if out := run("get", target); out != "Hello World!\n" {
		t.Fatalf("dht get printed %q", out)
	}

	// Mutable: the key file is created, seq starts at 1 and then grows.
	keyFile := filepath.Join(t.TempDir(), "key")
	fields := func(out string) map[string]string {
		m := map[string]string{}
		for line := range strings.Lines(out) {
			k, v, _ := strings.Cut(strings.TrimSpace(line), " ")
			m[k] = v
		}
		return m
	}
	p1 := fields(run("put", "--key", keyFile, "--salt", "foobar", "first"))
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	if p1["seq"] != "1" || len(p1["public_key"]) != 64 || len(p1["target"]) != 40 {
		t.Fatalf("dht put --key printed %v", p1)
	}
	p2 := fields(run("put", "--key", keyFile, "--salt", "foobar", "second"))
	if p2["seq"] != "2" || p2["public_key"] != p1["public_key"] || p2["target"] != p1["target"] {
		t.Fatalf("second dht put --key printed %v (first %v)", p2, p1)
	}
	r := get("--pubkey", p1["public_key"], "--salt", "foobar")
	if r.Value != "second" || r.Seq != 2 || !r.Mutable || r.Target != p1["target"] {
		t.Fatalf("dht get --pubkey: %+v", r)
	}
	// A stale compare-and-swap is refused.
	cmd := exec.Command(binary, "dht", "put", "--bootstrap", boot, "--timeout", "20s", "--key", keyFile, "--salt", "foobar", "--seq", "5", "--cas", "1", "third")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "301") {
		t.Fatalf("put with a stale --cas: %v\n%s", err, out)
	}
}
