package gateway

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/nextshare/nextshare/internal/merkle"
	"github.com/nextshare/nextshare/internal/node"
	"github.com/nextshare/nextshare/internal/ppspp"
	"github.com/nextshare/nextshare/internal/uri"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fixture is a seeder and a leecher on loopback and a gateway over the
// leecher. The leecher knows no peer until connect is called.
type fixture struct {
	data    []byte
	root    []byte
	seeder  *node.Node
	leecher *node.Node
	swarm   *ppspp.Swarm
	gw      *Server
	srv     *httptest.Server
}

func newFixture(t *testing.T, size int) *fixture {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(size), 5))
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	return newFixtureOf(t, data)
}

// newFixtureOf is newFixture with the seeder's content given.
func newFixtureOf(t *testing.T, data []byte) *fixture {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "src.mp4")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	start := func() *node.Node {
		conn, err := node.ListenUDP("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		n, err := node.New(node.Config{Conn: conn})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		return n
	}
	f := &fixture{data: data, seeder: start(), leecher: start()}
	sw, err := f.seeder.Seed(src, merkle.SHA1)
	if err != nil {
		t.Fatal(err)
	}
	f.root = sw.Root()
	f.swarm, err = f.leecher.Get(uri.URI{Root: f.root, Func: merkle.SHA1, Size: -1}, filepath.Join(dir, "out"), nil)
	if err != nil {
		t.Fatal(err)
	}
	f.gw = New(Config{Swarms: f.leecher.Engine, StallAfter: 50 * time.Millisecond})
	f.srv = httptest.NewServer(f.gw)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) connect() { f.leecher.Engine.Connect(f.swarm, f.seeder.Engine.LocalAddr()) }

func (f *fixture) url(ext string) string { return fmt.Sprintf("%s/%x%s", f.srv.URL, f.root, ext) }

func get(t *testing.T, ctx context.Context, url string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// A range request for bytes nobody has verified yet blocks, then returns
// exactly the source's bytes once a peer delivers them; the wait counts as
// a stall.
func TestRangeBlocksUntilVerified(t *testing.T) {
	f := newFixture(t, 300_000)
	type result struct {
		resp *http.Response
		body []byte
	}
	done := make(chan result, 1)
	go func() {
		resp, b := get(t, context.Background(), f.url(".mp4"), map[string]string{"Range": "bytes=100000-100999"})
		done <- result{resp, b}
	}()
	select {
	case <-done:
		t.Fatal("the request returned before any chunk was verified")
	case <-time.After(300 * time.Millisecond):
	}
	f.connect()
	var r result
	select {
	case r = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the request did not complete after a peer connected")
	}
	if r.resp.StatusCode != http.StatusPartialContent {
		t.Fatalf("status %d, want 206", r.resp.StatusCode)
	}
	if !bytes.Equal(r.body, f.data[100000:101000]) {
		t.Fatal("range body differs from the source")
	}
	if ct := r.resp.Header.Get("Content-Type"); ct != "video/mp4" {
		t.Errorf("Content-Type %q, want video/mp4 from the extension", ct)
	}
	if st := f.gw.Stats(); st.Stalls == 0 || st.BytesServed < 1000 {
		t.Errorf("stats %+v: want a stall counted and the bytes served", st)
	}
}

func TestWholeFileHeadRangesAndErrors(t *testing.T) {
	f := newFixture(t, 123_457)
	f.connect()
	ctx := context.Background()
	resp, body := get(t, ctx, f.url(""), nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, f.data) {
		t.Fatalf("GET: status %d, %d bytes; want 200 and the %d source bytes", resp.StatusCode, len(body), len(f.data))
	}
	etag := resp.Header.Get("ETag")
	if etag != fmt.Sprintf(`"%x"`, f.root) || resp.Header.Get("Accept-Ranges") != "bytes" {
		t.Errorf("headers %v", resp.Header)
	}

	head, err := http.Head(f.url(".mp4"))
	if err != nil {
		t.Fatal(err)
	}
	head.Body.Close()
	if head.StatusCode != 200 || head.ContentLength != int64(len(f.data)) {
		t.Errorf("HEAD: status %d, length %d", head.StatusCode, head.ContentLength)
	}

	resp, body = get(t, ctx, f.url(""), map[string]string{"Range": "bytes=-100"})
	if resp.StatusCode != 206 || !bytes.Equal(body, f.data[len(f.data)-100:]) {
		t.Errorf("suffix range: status %d, %d bytes", resp.StatusCode, len(body))
	}
	resp, _ = get(t, ctx, f.url(""), map[string]string{"Range": fmt.Sprintf("bytes=%d-", len(f.data)+10)})
	if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("range past the end: status %d, want 416", resp.StatusCode)
	}
	resp, body = get(t, ctx, f.url(""), map[string]string{"Range": "bytes=10-19", "If-Range": etag})
	if resp.StatusCode != 206 || !bytes.Equal(body, f.data[10:20]) {
		t.Errorf("If-Range matching: status %d", resp.StatusCode)
	}
	resp, body = get(t, ctx, f.url(""), map[string]string{"Range": "bytes=10-19", "If-Range": `"other"`})
	if resp.StatusCode != 200 || len(body) != len(f.data) {
		t.Errorf("If-Range not matching: status %d, %d bytes; want 200 and all", resp.StatusCode, len(body))
	}

	for path, want := range map[string]int{
		"/" + fmt.Sprintf("%x", bytes.Repeat([]byte{1}, 20)): 404,
		"/nothex":                                  400,
		"/" + fmt.Sprintf("%x", f.root)[:39]:       400,
		"/" + fmt.Sprintf("%x", f.root) + "/extra": 400,
		"/" + fmt.Sprintf("%x", f.root) + ".m p4":  400,
	} {
		resp, _ := get(t, ctx, f.srv.URL+path, nil)
		if resp.StatusCode != want {
			t.Errorf("GET %s: status %d, want %d", path, resp.StatusCode, want)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, f.url(""), nil)
	pr, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pr.Body.Close()
	if pr.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", pr.StatusCode)
	}
}

// A client that goes away while its request waits is forgotten: its
// response ends and it no longer steers the picker. Content whose size is
// not known in time gets 503.
func TestDisconnectFreesReader(t *testing.T) {
	f := newFixture(t, 200_000)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.url(""), nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for f.gw.Stats().Active == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if f.gw.Stats().Active != 1 {
		t.Fatal("the request never became active")
	}
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("the cancelled request succeeded")
	}
	for (f.gw.Stats().Active != 0 || f.gw.Readers() != 0) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := f.gw.Stats(); st.Active != 0 || f.gw.Readers() != 0 {
		t.Fatalf("after the client left: %d active, %d readers", st.Active, f.gw.Readers())
	}

	gw := New(Config{Swarms: f.leecher.Engine, SizeTimeout: 200 * time.Millisecond})
	srv := httptest.NewServer(gw)
	defer srv.Close()
	resp, _ := get(t, context.Background(), fmt.Sprintf("%s/%x", srv.URL, f.root), nil)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("content of unknown size: status %d, want 503", resp.StatusCode)
	}
}
