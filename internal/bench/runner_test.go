package bench

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// fakeSize is odd so that no code can assume whole chunks or pieces.
const fakeSize = 1<<20 + 123

// fakeSetup prepares a run against the fake nextshare in the given mode and
// returns the Config and the directory where the fakes record their PIDs.
func fakeSetup(t *testing.T, mode string) (Config, string) {
	t.Helper()
	dir, pids := t.TempDir(), t.TempDir()
	t.Setenv(fakeEnv, "1")
	t.Setenv(fakeSource, filepath.Join(dir, sourceName))
	t.Setenv(fakePIDDir, pids)
	t.Setenv(fakeMode, mode)
	// A race-enabled binary sleeps a second at exit by default; the fakes
	// need not.
	t.Setenv("GORACE", "atexit_sleep_ms=0")
	return Config{
		Binary:    os.Args[0],
		Size:      fakeSize,
		Runs:      1,
		Dir:       dir,
		Timeout:   time.Minute,
		argPrefix: fakeArgPrefix,
		grace:     5 * time.Second,
	}, pids
}

// checkAftermath checks what RunTransfer promises on return, whatever the
// outcome: every process it started is gone, the work dir is empty, no
// goroutine is left. It returns the PIDs the fakes recorded, by role.
func checkAftermath(t *testing.T, cfg Config, pidDir string) map[string][]int {
	t.Helper()
	entries, err := os.ReadDir(pidDir)
	if err != nil {
		t.Fatal(err)
	}
	byRole := map[string][]int{}
	for _, e := range entries {
		role, num, ok := strings.Cut(e.Name(), "-")
		pid, err := strconv.Atoi(num)
		if !ok || err != nil {
			t.Fatalf("bad PID file %q", e.Name())
		}
		byRole[role] = append(byRole[role], pid)
		// RunTransfer reaped its children, so the PID names no process.
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("%s process %d still exists after RunTransfer (kill 0: %v)", role, pid, err)
		}
	}
	left, err := os.ReadDir(cfg.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("left in work dir: %s", e.Name())
	}
	goleak.VerifyNone(t)
	return byRole
}

func TestRunTransferFake(t *testing.T) {
	cfg, pids := fakeSetup(t, "")
	cfg.Runs = 3
	var log bytes.Buffer
	cfg.Log = &log
	rs, err := RunTransfer(context.Background(), cfg)
	if err != nil {
		t.Fatalf("RunTransfer: %v\nlog:\n%s", err, log.String())
	}
	roles := checkAftermath(t, cfg, pids)
	if len(roles["seed"]) != 3 || len(roles["get"]) != 3 {
		t.Errorf("started %d seeders and %d getters, want 3 of each", len(roles["seed"]), len(roles["get"]))
	}
	if len(rs) != 1 || rs[0].Impl != ImplNextshare || rs[0].Size != fakeSize || len(rs[0].Runs) != 3 {
		t.Fatalf("results = %+v, want one nextshare result of 3 runs of %d bytes", rs, fakeSize)
	}
	for i, r := range rs[0].Runs {
		if r.Seconds <= 0 || r.MBps <= 0 {
			t.Errorf("run %d: %.6f s, %.3f MB/s; want both positive", i, r.Seconds, r.MBps)
		}
		if got := float64(fakeSize) / 1e6 / r.Seconds; !near(got, r.MBps) {
			t.Errorf("run %d: %.3f MB/s, want size/10^6/seconds = %.3f", i, r.MBps, got)
		}
		// The fake getter burns fakeGetBurn; the fake seeder burns
		// fakeServeBurn while serving it, after fakeSetupBurn before the
		// download, which must not be counted.
		if r.Getter.CPUSeconds < fakeGetBurn.Seconds()*0.9 {
			t.Errorf("run %d: getter CPU %.3f s, want at least %.3f", i, r.Getter.CPUSeconds, fakeGetBurn.Seconds())
		}
		lo, hi := fakeServeBurn.Seconds()*0.5, fakeSetupBurn.Seconds()*0.8
		if s := r.Seeder.CPUSeconds; s < lo || s > hi {
			t.Errorf("run %d: seeder CPU %.3f s, want the serving burn of %.2f s (between %.2f and %.2f)",
				i, s, fakeServeBurn.Seconds(), lo, hi)
		}
	}
	if got := rs[0].MBps; got.Min > got.Median || got.Median > got.Max || got.Median <= 0 {
		t.Errorf("MB/s stat %+v is not ordered min <= median <= max", got)
	}
	wantPerGiB := rs[0].Runs[0].Getter.CPUSeconds * (1 << 30) / fakeSize
	if g := rs[0].GetterCPUPerGiB; g.Min > wantPerGiB*(1+1e-9) || g.Max < wantPerGiB*(1-1e-9) {
		t.Errorf("getter CPU/GiB %+v does not cover run 0's %.3f", g, wantPerGiB)
	}
	if n := strings.Count(log.String(), "nextshare run "); n != 3 {
		t.Errorf("log has %d run lines, want 3:\n%s", n, log.String())
	}
}

