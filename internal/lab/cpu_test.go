package lab

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestReadCPU(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "stat")
	write := func(s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("cpu  100 10 50 800 40 5 5 0 0 0\ncpu0 50 5 25 400 20 2 3 0 0 0\nintr 1\n")
	a, err := readCPU(p)
	if err != nil {
		t.Fatal(err)
	}
	if a != (cpuTimes{busy: 170, idle: 840}) {
		t.Fatalf("read %+v", a)
	}
	write("cpu  400 10 150 900 40 5 5 0 0 0\n")
	b, err := readCPU(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := busyShare(a, b); math.Abs(got-0.8) > 1e-9 {
		t.Errorf("busy share %v, want 0.8", got)
	}
	if got := busyShare(b, a); got != 0 {
		t.Errorf("busy share backwards %v, want 0", got)
	}
	for _, bad := range []string{"", "cpu 1 2 3\n", "cpu 1 2 x 4 5 6 7 8\n"} {
		write(bad)
		if _, err := readCPU(p); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if _, err := readCPU("/proc/stat"); err != nil {
		t.Skipf("no /proc/stat here: %v", err)
	}
}
