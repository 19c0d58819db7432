package demo

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestDemo runs the demo for a few seconds: every viewer ends with a
// byte-identical copy, and the URL it prints streams the clip.
func TestDemo(t *testing.T) {
	pr, pw := io.Pipe()
	type out struct {
		res Result
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := Run(context.Background(), Config{Out: pw, Duration: 4 * time.Second, Every: 500 * time.Millisecond})
		pw.Close()
		done <- out{res, err}
	}()
	sc := bufio.NewScanner(pr)
	var url string
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "watch it: "); ok {
			url = u
			break
		}
	}
	if url == "" {
		t.Fatal("the demo printed no URL")
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(body, Clip) || resp.Header.Get("Content-Type") != "video/mp4" {
		t.Errorf("GET %s: status %d, %d bytes, type %q; want the %d-byte clip as video/mp4",
			url, resp.StatusCode, len(body), resp.Header.Get("Content-Type"), len(Clip))
	}
	var table strings.Builder
	for sc.Scan() {
		table.WriteString(sc.Text() + "\n")
	}
	o := <-done
	if o.err != nil {
		t.Fatal(o.err)
	}
	if o.res.Complete != 3 {
		t.Errorf("%d of 3 viewers complete\n%s", o.res.Complete, table.String())
	}
	if !strings.Contains(table.String(), "viewer 3") {
		t.Errorf("no table of viewers:\n%s", table.String())
	}
	t.Logf("%d of %d bytes from other viewers", o.res.FromPeers, o.res.Total)
}
