package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Whole-program tests: they build the nextshare binary and run real
// processes over loopback.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "nextshare-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "nextshare")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func contentRule(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((i*7 + 3) % 251)
	}
	return b
}

func randomFile(t *testing.T, n int) (string, []byte) {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(n), 99))
	b := make([]byte, n)
	for i := 0; i+8 <= len(b); i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	p := filepath.Join(t.TempDir(), "src")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, b
}

// TestHashMatchesLibswift checks `nextshare hash --json` against the root
// hashes libswift printed for the same content.
func TestHashMatchesLibswift(t *testing.T) {
	vectors := map[int]string{
		1:       "9842926af7ca0a8cca12604f945414f07b01e13d",
		1023:    "e99936bc62fc715c63a4df583bbfc32da9cae09b",
		1024:    "af833554c0d661e22deec750cd3cf475eac0b3db",
		1025:    "2097c2a82129eba947e2f971f34ec5dbed4b0528",
		4097:    "7b72db4d084873f536c5972c0276f45fae2dd3fc",
		1000000: "59ec280016e00b7e6e4a2a0976d9d7023f11b317",
	}
	dir := t.TempDir()
	for size, want := range vectors {
		p := filepath.Join(dir, fmt.Sprint(size))
		os.WriteFile(p, contentRule(size), 0o644)
		out, err := exec.Command(binary, "hash", "--json", p).Output()
		if err != nil {
			t.Fatalf("hash %d: %v", size, err)
		}
		var r struct {
			RootHash  string `json:"root_hash"`
			URI       string `json:"uri"`
			Size      int64  `json:"size"`
			ChunkSize int    `json:"chunk_size"`
			Hash      string `json:"hash"`
		}
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		if r.RootHash != want || r.URI != "ppsp://"+want || r.Size != int64(size) || r.ChunkSize != 1024 || r.Hash != "sha1" {
			t.Errorf("size %d: %+v, want root %s", size, r, want)
		}
	}
	if err := exec.Command(binary, "hash", filepath.Join(dir, "missing")).Run(); err == nil {
		t.Error("hash of a missing file succeeded")
	}
}

// seeder runs `nextshare seed` on a loopback port and returns its address
// and the file's link.
func seeder(t *testing.T, file string, flags ...string) (addr, link string) {
	t.Helper()
	if flags == nil {
		flags = []string{"--no-dht"}
	}
	sc := start(t, append(append([]string{"seed"}, flags...), "--listen", "127.0.0.1:0", file)...)
	link, addr = seedOutput(t, sc)
	return addr, link
}

// seedOutput reads a seeder's link and address from its output, then
// drains the rest.
func seedOutput(t *testing.T, sc *bufio.Scanner) (link, addr string) {
	t.Helper()
	linkRE := regexp.MustCompile(`ppsp://[0-9a-f]{40}\S*`)
	for sc.Scan() {
		line := sc.Text()
		if m := linkRE.FindString(line); m != "" {
			link = m
		}
		if a, ok := strings.CutPrefix(line, "seeding on "); ok {
			addr, _, _ = strings.Cut(a, ";")
			break
		}
	}
	if addr == "" || link == "" {
		t.Fatalf("seeder did not report its address and link")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	return link, addr
}

// start runs the binary with args until the test ends (then SIGTERM, and
// SIGKILL if it does not exit within 10 s) and returns a scanner of its
// standard output.
func start(t *testing.T, args ...string) *bufio.Scanner {
	t.Helper()
	return startCmd(t, exec.Command(binary, args...))
}

// startCmd is start for a command made elsewhere.
func startCmd(t *testing.T, cmd *exec.Cmd) *bufio.Scanner {
	t.Helper()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	return bufio.NewScanner(stdout)
}

type summary struct {
	Bytes     int64             `json:"bytes"`
	Seconds   float64           `json:"seconds"`
	Peers     int               `json:"peers"`
	BytesFrom map[string]uint64 `json:"bytes_from"`
}

func TestSeedGet(t *testing.T) {
	src, data := randomFile(t, 3_000_000)
	addr, link := seeder(t, src)
	out := filepath.Join(t.TempDir(), "got")
	cmd := exec.Command(binary, "get", "--no-dht", "--peer", addr, "-o", out, "--json", "--timeout", "60s", link)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	var s summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	got, _ := os.ReadFile(out)
	if !bytes.Equal(got, data) {
		t.Fatal("downloaded file differs from the source")
	}
	if s.Bytes != int64(len(data)) || s.Peers != 1 || s.BytesFrom[addr] != uint64(len(data)) {
		t.Fatalf("summary %+v", s)
	}
	// Running get again on a complete file finishes at once, fetching nothing.
	b, err = exec.Command(binary, "get", "--no-dht", "--peer", addr, "-o", out, "--json", "--timeout", "20s", link).Output()
	if err != nil {
		t.Fatal(err)
	}
	var again summary
	json.Unmarshal(b, &again)
	if len(again.BytesFrom) != 0 || again.Bytes != int64(len(data)) {
		t.Fatalf("second get: %+v", again)
	}
}

func TestGetFailsClearly(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x")
	cmd := exec.Command(binary, "get", "--no-dht", "--peer", "127.0.0.1:9", "-o", out, "--timeout", "1s",
		"ppsp://7b72db4d084873f536c5972c0276f45fae2dd3fc")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err == nil {
		t.Fatal("get with no live peer succeeded")
	}
	msg := strings.TrimSpace(stderr.String())
	if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "timed out") {
		t.Fatalf("want a one-line reason, got %q", msg)
	}
	if err := exec.Command(binary, "get", "--no-dht", "--peer", "127.0.0.1:9", "ppsp://nothex").Run(); err == nil {
		t.Fatal("bad link accepted")
	}
}

// TestKillResume kills `get` with SIGKILL midway, runs it again, and checks
// that it resumes (fetching only what was missing) and ends byte-identical.
func TestKillResume(t *testing.T) {
	const size = 64 << 20
	src, data := randomFile(t, size)
	addr, link := seeder(t, src)
	out := filepath.Join(t.TempDir(), "got")

	cmd := exec.Command(binary, "get", "--no-dht", "--peer", addr, "-o", out, "--timeout", "120s", link)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if syscall.Stat(out, &st) == nil && st.Blocks*512 > size/4 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if st.Blocks*512 >= size {
		t.Skip("download finished before it could be killed")
	}
	t.Logf("killed with about %d of %d bytes written", st.Blocks*512, size)

	b, err := exec.Command(binary, "get", "--no-dht", "--peer", addr, "-o", out, "--json", "--timeout", "120s", link).Output()
	if err != nil {
		t.Fatalf("resumed get: %v", err)
	}
	var s summary
	json.Unmarshal(b, &s)
	got, _ := os.ReadFile(out)
	if !bytes.Equal(got, data) {
		t.Fatal("resumed download differs from the source")
	}
	fetched := s.BytesFrom[addr]
	if fetched >= size-size/8 {
		t.Fatalf("resumed run fetched %d of %d bytes: it did not resume", fetched, size)
	}
	t.Logf("resumed run fetched %d bytes", fetched)
}