func near(a, b float64) bool {
	d := a - b
	return d < 1e-9*max(a, b) && -d < 1e-9*max(a, b)
}

// TestRunTransferFails covers each way a run can fail: the error says
// what happened and, whatever it was, nothing is left behind.
func TestRunTransferFails(t *testing.T) {
	for _, tc := range []struct {
		mode    string
		timeout time.Duration
		want    string
	}{
		{fakeModeCorrupt, time.Minute, "differs from the source"},
		{fakeModeGetFails, time.Minute, "no peer has the content"},
		{fakeModeShortJSON, time.Minute, "reports 1048698 bytes, want 1048699"},
		{fakeModeSeedDies, time.Minute, "dying as told"},
		{fakeModeNoURI, time.Second, "printed no ppsp:// URI within 1s"},
		{fakeModeGetHangs, time.Second, "not done within 1s"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			cfg, pids := fakeSetup(t, tc.mode)
			cfg.Runs = 2
			cfg.Timeout = tc.timeout
			rs, err := RunTransfer(context.Background(), cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), "run 1 of 2") {
				t.Errorf("error %v does not name the run", err)
			}
			if len(rs) != 1 || len(rs[0].Runs) != 0 {
				t.Errorf("results %+v, want one result with no runs", rs)
			}
			checkAftermath(t, cfg, pids)
		})
	}
}

func TestRunTransferSeederIgnoresSIGTERM(t *testing.T) {
	cfg, pids := fakeSetup(t, fakeModeIgnoreTerm)
	cfg.grace = 100 * time.Millisecond
	rs, err := RunTransfer(context.Background(), cfg)
	if err != nil {
		t.Fatalf("RunTransfer: %v", err)
	}
	if len(rs) != 1 || len(rs[0].Runs) != 1 {
		t.Errorf("results %+v, want one run", rs)
	}
	checkAftermath(t, cfg, pids)
}

func TestRunTransferCancel(t *testing.T) {
	cfg, pids := fakeSetup(t, fakeModeGetHangs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Cancel once the getter is running (it records its PID first).
	go func() {
		for range 2000 {
			if entries, _ := os.ReadDir(pids); len(entries) == 2 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	_, err := RunTransfer(ctx, cfg)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	roles := checkAftermath(t, cfg, pids)
	if len(roles["get"]) != 1 {
		t.Errorf("getter PIDs %v, want the one cancelled", roles["get"])
	}
}

// TestRunTransferOwnTempDir checks that a work dir RunTransfer made itself
// is removed whole. The fake getter cannot know where the source is then,
// so the run stops at a seeder that never gets ready.
func TestRunTransferOwnTempDir(t *testing.T) {
	cfg, pids := fakeSetup(t, fakeModeNoURI)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	cfg.Dir = ""
	cfg.Timeout = 200 * time.Millisecond
	if _, err := RunTransfer(context.Background(), cfg); err == nil {
		t.Fatal("RunTransfer succeeded without a URI")
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temp dir holds %v after RunTransfer, want nothing", left)
	}
	cfg.Dir = tmp
	checkAftermath(t, cfg, pids)
}

func TestReferenceSkippedWithoutLibtorrent(t *testing.T) {
	dir := t.TempDir()
	var log bytes.Buffer
	rs, err := RunTransfer(context.Background(), Config{
		Size: 1000, Runs: 1, Dir: dir, Reference: true, Log: &log,
		python: filepath.Join(dir, "no-such-python3"),
	})
	if err != nil {
		t.Fatalf("RunTransfer: %v", err)
	}
	if len(rs) != 1 || rs[0].Impl != ImplLibtorrent || rs[0].Skipped == "" {
		t.Fatalf("results %+v, want one skipped libtorrent result", rs)
	}
	for _, want := range []string{"cannot import libtorrent", "apt-get install -y python3-libtorrent"} {
		if !strings.Contains(rs[0].Skipped, want) || !strings.Contains(log.String(), want) {
			t.Errorf("skip reason %q / log %q lacks %q", rs[0].Skipped, log.String(), want)
		}
	}
	var table bytes.Buffer
	PrintTable(&table, rs)
	if !strings.Contains(table.String(), "apt-get install -y python3-libtorrent") {
		t.Errorf("table does not show the skip reason:\n%s", table.String())
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("work dir not emptied: %v", left)
	}
}

func TestConfigRejected(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"nothing", Config{}, "nothing to run"},
		{"size", Config{Binary: "x", Size: -1}, "size -1"},
		{"runs", Config{Binary: "x", Runs: -2}, "runs -2"},
		{"timeout", Config{Binary: "x", Timeout: -time.Second}, "timeout -1s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := RunTransfer(context.Background(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := Config{Binary: "x"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Size != 256<<20 || cfg.Runs != 3 || cfg.Timeout != 5*time.Minute || cfg.Log == nil ||
		cfg.python != "/usr/bin/python3" || cfg.grace != stopGrace {
		t.Errorf("defaults %+v", cfg)
	}
}
