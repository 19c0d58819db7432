package lab

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	_ "image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// synthetic makes the results of a plausible run: one seeder and gets
// arriving every 0.5 s, each sampled every 100 ms, whose progress follows
// a logistic curve and whose share of bytes from the seeder falls as the
// swarm grows.
func synthetic(gets, samples int) *Results {
	const size = 4 << 20
	const chunks = size / 1024
	start := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	r := &Results{Scenario: "synthetic", Started: start, ContentSize: size, Chunks: chunks,
		FluidBound: 3 * time.Second, FluidTerm: TermSwarm}
	seed := HostResult{Name: "seed-1", Group: "seed", Role: "seed", Addr: "10.0.0.2", Started: start,
		Identical: true, BytesFrom: map[string]uint64{}, BytesTo: map[string]uint64{}}
	step := 100 * time.Millisecond
	for i := range gets {
		name := fmt.Sprintf("leech-%02d", i+1)
		h := HostResult{Name: name, Group: "leech", Role: "get", Addr: fmt.Sprintf("10.0.0.%d", i+3),
			Identical: true, BytesFrom: map[string]uint64{}, BytesTo: map[string]uint64{}}
		t0 := time.Duration(i) * 500 * time.Millisecond
		h.Started = start.Add(t0)
		mid := 3 + 0.2*float64(i) // seconds after its start
		srcShare := 1 / (1 + 0.5*float64(i))
		var have uint64
		for k := range samples {
			t := t0 + time.Duration(k)*step
			x := (t - t0).Seconds()
			frac := 1.02/(1+math.Exp(-2*(x-mid))) - 0.01
			have = uint64(math.Round(chunks * min(1, max(0, frac))))
			in := have * 1024 * 102 / 100 // a few duplicates
			src := uint64(float64(in) * srcShare)
			h.Samples = append(h.Samples, Sample{T: t, Have: have, BytesIn: in, BytesOut: in / 2, FromSource: src})
			h.Messages = append(h.Messages, MessageSample{T: t,
				In:  map[string]uint64{"DATA": have, "HAVE": have / 4, "INTEGRITY": have / 8, "HANDSHAKE": 2, "CHOKE": uint64(k / 40)},
				Out: map[string]uint64{"ACK": have, "REQUEST": have / 8, "HAVE": have / 4, "HANDSHAKE": 2, "PEX_REQ": uint64(k / 30)},
			})
			if h.Startup == 0 && have*1024 >= 1<<20 {
				h.Startup = t - t0
			}
			if have == chunks && h.Completed.IsZero() {
				h.Completed = start.Add(t)
			}
		}
		last := h.Samples[len(h.Samples)-1]
		h.BytesFrom["seed-1"] = last.FromSource
		seed.BytesTo[name] = last.FromSource
		if i > 0 {
			h.BytesFrom["leech-01"] = last.BytesIn - last.FromSource
		}
		r.Hosts = append(r.Hosts, h)
	}
	for k := range samples {
		t := time.Duration(k) * step
		seed.Samples = append(seed.Samples, Sample{T: t, Have: chunks})
		seed.Messages = append(seed.Messages, MessageSample{T: t,
			In:  map[string]uint64{"ACK": uint64(k * 40), "REQUEST": uint64(k * 5)},
			Out: map[string]uint64{"DATA": uint64(k * 40), "INTEGRITY": uint64(k * 5)}})
	}
	r.Hosts = append([]HostResult{seed}, r.Hosts...)
	r.Duration = time.Duration(samples)*step + time.Duration(gets)*500*time.Millisecond
	return r
}

func TestWriteReport(t *testing.T) {
	for _, c := range []struct {
		name           string
		gets, samples  int
		wantCompletion bool
	}{
		{"small", 4, 100, true},
		{"crowd", 30, 120, true},
		{"incomplete", 3, 20, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := synthetic(c.gets, c.samples)
			dir := t.TempDir()
			if err := WriteReport(dir, r); err != nil {
				t.Fatal(err)
			}
			if (r.Completion > 0) != c.wantCompletion {
				t.Errorf("Completion %v", r.Completion)
			}
			imgs := checkIndex(t, filepath.Join(dir, "index.html"))
			want := []string{"progress.png", "speed.png", "acceleration.png", "source-share.png", "startup-cdf.png", "messages.png"}
			if !c.wantCompletion {
				want = slices.DeleteFunc(want, func(s string) bool { return s == "startup-cdf.png" }) // nobody reached 1 MiB
			}
			if !reflect.DeepEqual(imgs, want) {
				t.Errorf("index.html shows %v, want %v", imgs, want)
			}
			for _, name := range imgs {
				checkPNG(t, filepath.Join(dir, name))
			}
			got, err := ReadResults(filepath.Join(dir, "results.json"))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, r) {
				t.Errorf("results.json does not round-trip:\n got %+v\nwant %+v", got.Hosts[0], r.Hosts[0])
			}
		})
	}
}

