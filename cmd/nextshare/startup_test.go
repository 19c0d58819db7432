package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nextshare/nextshare/internal/relay"
)

var startupRuns = flag.Int("startup.runs", 2, "runs of TestStartupBench (the benchmark uses 20)")

// firstFrameJS resolves when the media document's video presents its first
// frame, then seeks to 70% and resolves with the time from the seek to the
// first frame presented after it (ms).
const firstFrameJS = `new Promise((resolve, reject) => {
	const v = document.querySelector('video');
	if (!v) { reject(new Error('no video element')); return; }
	v.muted = true;
	v.requestVideoFrameCallback(() => resolve(true));
	v.play().catch(() => {});
})`

const seekJS = `new Promise((resolve, reject) => {
	const v = document.querySelector('video');
	const t0 = performance.now();
	v.addEventListener('seeked', () => {
		v.requestVideoFrameCallback(() => resolve(performance.now() - t0));
	}, {once: true});
	v.currentTime = v.duration * 0.7;
	setTimeout(() => reject(new Error('no frame 20 s after seeking')), 20000);
})`

// TestStartupBench measures startup over an emulated path: a seeder behind
// a userspace relay with 50 ms RTT and 20 Mbit/s each way, and a viewer
// (`nextshare play`) opened in headless Chromium: the time from starting
// play to the first frame and to the first MiB verified, and the time from
// a seek to 70% to the next frame; then the first frame and the seek again
// for an MP4 whose index is at its end. It prints p50 and p95; run the
// benchmark with
//
//	go test -run TestStartupBench -v ./cmd/nextshare/ -startup.runs=20
func TestStartupBench(t *testing.T) {
	needTools(t, "chromium", "ffmpeg")
	video := testVideo(t, 60, "640x360", "-b:v", "1500k")
	tail := tailIndexVideo(t, 60, "640x360", "-b:v", "1500k")
	relays := make([]*relay.Relay, 2)
	links := make([]string, 2)
	for k, v := range []string{video, tail} {
		addr, link := seeder(t, v)
		r, err := relay.Start(relay.Config{
			Target: netip.MustParseAddrPort(addr), Delay: 25 * time.Millisecond,
			Rate: 20_000_000 / 8, Queue: 20_000_000 / 8 / 10, // 100 ms of queue
		})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		relays[k], links[k] = r, link
	}

	bctx := headlessChromium(t)
	if _, err := chromedp.Run(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}

	var frame, mib, seek, tailFrame, tailSeek []time.Duration
	for run := range *startupRuns {
		f, m, s := startupRun(t, bctx, relays[0].Addr().String(), links[0], run)
		frame, mib, seek = append(frame, f), append(mib, m), append(seek, s)
		tf, _, ts := startupRun(t, bctx, relays[1].Addr().String(), links[1], run)
		tailFrame, tailSeek = append(tailFrame, tf), append(tailSeek, ts)
		t.Logf("run %d: first frame %v, first MiB %v, seek resume %v; index at the end: first frame %v, seek resume %v",
			run+1, f, m, s, tf, ts)
	}
	t.Logf("relays: %+v, %+v", relays[0].Stats(), relays[1].Stats())
	fmt.Printf("startup over 50 ms RTT, 20 Mbit/s (%d runs)\n", len(frame))
	fmt.Printf("%-26s %8s %8s\n", "", "p50", "p95")
	for _, row := range []struct {
		name string
		d    []time.Duration
	}{
		{"first frame", frame}, {"first MiB", mib}, {"seek resume", seek},
		{"first frame (index last)", tailFrame}, {"seek resume (index last)", tailSeek},
	} {
		fmt.Printf("%-26s %8.0f %8.0f ms\n", row.name, pct(row.d, 50), pct(row.d, 95))
	}
}

// tailIndexVideo makes an MP4 like testVideo but as ffmpeg writes it by
// default, with its index (moov) after the media data: a player reads the
// end of the file before it can show a frame.
func tailIndexVideo(t *testing.T, seconds int, size string, extra ...string) string {
	t.Helper()
	video := filepath.Join(t.TempDir(), "tail.mp4")
	args := []string{"-loglevel", "error",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc=duration=%d:size=%s:rate=25", seconds, size),
		"-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=440:duration=%d", seconds),
		"-c:v", "libx264", "-preset", "ultrafast"}
	args = append(args, extra...)
	args = append(args, "-pix_fmt", "yuv420p", "-c:a", "aac", video)
	if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	return video
}

// startupRun starts a viewer, opens its stream in a new tab, and measures.
func startupRun(t *testing.T, bctx context.Context, peer, link string, run int) (frame, mib, seek time.Duration) {
	t.Helper()
	ctx, cancel := chromedp.NewContext(bctx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	defer cancelT()

	t0 := time.Now()
	cmd := exec.Command(binary, "play", "--no-dht", "--peer", peer, "--player", "none",
		"--listen", "127.0.0.1:0", "-o", filepath.Join(t.TempDir(), fmt.Sprintf("run%d", run)), link+"&type=video%2Fmp4")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	var url string
	if _, err := fmt.Fscanln(stdout, &url); err != nil {
		t.Fatalf("play printed no URL: %v", err)
	}
	go io.Copy(io.Discard, stdout)

	mibDone := make(chan time.Duration, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		req.Header.Set("Range", "bytes=0-1048575")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			mibDone <- -1
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		mibDone <- time.Since(t0)
	}()
	if _, err := chromedp.Run(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("navigate: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](firstFrameJS, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatalf("first frame: %v", err)
	}
	frame = time.Since(t0)
	ms, err := chromedp.Run(ctx, chromedp.Evaluate[float64](seekJS, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("seek: %v", err)
	}
	seek = time.Duration(ms * float64(time.Millisecond))
	mib = <-mibDone
	return frame, mib, seek
}

// pct returns the p-th percentile of d in milliseconds.
func pct(d []time.Duration, p int) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return float64(s[i]) / float64(time.Millisecond)
}
