package scenarios_test

import (
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/nextshare/nextshare/internal/lab"
	"github.com/nextshare/nextshare/internal/netlab"
	"github.com/nextshare/nextshare/scenarios"
)

// TestShipped checks that every shipped file parses, documents itself in
// a header comment and is named after its file.
func TestShipped(t *testing.T) {
	files, err := fs.Glob(scenarios.FS, "*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, f := range files {
		data, err := fs.ReadFile(scenarios.FS, f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := lab.ParseScenario(f, data)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if s.Name+".yaml" != f {
			t.Errorf("%s: name %q", f, s.Name)
		}
		if !strings.HasPrefix(string(data), "# "+s.Name+": ") || !strings.Contains(string(data), "internal/lab's package comment") {
			t.Errorf("%s: no header comment naming the scenario and pointing to the format", f)
		}
		if s.Description == "" {
			t.Errorf("%s: no description", f)
		}
		bound, term := s.FluidBound()
		t.Logf("%-10s %3d hosts, %5.1f MiB, fluid bound %6.2f s (%s)", s.Name, len(s.Hosts()),
			float64(s.Content.Size)/(1<<20), bound.Seconds(), term)
		if bound <= 0 || 3*bound > s.Duration {
			t.Errorf("%s: fluid bound %v leaves too little of duration %v", f, bound, s.Duration)
		}
	}
}

// count returns the hosts of s by group.
func count(s *lab.Scenario) map[string]int {
	m := make(map[string]int)
	for _, h := range s.Hosts() {
		m[h.Group]++
	}
	return m
}

func TestFlashcrowd(t *testing.T) {
	s := load(t, "flashcrowd")
	if s.Content.Size != 16<<20 || s.Duration != 300*time.Second || s.Stop != lab.StopAllComplete {
		t.Errorf("%+v", s)
	}
	hosts := s.Hosts()
	if len(hosts) != 31 || hosts[0].Role != lab.RoleSeed || hosts[0].Up.Rate != 20e6 {
		t.Fatalf("hosts: %d, first %+v", len(hosts), hosts[0])
	}
	for _, h := range hosts[1:] {
		if h.Role != lab.RoleGet || h.Up.Rate != 5e6 || h.Down.Rate != 20e6 || h.Up.Delay != 20*time.Millisecond ||
			h.Down.Delay != 20*time.Millisecond || h.Start != 0 || h.NAT != netlab.NATNone {
			t.Errorf("%+v", h)
		}
	}
	// 30·16 MiB·8 / (20 + 30·5) Mbit/s = 23.685 s, the swarm's uplink binding.
	if bound, term := s.FluidBound(); bound.Round(time.Millisecond) != 23685*time.Millisecond || term != lab.TermSwarm {
		t.Errorf("fluid bound %v (%s)", bound, term)
	}
}

func TestFlashcrowdSlow(t *testing.T) {
	s := load(t, "flashcrowd-slow")
	hosts := s.Hosts()
	if len(hosts) != 31 || s.Content.Size != 4<<20 || hosts[0].Up.Rate != 4e6 || hosts[1].Up.Rate != 1e6 || hosts[1].Down.Rate != 4e6 {
		t.Fatalf("%d hosts, %d bytes, first %+v, second %+v", len(hosts), s.Content.Size, hosts[0], hosts[1])
	}
	// 30·4 MiB·8 / (4 + 30·1) Mbit/s = 29.607 s.
	if bound, term := s.FluidBound(); bound.Round(time.Millisecond) != 29607*time.Millisecond || term != lab.TermSwarm {
		t.Errorf("fluid bound %v (%s)", bound, term)
	}
}

func TestArrivals(t *testing.T) {
	s := load(t, "arrivals")
	if c := count(s); c["seed"] != 1 || c["viewer"] != 20 {
		t.Errorf("groups %v", c)
	}
	hosts := s.Hosts()
	for i, h := range hosts[1:] {
		if h.Start != time.Duration(i)*3*time.Second || h.Stay != time.Minute {
			t.Errorf("%s: start %v, stay %v", h.Name, h.Start, h.Stay)
		}
	}
	if seed := hosts[0]; seed.Up.Rate == 0 || seed.Up.Rate >= hosts[1].Up.Rate {
		t.Errorf("the seeder's uplink (%d bit/s) is not capped below a viewer's", seed.Up.Rate)
	}
}

func TestChurn(t *testing.T) {
	s := load(t, "churn")
	if c := count(s); c["seed"] != 1 || c["leech"] != 12 {
		t.Errorf("groups %v", c)
	}
	for _, h := range s.Hosts() {
		if (h.Role == lab.RoleGet) != (h.Churn != nil) {
			t.Errorf("%s: churn %v", h.Name, h.Churn)
		}
	}
}

func TestNATMix(t *testing.T) {
	s := load(t, "nat-mix")
	kinds := make(map[string]int)
	for _, h := range s.Hosts() {
		if h.Role == lab.RoleSeed && h.NAT != netlab.NATNone {
			t.Errorf("seeder %s behind %s", h.Name, h.NAT)
		}
		if h.Role == lab.RoleGet {
			kinds[h.NAT]++
		}
	}
	for _, k := range []string{netlab.NATNone, netlab.NATPortRestricted, netlab.NATFullCone, netlab.NATSymmetric} {
		if kinds[k] == 0 {
			t.Errorf("no leecher behind NAT kind %q", k)
		}
	}
}

func TestSmall(t *testing.T) {
	s := load(t, "small")
	if c := count(s); c["seed"] != 1 || c["leech"] != 4 || s.Content.Size != 2<<20 {
		t.Errorf("groups %v, size %d", c, s.Content.Size)
	}
	// CI runs it: the bound must be seconds, and the run bounded well
	// under the CI's patience.
	if bound, _ := s.FluidBound(); bound > 5*time.Second || s.Duration > time.Minute {
		t.Errorf("bound %v, duration %v", bound, s.Duration)
	}
}

func load(t *testing.T, name string) *lab.Scenario {
	t.Helper()
	s, err := lab.LoadScenario(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
