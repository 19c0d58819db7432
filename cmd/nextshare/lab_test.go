package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nextshare/nextshare/internal/lab"
)

// needLab skips unless namespaces can be made (root with ip and iptables).
func needLab(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the lab needs root to create network namespaces")
	}
	needTools(t, "ip", "iptables")
}

// TestLabSmall runs the small shipped scenario end to end: real
// processes in namespaces, every download byte-identical, and a report
// whose plots all render in Chromium.
func TestLabSmall(t *testing.T) {
	needLab(t)
	needTools(t, "chromium")
	out := filepath.Join(t.TempDir(), "out")
	cmd := exec.Command(binary, "lab", "run", "small", "--out", out)
	b, err := cmd.CombinedOutput()
	t.Logf("lab run small:\n%s", b)
	if err != nil {
		t.Fatalf("lab run: %v", err)
	}
	for _, want := range []string{"downloads complete: 4 of 4, byte-identical: true", "completion time:", "fluid lower bound:", "report:"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	data, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res lab.Results
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	if !res.AllIdentical || res.Completion <= 0 || res.FluidBound <= 0 || len(res.Hosts) != 5 {
		t.Errorf("results: identical %v, completion %v, bound %v, %d hosts", res.AllIdentical, res.Completion, res.FluidBound, len(res.Hosts))
	}
	for _, h := range res.Hosts {
		if h.Role == "get" && (len(h.Samples) == 0 || len(h.BytesFrom) == 0 || h.Startup <= 0) {
			t.Errorf("%s: %d samples, from %v, startup %v", h.Name, len(h.Samples), h.BytesFrom, h.Startup)
		}
	}
	if leftovers := labNamespaces(t, cmd.Process.Pid); len(leftovers) > 0 {
		t.Errorf("namespaces left behind: %v", leftovers)
	}
	checkReportRenders(t, filepath.Join(out, "index.html"))
}

// checkReportRenders opens the report in headless Chromium and checks
// that it has plots and every image decoded.
func checkReportRenders(t *testing.T, index string) {
	t.Helper()
	ctx := headlessChromium(t)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Navigate("file://"+index)); err != nil {
		t.Fatal(err)
	}
	type imgs struct {
		Total, Loaded int
		Broken        []string
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[imgs](`(async () => {
		const all = [...document.images];
		await Promise.all(all.map(i => i.complete ? 0 : new Promise(r => { i.onload = i.onerror = r; })));
		const broken = all.filter(i => !(i.naturalWidth > 100 && i.naturalHeight > 100)).map(i => i.src);
		return {Total: all.length, Loaded: all.length - broken.length, Broken: broken};
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report: %d of %d images rendered", got.Loaded, got.Total)
	if got.Total < 6 || got.Loaded != got.Total {
		t.Errorf("report images: %d of %d rendered; broken: %v", got.Loaded, got.Total, got.Broken)
	}
}

// TestLabInterrupt stops a run with Ctrl-C while its swarm is busy and
// checks that no namespace or process outlives it.
func TestLabInterrupt(t *testing.T) {
	needLab(t)
	out := filepath.Join(t.TempDir(), "out")
	cmd := exec.Command(binary, "lab", "run", "flashcrowd", "--out", out)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// Wait until the downloads are under way.
	var log strings.Builder
	deadline := time.After(60 * time.Second)
wait:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("lab exited early:\n%s", log.String())
			}
			log.WriteString(l + "\n")
			if strings.Contains(l, "running") {
				break wait
			}
		case <-deadline:
			t.Fatalf("no progress line in 60 s:\n%s", log.String())
		}
	}
	if n := len(labNamespaces(t, cmd.Process.Pid)); n < 31 {
		t.Fatalf("%d namespaces while running, want at least 31", n)
	}
	children := processesUnder(t, out)
	if len(children) < 31 {
		t.Fatalf("%d nextshare processes while running, want at least 31", len(children))
	}
	cmd.Process.Signal(syscall.SIGINT)
	go func() {
		for l := range lines {
			log.WriteString(l + "\n")
		}
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("an interrupted run exited 0")
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("lab did not stop within 30 s of SIGINT")
	}
	if left := labNamespaces(t, cmd.Process.Pid); len(left) > 0 {
		t.Errorf("namespaces left: %v", left)
	}
	if left := processesUnder(t, out); len(left) > 0 {
		t.Errorf("processes left: %v", left)
	}
	if b, err := exec.Command("ip", "-o", "link", "show", "type", "veth").Output(); err == nil && strings.Contains(string(b), fmt.Sprintf("%s%d", lab.Prefix, cmd.Process.Pid)) {
		t.Errorf("veths left in the root namespace:\n%s", b)
	}
}

// labNamespaces lists the namespaces a lab process with pid created.
func labNamespaces(t *testing.T, pid int) []string {
	t.Helper()
	b, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	prefix := fmt.Sprintf("%s%d-", lab.Prefix, pid)
	var ns []string
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(f[0], prefix) {
			ns = append(ns, f[0])
		}
	}
	return ns
}

// processesUnder lists the PIDs of processes whose command line names a
// path under dir: the lab's hosts.
func processesUnder(t *testing.T, dir string) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil || pid == os.Getpid() {
			continue
		}
		cl, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if strings.Contains(string(cl), dir+"/") && strings.Contains(string(cl), "nextshare") {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestLabBadScenario checks that a bad field is reported with its line.
func TestLabBadScenario(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(p, []byte("name: bad\nduration: 60s\ncontent:\n  size: 1MiB\ngroups:\n  - name: seed\n    role: seed\n    count: 1\n  - name: leech\n    role: get\n    cuont: 3\n"), 0o644)
	b, err := exec.Command(binary, "lab", "run", p).CombinedOutput()
	if err == nil {
		t.Fatalf("a bad scenario ran:\n%s", b)
	}
	if !strings.Contains(string(b), "bad.yaml:11") || !strings.Contains(string(b), "cuont") {
		t.Errorf("the error does not name the field and line 11:\n%s", b)
	}
}
