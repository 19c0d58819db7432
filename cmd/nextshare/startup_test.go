package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	neturl "net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nextshare/nextshare/internal/netlab"
	"github.com/nextshare/nextshare/internal/relay"
)

var (
	startupRuns = flag.Int("startup.runs", 2, "runs of TestStartupBench (the benchmark uses 20)")
	startupNet  = flag.String("startup.net", "netns", "path of TestStartupBench: netns (seeder and viewer in network namespaces; needs root) or relay (a userspace relay on loopback)")
)

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

// TestStartupBench measures startup over an emulated path with 50 ms RTT
// and 20 Mbit/s each way (by default a seeder and a viewer in network
// namespaces, with -startup.net=relay a userspace relay on loopback), with
// the viewer (`nextshare play`) opened in headless Chromium: the time from
// starting play to the first frame and to the first MiB verified, and the
// time from a seek to 70% to the next frame; then the first frame and the
// seek again for an MP4 whose index is at its end. It prints p50 and p95;
// run the benchmark with
//
//	go test -run TestStartupBench -v ./cmd/nextshare/ -startup.runs=20
func TestStartupBench(t *testing.T) {
	needTools(t, "chromium", "ffmpeg")
	video := testVideo(t, 60, "640x360", "-b:v", "1500k")
	tail := tailIndexVideo(t, 60, "640x360", "-b:v", "1500k")
	var p *startupPath
	switch *startupNet {
	case "netns":
		needLab(t)
		p = netnsPath(t, video, tail)
	case "relay":
		p = relayPath(t, video, tail)
	default:
		t.Fatalf("-startup.net=%q: want netns or relay", *startupNet)
	}

	bctx := headlessChromium(t)
	if _, err := chromedp.Run(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}

	var frame, mib, seek, tailFrame, tailSeek []time.Duration
	for run := range *startupRuns {
		f, m, s := startupRun(t, bctx, p, 0, run)
		frame, mib, seek = append(frame, f), append(mib, m), append(seek, s)
		tf, _, ts := startupRun(t, bctx, p, 1, run)
		tailFrame, tailSeek = append(tailFrame, tf), append(tailSeek, ts)
		t.Logf("run %d: first frame %v, first MiB %v, seek resume %v; index at the end: first frame %v, seek resume %v",
			run+1, f, m, s, tf, ts)
	}
	t.Logf("path: %s", p.stats())
	fmt.Printf("startup over 50 ms RTT, 20 Mbit/s, %s (%d runs)\n", *startupNet, len(frame))
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

// startupPath is where the benchmark's seeders and viewers run.
type startupPath struct {
	peers, links []string // per video: the seeder as the viewer reaches it, and the link
	// viewer returns the command that runs a viewer with args.
	viewer func(args ...string) *exec.Cmd
	// url turns the URL a viewer printed into one the test and Chromium
	// can open.
	url   func(string) string
	stats func() string
}

// relayPath seeds both videos on loopback behind userspace relays.
func relayPath(t *testing.T, videos ...string) *startupPath {
	p := &startupPath{
		viewer: func(args ...string) *exec.Cmd { return exec.Command(binary, args...) },
		url:    func(u string) string { return u },
	}
	var relays []*relay.Relay
	for _, v := range videos {
		addr, link := seeder(t, v)
		r, err := relay.Start(relay.Config{
			Target: netip.MustParseAddrPort(addr), Delay: 25 * time.Millisecond,
			Rate: 20_000_000 / 8, Queue: 20_000_000 / 8 / 10, // 100 ms of queue
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		relays = append(relays, r)
		p.peers, p.links = append(p.peers, r.Addr().String()), append(p.links, link)
	}
	p.stats = func() string {
		var s []string
		for _, r := range relays {
			s = append(s, fmt.Sprintf("%+v", r.Stats()))
		}
		return strings.Join(s, ", ")
	}
	return p
}

// netnsPath puts a seeder host and a viewer host in network namespaces,
// each linked to the router with 12.5 ms of delay and 20 Mbit/s each way,
// seeds the videos on the seeder host, and reaches viewers' gateways
// through a TCP forwarder on loopback.
func netnsPath(t *testing.T, videos ...string) *startupPath {
	link := netlab.Link{Delay: 12500 * time.Microsecond, Rate: 20_000_000}
	nw, err := netlab.New(context.Background(), []netlab.HostSpec{
		{Name: "seed", Up: link, Down: link}, {Name: "viewer", Up: link, Down: link},
	}, netlab.Options{Prefix: "nsstartup"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nw.Close() })
	p := &startupPath{
		viewer: func(args ...string) *exec.Cmd {
			return nw.Command(context.Background(), "viewer", binary, args...)
		},
		stats: func() string { return fmt.Sprintf("router %+v", nw.Stats()) },
	}
	for k, v := range videos {
		port := 7574 + k
		cmd := nw.Command(context.Background(), "seed", binary, "seed", "--no-dht", "--listen", fmt.Sprintf(":%d", port), v)
		sc := startCmd(t, cmd)
		link, _ := seedOutput(t, sc)
		p.peers = append(p.peers, netip.AddrPortFrom(nw.Host("seed").Addr, uint16(port)).String())
		p.links = append(p.links, link)
	}
	fwd := forwarder(t, nw, "viewer")
	p.url = func(u string) string {
		pu, err := neturl.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		fwd.target.Store(pu.Host)
		pu.Host = fwd.addr
		return pu.String()
	}
	return p
}

// tcpForwarder accepts on loopback and connects each client, from inside
// a namespace, to target.
type tcpForwarder struct {
	addr   string
	target atomic.Value // string
}

func forwarder(t *testing.T, nw *netlab.Network, host string) *tcpForwarder {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &tcpForwarder{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			target, _ := f.target.Load().(string)
			var up net.Conn
			if err := nw.Do(host, func() (err error) {
				up, err = net.Dial("tcp", target)
				return err
			}); err != nil {
				c.Close()
				continue
			}
			wg.Add(2)
			go func() { defer wg.Done(); io.Copy(up, c); up.(*net.TCPConn).CloseWrite() }()
			go func() { defer wg.Done(); io.Copy(c, up); c.Close(); up.Close() }()
		}
	}()
	return f
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
func startupRun(t *testing.T, bctx context.Context, p *startupPath, video, run int) (frame, mib, seek time.Duration) {
	t.Helper()
	ctx, cancel := chromedp.NewContext(bctx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	defer cancelT()

	t0 := time.Now()
	cmd := p.viewer("play", "--no-dht", "--peer", p.peers[video], "--player", "none",
		"--listen", ":0", "-o", filepath.Join(t.TempDir(), fmt.Sprintf("run%d", run)), p.links[video]+"&type=video%2Fmp4")
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
	url = p.url(url)
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
