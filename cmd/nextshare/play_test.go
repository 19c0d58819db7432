package main

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// play runs `nextshare play --player none` for link from the peer at addr
// and returns the stream URL it prints.
func play(t *testing.T, addr, link string) string {
	t.Helper()
	sc := start(t, "play", "--no-dht", "--peer", addr, "--player", "none",
		"--listen", "127.0.0.1:0", "-o", filepath.Join(t.TempDir(), "out"), link)
	if !sc.Scan() {
		t.Fatal("play printed no URL")
	}
	url := strings.TrimSpace(sc.Text())
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("play printed %q, want an http://127.0.0.1 URL", url)
	}
	go func() {
		for sc.Scan() {
		}
	}()
	return url
}

func TestPlayServesStream(t *testing.T) {
	src, data := randomFile(t, 2_000_000)
	addr, link := seeder(t, src)
	url := play(t, addr, link)

	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Range", "bytes=1500000-1500099")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(b, data[1500000:1500100]) {
		t.Fatalf("range: status %d, %d bytes", resp.StatusCode, len(b))
	}
	resp, err = http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(b, data) {
		t.Fatalf("whole stream: status %d, %d bytes, want the %d source bytes", resp.StatusCode, len(b), len(data))
	}
}

// TestMpvPlaysGateway has mpv (headless) play a real video through the
// gateway.
func TestMpvPlaysGateway(t *testing.T) {
	needTools(t, "mpv", "ffmpeg")
	video := testVideo(t, 4, "320x240")
	addr, link := seeder(t, video)
	url := play(t, addr, link)
	cmd := exec.Command("mpv", "--no-config", "--ytdl=no", "--vo=null", "--ao=null", "--length=2", url)
	done := make(chan error, 1)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("mpv: %v\n%s", err, out.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("mpv did not finish\n%s", out.String())
	}
}

func TestExtensionFor(t *testing.T) {
	// A type whose first extension is not the one named like it, as
	// video/mp4 is with /etc/mime.types (.f4v before .mp4).
	for _, ext := range []string{".aaa", ".x-nstest"} {
		if err := mime.AddExtensionType(ext, "application/x-nstest"); err != nil {
			t.Fatal(err)
		}
	}
	for typ, want := range map[string]string{
		"application/x-nstest":            ".x-nstest",
		"application/x-nstest; charset=x": ".x-nstest",
		"application/x-nothing-known":     "",
	} {
		if got := extensionFor(typ); got != want {
			t.Errorf("extensionFor(%q) = %q, want %q", typ, got, want)
		}
	}
}
