package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// needTools fails the test when a tool is missing where scripts/test.sh
// would have installed it (as root), and skips it otherwise.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Geteuid() == 0 {
				t.Fatalf("%s is needed (scripts/test.sh installs it): %v", tool, err)
			}
			t.Skipf("%s not installed", tool)
		}
	}
}

// testVideo makes an H.264/AAC MP4 (index first) of a test pattern and a
// tone, seconds long at the given size, with extra ffmpeg output options.
func testVideo(t *testing.T, seconds int, size string, extra ...string) string {
	t.Helper()
	video := filepath.Join(t.TempDir(), "clip.mp4")
	args := []string{"-loglevel", "error",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc=duration=%d:size=%s:rate=25", seconds, size),
		"-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=440:duration=%d", seconds),
		"-c:v", "libx264", "-preset", "ultrafast"}
	args = append(args, extra...)
	args = append(args, "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart", video)
	if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	return video
}

// headlessChromium starts Debian's chromium for the test, offline and
// allowed to autoplay, and returns a browser context; the browser stops
// when the test ends.
func headlessChromium(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath("/usr/bin/chromium"),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Env("TMPDIR="+t.TempDir()), // its scratch files go with the test
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	return ctx
}