// checkIndex parses an index.html and returns the images it shows, in
// order.
func checkIndex(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{"http://", "https://", "<script", "//cdn"} {
		if bytes.Contains(b, []byte(ext)) {
			t.Errorf("index.html contains %q: it must be self-contained", ext)
		}
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict, d.AutoClose, d.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
	var imgs []string
	tables := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("index.html: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "img":
				for _, a := range se.Attr {
					if a.Name.Local == "src" {
						imgs = append(imgs, a.Value)
					}
				}
			case "table":
				tables++
			}
		}
	}
	if tables != 2 {
		t.Errorf("index.html has %d tables, want 2 (summary, hosts)", tables)
	}
	for _, s := range []string{"fluid-model lower bound", "completion / bound", "startup delay p50 / p95", "seed-1"} {
		if !bytes.Contains(b, []byte(s)) {
			t.Errorf("index.html lacks %q", s)
		}
	}
	return imgs
}

func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, format, err := image.DecodeConfig(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if format != "png" || cfg.Width < 600 || cfg.Height < 300 {
		t.Errorf("%s: %s %dx%d", path, format, cfg.Width, cfg.Height)
	}
}

func TestWriteReportEmpty(t *testing.T) {
	// A run cut short before any host reported: the page and the JSON are
	// still written, without figures.
	dir := t.TempDir()
	r := &Results{Scenario: "empty", Errors: []string{"building the network: no permission"},
		Hosts: []HostResult{{Name: "seed-1", Role: "seed"}, {Name: "leech-01", Role: "get"}}}
	if err := WriteReport(dir, r); err != nil {
		t.Fatal(err)
	}
	if imgs := checkIndex(t, filepath.Join(dir, "index.html")); len(imgs) != 0 {
		t.Errorf("images %v", imgs)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	if !strings.Contains(string(b), "building the network: no permission") || !strings.Contains(string(b), "not all gets completed (0 of 1)") {
		t.Errorf("index.html lacks the error or the completion state")
	}
}

func TestSummarize(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := &Results{
		FluidBound: 2 * time.Second,
		Hosts: []HostResult{
			{Name: "s", Role: "seed", Identical: true},
			{Name: "a", Role: "get", Identical: true, Started: t0.Add(time.Second), Completed: t0.Add(5 * time.Second),
				Startup: 300 * time.Millisecond, BytesFrom: map[string]uint64{"s": 300, "b": 100}},
			{Name: "b", Role: "get", Identical: true, Started: t0.Add(2 * time.Second), Completed: t0.Add(6 * time.Second),
				Startup: 100 * time.Millisecond, BytesFrom: map[string]uint64{"s": 100, "a": 500}},
			{Name: "c", Role: "get", Identical: true, Started: t0.Add(3 * time.Second), Completed: t0.Add(4 * time.Second),
				Startup: 200 * time.Millisecond},
		},
	}
	r.Summarize()
	if r.Completion != 5*time.Second || r.BoundRatio != 2.5 || r.SourceShare != 0.4 || !r.AllIdentical ||
		r.StartupP50 != 200*time.Millisecond || r.StartupP95 != 300*time.Millisecond {
		t.Errorf("%+v", r)
	}
	want := "completion 5.00 s, fluid bound 2.00 s (), ratio 2.50; from seeders 40.0%; startup p50 0.20 s, p95 0.30 s; every copy identical"
	if got := r.Summary(); got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	r.Hosts[2].Identical = false
	r.Hosts[3].Completed = time.Time{}
	r.Summarize()
	if r.Completion != 0 || r.BoundRatio != 0 || r.AllIdentical {
		t.Errorf("incomplete: %+v", r)
	}
	if got := r.Summary(); !strings.HasPrefix(got, "2 of 3 gets completed, fluid bound 2.00 s") || !strings.HasSuffix(got, "NOT every copy identical") {
		t.Errorf("Summary() = %q", got)
	}
	// Without per-source counts the samples' FromSource over the verified
	// chunks gives the share.
	for i := range r.Hosts {
		r.Hosts[i].BytesFrom = nil
	}
	r.ContentSize, r.Chunks = 4000, 40
	r.Hosts[1].Samples = []Sample{{Have: 10, BytesIn: 5000, FromSource: 100}}
	r.Hosts[2].Samples = []Sample{{Have: 5, FromSource: 50}, {Have: 10, BytesIn: 5000, FromSource: 200}}
	r.Summarize()
	if r.SourceShare != 0.15 {
		t.Errorf("SourceShare from samples %v, want 0.15", r.SourceShare)
	}
}

func TestRate(t *testing.T) {
	s := xy{t: []float64{0, 0.5, 1, 1.5, 2, 4}, v: []float64{0, 1, 2, 3, 4, 4}}
	got := s.rate(1)
	want := xy{t: []float64{0.5, 1, 1.5, 2, 4}, v: []float64{2, 2, 2, 2, 0}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rate = %+v, want %+v", got, want)
	}
}
