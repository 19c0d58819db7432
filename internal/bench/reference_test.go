package bench

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReferenceLibtorrent runs the real reference on a small file.
func TestReferenceLibtorrent(t *testing.T) {
	if why := libtorrentMissing(context.Background(), defaultPython); why != "" {
		t.Skip(why)
	}
	dir := t.TempDir()
	var log bytes.Buffer
	cfg := Config{Size: 8 << 20, Runs: 1, Dir: dir, Reference: true, Timeout: 2 * time.Minute, Log: &log}
	rs, err := RunTransfer(context.Background(), cfg)
	if err != nil {
		t.Fatalf("RunTransfer: %v\nlog:\n%s", err, log.String())
	}
	// RunTransfer compared the download with the source by SHA-256; a
	// result with a run means it was byte-identical.
	if len(rs) != 1 || rs[0].Impl != ImplLibtorrent || rs[0].Skipped != "" || len(rs[0].Runs) != 1 {
		t.Fatalf("results %+v, want one libtorrent run", rs)
	}
	r := rs[0].Runs[0]
	if r.Seconds <= 0 || r.MBps <= 0 || r.Getter.CPUSeconds <= 0 {
		t.Errorf("run %+v: want positive time, rate and getter CPU", r)
	}
	t.Logf("8 MiB: %.1f MB/s, %.3f s, CPU s seeder %.3f getter %.3f",
		r.MBps, r.Seconds, r.Seeder.CPUSeconds, r.Getter.CPUSeconds)
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("left in work dir: %v", left)
	}
	if pids := processesMentioning(t, dir); len(pids) != 0 {
		t.Errorf("processes still running with %s on their command line: %v", dir, pids)
	}
}

// processesMentioning lists the PIDs whose command line contains s.
func processesMentioning(t *testing.T, s string) []string {
	t.Helper()
	cmdlines, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	var pids []string
	for _, p := range cmdlines {
		data, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(data), s) {
			pids = append(pids, filepath.Base(filepath.Dir(p)))
		}
	}
	return pids
}

func TestScriptEmbedded(t *testing.T) {
	for _, want := range []string{"def seed(", "def get(", `"enable_dht": False`, `"enable_incoming_utp": False`} {
		if !bytes.Contains(ltScript, []byte(want)) {
			t.Errorf("embedded lt_ref.py lacks %q", want)
		}
	}
}

// BenchmarkReferenceTransfer measures the libtorrent reference at the
// default size, DefaultRuns runs per iteration, and reports the medians.
// Run it with -benchtime=1x.
func BenchmarkReferenceTransfer(b *testing.B) {
	if why := libtorrentMissing(context.Background(), defaultPython); why != "" {
		b.Skip(why)
	}
	for b.Loop() {
		var log bytes.Buffer
		rs, err := RunTransfer(context.Background(), Config{Reference: true, Log: &log})
		if err != nil {
			b.Fatalf("RunTransfer: %v\nlog:\n%s", err, log.String())
		}
		b.Logf("\n%s", log.String())
		var table bytes.Buffer
		PrintTable(&table, rs)
		b.Logf("\n%s", table.String())
		r := rs[0]
		b.ReportMetric(r.MBps.Median, "MB/s")
		b.ReportMetric(r.SeederCPUPerGiB.Median, "seeder-CPU-s/GiB")
		b.ReportMetric(r.GetterCPUPerGiB.Median, "getter-CPU-s/GiB")
	}
}
