package lab

import (
	"testing"
	"time"
)

func TestFluidBound(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		name       string
		f, us      int64
		downs, ups []int64
		want       time.Duration
		term       string
	}{
		// 16 MiB = 134217728 bits; 30·134217728 / (20e6 + 30·5e6) = 23.6854814 s.
		{"flashcrowd", 16 * mib, 20e6, rep(30, 20e6), rep(30, 5e6), 23685481412 * time.Nanosecond, TermSwarm},
		// 8e6 bits: F/u_s = 8 s beats F/d_min = 4 s and 2·8e6/(1e6+2·10e6) = 0.76 s.
		{"slow seeder", 1e6, 1e6, []int64{2e6, 4e6}, []int64{10e6, 10e6}, 8 * time.Second, TermSource},
		// F/d_min = 8e6/1e6 = 8 s (the 1 Mbit/s viewer) beats 0.8 s and 0.38 s.
		{"slow viewer", 1e6, 10e6, []int64{1e6, 40e6}, []int64{10e6, 10e6}, 8 * time.Second, TermDownload},
		// An unlimited seeder drops F/u_s and the swarm term.
		{"unlimited seeder", 1e6, 0, []int64{4e6, 8e6}, []int64{1e6, 1e6}, 2 * time.Second, TermDownload},
		// Unlimited downloads leave F/u_s = 1 s and 3·8e6/(8e6+3·4e6) = 1.2 s.
		{"unlimited downloads", 1e6, 8e6, []int64{0, 0, 0}, []int64{4e6, 4e6, 4e6}, 1200 * time.Millisecond, TermSwarm},
		// One unlimited upload drops the swarm term: F/u_s = 8e6/2e6 = 4 s.
		{"unlimited upload", 1e6, 2e6, []int64{0, 0}, []int64{0, 1e6}, 4 * time.Second, TermSource},
		{"all unlimited", 1e6, 0, []int64{0}, []int64{0}, 0, ""},
		{"no leechers", 1e6, 1e6, nil, nil, 0, ""},
		{"no content", 0, 1e6, []int64{1e6}, []int64{1e6}, 0, ""},
	} {
		got, term := FluidBound(c.f, c.us, c.downs, c.ups)
		if got != c.want || term != c.term {
			t.Errorf("%s: %v (%s), want %v (%s)", c.name, got, term, c.want, c.term)
		}
	}
}

func TestScenarioFluidBound(t *testing.T) {
	s, err := ParseScenario("fb.yaml", []byte(`
duration: 1m
content: {size: 1MB}
defaults: {up: 1Mbit, down: 10Mbit}
groups:
  - {name: s, role: seed, count: 2, link: {up: 2Mbit}}
  - {name: g, role: get, count: 4}
`))
	if err != nil {
		t.Fatal(err)
	}
	// u_s = 4 Mbit/s: F/u_s = 2 s; F/d_min = 0.8 s; 4·8e6/(4e6+4e6) = 4 s.
	if got, term := s.FluidBound(); got != 4*time.Second || term != TermSwarm {
		t.Errorf("%v (%s)", got, term)
	}
	s.Groups[0].Link.Up = 0 // one unlimited seeder group: u_s unlimited
	if got, term := s.FluidBound(); got != 800*time.Millisecond || term != TermDownload {
		t.Errorf("unlimited seeders: %v (%s)", got, term)
	}
}

func rep(n int, v int64) []int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = v
	}
	return s
}
