package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type apiSwarm struct {
	Root     string `json:"root"`
	URI      string `json:"uri"`
	Path     string `json:"path"`
	Size     int64  `json:"size"`
	Complete bool   `json:"complete"`
}

func apiDo(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestDaemonAPI: a daemon seeds a file added over the API, a second daemon
// downloads it when given the link (and the first's address in it), streams
// it, lists it and removes it.
func TestDaemonAPI(t *testing.T) {
	src, data := randomFile(t, 700_000)
	startDaemon := func() (api, udp string) {
		sc := start(t, "daemon", "--no-dht", "--http", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--dir", t.TempDir())
		if !sc.Scan() {
			t.Fatal("daemon printed nothing")
		}
		line := sc.Text()
		var base, ppspp string
		if _, err := fmt.Sscanf(line, "daemon: API %s streams", &base); err != nil {
			t.Fatalf("daemon said %q", line)
		}
		base = strings.TrimSuffix(base, "/api/swarms,")
		_, after, _ := strings.Cut(line, "PPSPP on ")
		ppspp, _, _ = strings.Cut(after, ";")
		go func() {
			for sc.Scan() {
			}
		}()
		return base, ppspp
	}
	a, aUDP := startDaemon()
	b, _ := startDaemon()

	code, body := apiDo(t, "POST", a+"/api/swarms", fmt.Sprintf(`{"seed": %q}`, src))
	if code != 201 {
		t.Fatalf("seed: %d %s", code, body)
	}
	var seeded apiSwarm
	json.Unmarshal(body, &seeded)
	if !seeded.Complete || seeded.Size != int64(len(data)) {
		t.Fatalf("seeded swarm %+v", seeded)
	}

	link := seeded.URI + "&peer=" + aUDP
	out := filepath.Join(t.TempDir(), "copy")
	code, body = apiDo(t, "POST", b+"/api/swarms", fmt.Sprintf(`{"uri": %q, "path": %q}`, link, out))
	if code != 201 {
		t.Fatalf("download: %d %s", code, body)
	}
	resp, err := http.Get(b + "/" + seeded.Root)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, data) {
		t.Fatalf("stream from the second daemon: %d bytes, want the %d source bytes", len(got), len(data))
	}

	var list []apiSwarm
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, body = apiDo(t, "GET", b+"/api/swarms", "")
		json.Unmarshal(body, &list)
		if len(list) == 1 && list[0].Complete || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(list) != 1 || !list[0].Complete || list[0].Path != out {
		t.Fatalf("list: %s", body)
	}
	for req, want := range map[[3]string]int{
		{"POST", "/api/swarms", `{"uri": "ppsp://nothex"}`}:    400,
		{"POST", "/api/swarms", `{"bogus": 1}`}:                400,
		{"POST", "/api/swarms", `{}`}:                          400,
		{"GET", "/api/swarms/" + strings.Repeat("ab", 20), ""}: 404,
		{"GET", "/api/swarms/zz", ""}:                          400,
		{"PUT", "/api/swarms", ""}:                             405,
		{"GET", "/api/nothing", ""}:                            404,
	} {
		if code, body := apiDo(t, req[0], b+req[1], req[2]); code != want {
			t.Errorf("%s %s %s: %d %s, want %d", req[0], req[1], req[2], code, body, want)
		}
	}
	if code, body := apiDo(t, "DELETE", b+"/api/swarms/"+seeded.Root, ""); code != 204 {
		t.Fatalf("delete: %d %s", code, body)
	}
	_, body = apiDo(t, "GET", b+"/api/swarms", "")
	if strings.TrimSpace(string(body)) != "[]" {
		t.Errorf("after delete the list is %s", body)
	}
	if resp, err := http.Get(b + "/" + seeded.Root); err == nil {
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("stream after delete: %d, want 404", resp.StatusCode)
		}
	}
}
