package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nextshare/nextshare/internal/events"
)

// TestEventsLog runs a seeder and a getter with --events over loopback,
// stops the seeder with SIGTERM, and checks both logs.
func TestEventsLog(t *testing.T) {
	const size = 2_000_000
	src, _ := randomFile(t, size)
	dir := t.TempDir()
	seedLog, getLog := filepath.Join(dir, "seed.jsonl"), filepath.Join(dir, "get.jsonl")

	seed := exec.Command(binary, "seed", "--no-dht", "--listen", "127.0.0.1:0", "--events", seedLog, "--events-every", "50ms", src)
	stdout, _ := seed.StdoutPipe()
	seed.Stderr = os.Stderr
	if err := seed.Start(); err != nil {
		t.Fatal(err)
	}
	waited := false
	t.Cleanup(func() {
		if !waited {
			seed.Process.Kill()
			seed.Wait()
		}
	})
	link, addr := seedOutput(t, bufio.NewScanner(stdout))

	get := exec.Command(binary, "get", "--no-dht", "--listen", "127.0.0.1:0", "--peer", addr, "-o", filepath.Join(dir, "got"),
		"--timeout", "60s", "--events", getLog, "--events-every", "50ms", link)
	get.Stderr = os.Stderr
	if err := get.Run(); err != nil {
		t.Fatalf("get: %v", err)
	}
	time.Sleep(200 * time.Millisecond) // a few seeder samples after the download
	seed.Process.Signal(syscall.SIGTERM)
	errc := make(chan error, 1)
	go func() { errc <- seed.Wait() }()
	select {
	case err := <-errc:
		waited = true
		if err != nil {
			t.Fatalf("seeder exit after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("seeder did not exit on SIGTERM")
	}

	g := readLog(t, getLog)
	gs, ge := g[0], g[len(g)-1]
	if gs.Ev != events.EvStart || gs.Role != "get" || gs.Root == "" || !strings.Contains(link, gs.Root) {
		t.Errorf("get start %+v", gs)
	}
	if ge.Ev != events.EvExit || ge.Err != "" || ge.Chunks != (size+1023)/1024 || ge.Have != ge.Chunks || ge.Size != size {
		t.Errorf("get exit %+v", ge)
	}
	var sum uint64
	for _, n := range ge.From {
		sum += n
	}
	if sum != size || ge.From[addr] != size {
		t.Errorf("get from %v, want %d bytes from %s", ge.From, size, addr)
	}
	if ge.In["DATA"] < ge.Chunks || ge.In["HANDSHAKE"] == 0 || ge.Out["REQUEST"] == 0 || ge.Out["ACK"] == 0 {
		t.Errorf("get messages in %v out %v", ge.In, ge.Out)
	}
	if countEv(g, events.EvComplete) != 1 {
		t.Errorf("%d complete records in the get log", countEv(g, events.EvComplete))
	}

	s := readLog(t, seedLog)
	ss, se := s[0], s[len(s)-1]
	if ss.Ev != events.EvStart || ss.Role != "seed" || ss.Addr != addr || ss.Root != gs.Root || ss.Size != size {
		t.Errorf("seed start %+v", ss)
	}
	if se.Ev != events.EvExit || se.Err != "" || se.To[gs.Addr] < size || se.Out["DATA"] < ge.Chunks || se.In["REQUEST"] == 0 {
		t.Errorf("seed exit %+v, want at least %d bytes to %s", se, size, gs.Addr)
	}
	t.Logf("get: %d records over %d ms; seed: %d records; get in %v", len(g), ge.T-gs.T, len(s), ge.In)
}

// TestEventsLogInterrupted interrupts a getter that has no live peer: its
// log must still end with an exit record saying why.
func TestEventsLogInterrupted(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "get.jsonl")
	get := exec.Command(binary, "get", "--no-dht", "--listen", "127.0.0.1:0", "--peer", "127.0.0.1:9", "-o", filepath.Join(dir, "got"),
		"--events", log, "--events-every", "20ms", "ppsp://7b72db4d084873f536c5972c0276f45fae2dd3fc")
	if err := get.Start(); err != nil {
		t.Fatal(err)
	}
	defer get.Process.Kill()
	for i := 0; i < 500; i++ {
		if b, _ := os.ReadFile(log); strings.Count(string(b), "\n") >= 3 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	get.Process.Signal(syscall.SIGINT)
	if err := get.Wait(); err == nil {
		t.Error("interrupted get exited 0")
	}
	recs := readLog(t, log)
	last := recs[len(recs)-1]
	if last.Ev != events.EvExit || !strings.Contains(last.Err, "incomplete") || last.Have != 0 || countEv(recs, events.EvSample) < 2 {
		t.Errorf("records %+v", recs)
	}
}

// readLog reads an event log that must be whole and in time order.
func readLog(t *testing.T, path string) []events.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, st, err := events.Read(f)
	if err != nil || st.Skipped() != 0 || len(recs) < 2 {
		t.Fatalf("%s: %d records, %+v, %v", path, len(recs), st, err)
	}
	for i := 1; i < len(recs); i++ {
		if recs[i].T < recs[i-1].T {
			t.Errorf("%s: record %d at %d ms, after %d ms", path, i, recs[i].T, recs[i-1].T)
		}
	}
	return recs
}

func countEv(recs []events.Record, ev string) int {
	n := 0
	for _, r := range recs {
		if r.Ev == ev {
			n++
		}
	}
	return n
}
