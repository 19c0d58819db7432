package lab

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nextshare/nextshare/internal/netlab"
	"github.com/nextshare/nextshare/scenarios"
)

const fullScenario = `# every field
name: full-test
description: Every field set.
duration: 2m
content:
  size: 1.5MiB
  chunk_size: 4096
discovery: dht
defaults:
  delay: 20ms
  jitter: 2ms
  loss: 1%
  reorder: 0.005
  up: 5Mbit
  down: 20mbit
  nat: none
groups:
  - name: seed
    role: seed
    count: 2
    link: {up: 1Gbit, nat: full-cone}
  - name: viewer
    role: get
    count: 12
    start: 5s
    every: 3s
    stay: 60s
    churn: {up: 20s, down: 10s}
    link:
      delay: 40ms
      down: unlimited
      loss: 0
  - name: late
    role: get
    start: 90s
    stay: forever
stop: duration
`

func TestParseScenarioFull(t *testing.T) {
	s, err := ParseScenario("full.yaml", []byte(fullScenario))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "full-test" || s.Description != "Every field set." || s.Duration != 2*time.Minute ||
		s.Content != (Content{Size: 1536 << 10, ChunkSize: 4096}) || s.Discovery != DiscoveryDHT || s.Stop != StopDuration {
		t.Fatalf("scenario: %+v", s)
	}
	if got := s.Content.Chunks(); got != 384 {
		t.Errorf("Chunks() = %d, want 384", got)
	}
	wantDefaults := Link{Delay: 20 * time.Millisecond, Jitter: 2 * time.Millisecond, Loss: 0.01, Reorder: 0.005,
		Up: 5e6, Down: 20e6, NAT: netlab.NATNone}
	if s.Defaults != wantDefaults {
		t.Errorf("defaults %+v, want %+v", s.Defaults, wantDefaults)
	}
	if len(s.Groups) != 3 {
		t.Fatalf("%d groups", len(s.Groups))
	}
	seed, viewer, late := s.Groups[0], s.Groups[1], s.Groups[2]
	if seed.Link.Up != 1e9 || seed.Link.NAT != netlab.NATFullCone || seed.Link.Delay != 20*time.Millisecond || seed.Stay != Forever {
		t.Errorf("seed group: %+v", seed)
	}
	if viewer.Line != 22 || viewer.Count != 12 || viewer.Start != 5*time.Second || viewer.Every != 3*time.Second ||
		viewer.Stay != time.Minute || *viewer.Churn != (Churn{Up: 20 * time.Second, Down: 10 * time.Second}) {
		t.Errorf("viewer group: %+v", viewer)
	}
	wantViewer := Link{Delay: 40 * time.Millisecond, Jitter: 2 * time.Millisecond, Loss: 0, Reorder: 0.005,
		Up: 5e6, Down: 0, NAT: netlab.NATNone}
	if viewer.Link != wantViewer {
		t.Errorf("viewer link %+v, want %+v", viewer.Link, wantViewer)
	}
	if late.Count != 1 || late.Stay != Forever || late.Churn != nil || late.Link != wantDefaults {
		t.Errorf("late group: %+v", late)
	}

	hosts := s.Hosts()
	if len(hosts) != 15 {
		t.Fatalf("%d hosts", len(hosts))
	}
	var names []string
	for i, h := range hosts {
		names = append(names, h.Name)
		if h.Index != i {
			t.Errorf("%s: Index %d, want %d", h.Name, h.Index, i)
		}
	}
	wantNames := "seed-1 seed-2 viewer-01 viewer-02 viewer-03 viewer-04 viewer-05 viewer-06 viewer-07 viewer-08 viewer-09 viewer-10 viewer-11 viewer-12 late-1"
	if strings.Join(names, " ") != wantNames {
		t.Errorf("names %v", names)
	}
	v7 := hosts[8]
	want := HostPlan{
		Name: "viewer-07", Group: "viewer", Role: RoleGet, Index: 8,
		Up:    netlab.Link{Delay: 40 * time.Millisecond, Jitter: 2 * time.Millisecond, Reorder: 0.005, Rate: 5e6},
		Down:  netlab.Link{Delay: 40 * time.Millisecond, Jitter: 2 * time.Millisecond, Reorder: 0.005, Rate: 0},
		NAT:   netlab.NATNone,
		Start: 5*time.Second + 6*3*time.Second, Stay: time.Minute,
		Churn: &Churn{Up: 20 * time.Second, Down: 10 * time.Second},
	}
	if !reflect.DeepEqual(v7, want) {
		t.Errorf("viewer-07:\n got %+v\nwant %+v", v7, want)
	}
	if hosts[2].Churn == hosts[3].Churn {
		t.Error("hosts share one Churn")
	}
	if hosts[0].Role != RoleSeed || hosts[0].Up.Rate != 1e9 || hosts[0].NAT != netlab.NATFullCone {
		t.Errorf("seed-1: %+v", hosts[0])
	}
}

func TestParseScenarioDefaults(t *testing.T) {
	s, err := ParseScenario("dir/minimal.yaml", []byte(`
duration: 10s
content: {size: 4096}
groups:
  - {name: s, role: seed}
  - {name: g, role: get}
`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "minimal" || s.Content.ChunkSize != 1024 || s.Discovery != DiscoveryTracker ||
		s.Stop != StopAllComplete || s.Defaults != (Link{NAT: netlab.NATNone}) {
		t.Errorf("%+v", s)
	}
	if g := s.Groups[1]; g.Count != 1 || g.Stay != Forever || g.Start != 0 || g.Every != 0 {
		t.Errorf("group: %+v", g)
	}
}

func TestParseScenarioUnits(t *testing.T) {
	for _, c := range []struct {
		field, value string
		get          func(*Scenario) any
		want         any
	}{
		{"size", "4096", func(s *Scenario) any { return s.Content.Size }, int64(4096)},
		{"size", "2KB", func(s *Scenario) any { return s.Content.Size }, int64(2000)},
		{"size", "3 KiB", func(s *Scenario) any { return s.Content.Size }, int64(3072)},
		{"size", "1GiB", func(s *Scenario) any { return s.Content.Size }, int64(1 << 30)},
		{"size", "0.5MB", func(s *Scenario) any { return s.Content.Size }, int64(500000)},
		{"up", "512Kbit", func(s *Scenario) any { return s.Defaults.Up }, int64(512000)},
		{"up", "1.5Mbit", func(s *Scenario) any { return s.Defaults.Up }, int64(1500000)},
		{"up", "2gbit", func(s *Scenario) any { return s.Defaults.Up }, int64(2e9)},
		{"up", "8Kbit", func(s *Scenario) any { return s.Defaults.Up }, int64(8000)},
		{"up", "0", func(s *Scenario) any { return s.Defaults.Up }, int64(0)},
		{"up", "unlimited", func(s *Scenario) any { return s.Defaults.Up }, int64(0)},
		{"loss", "2.5%", func(s *Scenario) any { return s.Defaults.Loss }, 0.025},
		{"loss", "0.1", func(s *Scenario) any { return s.Defaults.Loss }, 0.1},
		{"reorder", "100%", func(s *Scenario) any { return s.Defaults.Reorder }, 1.0},
		{"delay", "0", func(s *Scenario) any { return s.Defaults.Delay }, time.Duration(0)},
		{"delay", "1.5ms", func(s *Scenario) any { return s.Defaults.Delay }, 1500 * time.Microsecond},
	} {
		var doc string
		if c.field == "size" {
			doc = "duration: 1m\ncontent: {size: " + c.value + "}\ngroups: [{name: s, role: seed}, {name: g, role: get}]\n"
		} else {
			doc = "duration: 1m\ncontent: {size: 1KiB}\ndefaults: {" + c.field + ": " + c.value + "}\ngroups: [{name: s, role: seed}, {name: g, role: get}]\n"
		}
		s, err := ParseScenario("u.yaml", []byte(doc))
		if err != nil {
			t.Errorf("%s: %s: %v", c.field, c.value, err)
			continue
		}
		if got := c.get(s); got != c.want {
			t.Errorf("%s: %s = %v, want %v", c.field, c.value, got, c.want)
		}
	}
}

// goodGroups is a valid groups section for the bad cases that break
// something else; it starts on line 4 when placed after three lines.
const goodGroups = `groups:
  - name: seed
    role: seed
  - name: leech
    role: get
    count: 30
`

func TestParseScenarioErrors(t *testing.T) {
	for _, c := range []struct {
		name, doc string
		want      []string // each must appear in the error; the first is the file:line: path prefix
	}{
		{"unknown top field", "duration: 1m\ncontent: {size: 1MiB}\nspeed: 3\n" + goodGroups,
			[]string{"b.yaml:3: speed: unknown field (known: name, description, duration"}},
		{"unknown group field", "duration: 1m\ncontent: {size: 1MiB}\ngroups:\n  - name: seed\n    role: seed\n    cuont: 3\n  - {name: g, role: get}\n",
			[]string{"b.yaml:6: groups[0].cuont: unknown field"}},
		{"unknown link field", "duration: 1m\ncontent: {size: 1MiB}\ndefaults:\n  delay: 1ms\n  bandwidth: 5Mbit\n" + goodGroups,
			[]string{"b.yaml:5: defaults.bandwidth: unknown field (known: delay, jitter, loss, reorder, up, down, nat)"}},
		{"count out of range", "duration: 1m\ncontent: {size: 1MiB}\ngroups:\n  - name: seed\n    role: seed\n  - name: leech\n    role: get\n    count: 501\n",
			[]string{"b.yaml:8: groups[1].count: must be between 1 and 500"}},
		{"count zero", "duration: 1m\ncontent: {size: 1MiB}\ngroups:\n  - {name: seed, role: seed, count: 0}\n  - {name: g, role: get}\n",
			[]string{"b.yaml:4: groups[0].count: must be between 1 and 500"}},
		{"count huge", "duration: 1m\ncontent: {size: 1MiB}\ngroups:\n  - {name: seed, role: seed}\n  - {name: g, role: get, count: 99999999999999999999999}\n",
			[]string{"b.yaml:5: groups[1].count: \"99999999999999999999999\" is not a whole number"}},
		{"count wrong type", "duration: 1m\ncontent: {size: 1MiB}\ngroups:\n  - {name: seed, role: seed}\n  - {name: g, role: get, count: many}\n",
			[]string{"b.yaml:5: groups[1].count: \"many\" is not a whole number"}},
		{"count is a list", "duration: 1m\ncontent: {size: 1MiB}\ngroups:\n  - {name: seed, role: seed}\n  - {name: g, role: get, count: [1]}\n",
			[]string{"b.yaml:5: groups[1].count: must be a single value, got a list"}},
		{"too many hosts", "duration: 1m\ncontent: {size: 1MiB}\ngroups:\n  - {name: seed, role: seed}\n  - {name: a, role: get, count: 300}\n  - {name: b, role: get, count: 300}\n",
			[]string{"b.yaml:3: groups: 601 hosts in all; at most 500"}},
		{"bad duration unit", "duration: 5 minutes\ncontent: {size: 1MiB}\n" + goodGroups,
			[]string{"b.yaml:1: duration: \"5 minutes\" is not a duration"}},
		{"duration too long", "duration: 2h\ncontent: {size: 1MiB}\n" + goodGroups,
			[]string{"b.yaml:1: duration: must be between 0s and 1h0m0s"}},
		{"duration zero", "duration: 0s\ncontent: {size: 1MiB}\n" + goodGroups,
			[]string{"b.yaml:1: duration: must be more than 0s"}},
		{"missing duration", "content: {size: 1MiB}\n" + goodGroups,
			[]string{"b.yaml:1: duration: missing"}},
		{"missing content size", "duration: 1m\ncontent: {chunk_size: 1024}\n" + goodGroups,
			[]string{"b.yaml:2: content.size: missing"}},
		{"bad size unit", "duration: 1m\ncontent:\n  size: 16MiBs\n" + goodGroups,
			[]string{"b.yaml:3: content.size: \"16MiBs\" is not a size"}},
		{"size too big", "duration: 1m\ncontent:\n  size: 2GiB\n" + goodGroups,
			[]string{"b.yaml:3: content.size: must be between 1 B and 1073741824 B"}},
		{"chunk size not a power of two", "duration: 1m\ncontent:\n  size: 1MiB\n  chunk_size: 1000\n" + goodGroups,
			[]string{"b.yaml:4: content.chunk_size: 1000 is not a power of two"}},
		{"bad rate unit", "duration: 1m\ncontent: {size: 1MiB}\ndefaults:\n  up: 5MB/s\n" + goodGroups,
			[]string{"b.yaml:4: defaults.up: \"5MB/s\" is not a rate"}},
		{"rate without unit", "duration: 1m\ncontent: {size: 1MiB}\ndefaults:\n  down: 5000\n" + goodGroups,
			[]string{"b.yaml:4: defaults.down: \"5000\" is not a rate"}},
		{"rate too low", "duration: 1m\ncontent: {size: 1MiB}\ndefaults:\n  down: 10bit\n" + goodGroups,
			[]string{"b.yaml:4: defaults.down: must be 0 (unlimited) or between 8Kbit and 100Gbit"}},
		{"loss 100%", "duration: 1m\ncontent: {size: 1MiB}\ndefaults:\n  loss: 100%\n" + goodGroups,
			[]string{"b.yaml:4: defaults.loss: must be less than 100%"}},
		{"reorder over 1", "duration: 1m\ncontent: {size: 1MiB}\ndefaults:\n  reorder: 1.5\n" + goodGroups,
			[]string{"b.yaml:4: defaults.reorder: must be at most 100%"}},
		{"negative delay", "duration: 1m\ncontent: {size: 1MiB}\ndefaults:\n  delay: -5ms\n" + goodGroups,
			[]string{"b.yaml:4: defaults.delay: must be between 0s and 10s"}},
		{"bad nat", "duration: 1m\ncontent: {size: 1MiB}\ndefaults:\n  nat: cone\n" + goodGroups,
			[]string{"b.yaml:4: defaults.nat: \"cone\" is not one of none, port-restricted, full-cone, symmetric"}},
		{"bad group link", "duration: 1m\ncontent: {size: 1MiB}\ngroups:\n  - name: seed\n    role: seed\n    link:\n      up: fast\n  - {name: g, role: get}\n",
			[]string{"b.yaml:7: groups[0].link.up: \"fast\" is not a rate"}},
		{"bad discovery", "duration: 1m\ncontent: {size: 1MiB}\ndiscovery: tracker2\n" + goodGroups,
			[]string{"b.yaml:3: discovery: \"tracker2\" is not one of tracker, dht"}},
		{"bad stop", "duration: 1m\ncontent: {size: 1MiB}\nstop: never\n" + goodGroups,
			[]string{"b.yaml:3: stop: \"never\" is not one of all-complete, duration"}},
		{"duplicate group", "duration: 1m\ncontent: {size: 1MiB}\ngroups:\n  - {name: seed, role: seed}\n  - {name: g, role: get}\n  - name: g\n    role: get\n",
			[]string{"b.yaml:6: groups[2].name: \"g\" is already the name of groups[1]"}},
		{"bad group name", "duration: 1m\ncontent: {size: 1MiB}\ngroups:\n  - {name: Seed_1, role: seed}\n  - {name: g, role: get}\n",
			[]string{"b.yaml:4: groups[0].name: \"Seed_1\" must be 1 to 16 of a-z, 0-9 and -"}},
		{"missing group name", "duration: 1m\ncontent: {size: 1MiB}\ngroups:\n  - {name: seed, role: seed}\n  - role: get\n    count: 3\n",
			[]string{"b.yaml:5: groups[1].name: missing"}},
		{"missing role", "duration: 1m\ncontent: {size: 1MiB}\ngroups:\n  - {name: seed, role: seed}\n  - name: g\n",
			[]string{"b.yaml:5: groups[1].role: missing", "b.yaml:3: groups: no group has role get"}},
		{"bad role", "duration: 1m\ncontent: {size: 1MiB}\ngroups:\n  - {name: seed, role: seeder}\n  - {name: g, role: get}\n",
			[]string{"b.yaml:4: groups[0].role: \"seeder\" is not one of seed, get", "b.yaml:3: groups: no group has role seed"}},
		{"no seeder", "duration: 1m\ncontent: {size: 1MiB}\ngroups:\n  - {name: a, role: get}\n  - {name: b, role: get}\n",
			[]string{"b.yaml:3: groups: no group has role seed"}},
		{"no groups", "duration: 1m\ncontent: {size: 1MiB}\ngroups: []\n",
			[]string{"b.yaml:3: groups: must list at least one seed group and one get group"}},
		{"groups empty", "duration: 1m\ncontent: {size: 1MiB}\ngroups:\n",
			[]string{"b.yaml:3: groups: must be a list of groups, got nothing"}},
		{"groups a mapping", "duration: 1m\ncontent: {size: 1MiB}\ngroups:\n  seed: 1\n",
			[]string{"b.yaml:4: groups: must be a list of groups, got a mapping"}},
		{"missing groups", "duration: 1m\ncontent: {size: 1MiB}\n",
			[]string{"b.yaml:1: groups: missing"}},
		{"stay on seed", "duration: 1m\ncontent: {size: 1MiB}\ngroups:\n  - name: seed\n    role: seed\n    stay: 10s\n  - {name: g, role: get}\n",
			[]string{"b.yaml:6: groups[0].stay: only get groups have stay"}},
		{"bad stay", "duration: 1m\ncontent: {size: 1MiB}\ngroups:\n  - {name: seed, role: seed}\n  - {name: g, role: get, stay: always}\n",
			[]string{"b.yaml:5: groups[1].stay: \"always\" is not a duration"}},
		{"arrivals past the end", "duration: 1m\ncontent: {size: 1MiB}\ngroups:\n  - {name: seed, role: seed}\n  - name: g\n    role: get\n    count: 30\n    every: 3s\n",
			[]string{"b.yaml:8: groups[1].every: the last arrival, at 1m27s, is not before the end of the run (duration 1m0s)"}},
		{"start past the end", "duration: 1m\ncontent: {size: 1MiB}\ngroups:\n  - {name: seed, role: seed}\n  - name: g\n    role: get\n    start: 1m\n",
			[]string{"b.yaml:7: groups[1].start: the last arrival, at 1m0s"}},
		{"churn missing down", "duration: 1m\ncontent: {size: 1MiB}\ngroups:\n  - {name: seed, role: seed}\n  - name: g\n    role: get\n    churn: {up: 10s}\n",
			[]string{"b.yaml:7: groups[1].churn.down: missing"}},
		{"churn zero", "duration: 1m\ncontent: {size: 1MiB}\ngroups:\n  - {name: seed, role: seed}\n  - name: g\n    role: get\n    churn:\n      up: 0s\n      down: 1s\n",
			[]string{"b.yaml:8: groups[1].churn.up: must be more than 0s"}},
		{"field twice", "duration: 1m\nduration: 2m\ncontent: {size: 1MiB}\n" + goodGroups,
			[]string{"b.yaml:2: duration: given twice (first on line 1)"}},
		{"alias", "duration: &d 1m\ncontent: {size: 1MiB}\ndefaults: {delay: *d}\n" + goodGroups,
			[]string{"b.yaml:3: defaults.delay: YAML aliases are not supported"}},
		{"syntax error", "duration: 1m\ncontent: {size: 1MiB\n" + goodGroups,
			[]string{"b.yaml:"}},
		{"bad indentation", "duration: 1m\ncontent:\n  size: 1MiB\n chunk_size: 1024\n",
			[]string{"b.yaml:3: did not find expected key"}},
		{"not a mapping", "- 1\n- 2\n", []string{"b.yaml:1: must be a mapping of fields, got a list"}},
		{"empty", "", []string{"b.yaml: empty scenario"}},
		{"two documents", "duration: 1m\n---\nduration: 2m\n", []string{"b.yaml:2: more than one YAML document"}},
		{"several errors", "duration: 1x\ncontent: {size: 1MiB}\ndefaults: {up: 1, nat: no}\n" + goodGroups,
			[]string{"b.yaml:1: duration:", "\nb.yaml:3: defaults.up:", "\nb.yaml:3: defaults.nat:"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := ParseScenario("b.yaml", []byte(c.doc))
			if err == nil {
				t.Fatalf("parsed: %+v", s)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, c.want[0]) {
				t.Errorf("error\n  %s\ndoes not start with\n  %s", msg, c.want[0])
			}
			for _, w := range c.want[1:] {
				if !strings.Contains(msg, w) {
					t.Errorf("error\n  %s\ndoes not contain\n  %s", msg, w)
				}
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Errorf("%T is not a *FieldError", err)
			}
			if strings.HasPrefix(msg, "yaml:") || strings.Contains(msg, "yaml: line") {
				t.Errorf("error %q leaks the parser's prefix", msg)
			}
		})
	}
}

func TestParseScenarioTooLarge(t *testing.T) {
	doc := "description: " + strings.Repeat("x", MaxScenarioFile) + "\n"
	if _, err := ParseScenario("big.yaml", []byte(doc)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("error %v", err)
	}
}

func TestShippedAndLoad(t *testing.T) {
	names := Shipped()
	want := []string{"arrivals", "churn", "flashcrowd", "flashcrowd-slow", "nat-mix", "small"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("Shipped() = %v, want %v", names, want)
	}
	for _, n := range names {
		for _, arg := range []string{n, n + ".yaml"} {
			s, err := LoadScenario(arg)
			if err != nil {
				t.Fatalf("LoadScenario(%q): %v", arg, err)
			}
			if s.Name != n || s.File != n+".yaml" {
				t.Errorf("LoadScenario(%q): name %q, file %q", arg, s.Name, s.File)
			}
		}
	}

	// A path wins over a shipped name.
	dir := t.TempDir()
	path := filepath.Join(dir, "small")
	if err := os.WriteFile(path, []byte("duration: 5s\ncontent: {size: 1KiB}\ngroups: [{name: s, role: seed}, {name: g, role: get}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if s, err := LoadScenario(path); err != nil || s.Duration != 5*time.Second || s.File != path {
		t.Errorf("LoadScenario(%q) = %+v, %v", path, s, err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("duration: 5s\nbogus: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadScenario(bad); err == nil || !strings.HasPrefix(err.Error(), bad+":2: bogus: unknown field") {
		t.Errorf("LoadScenario(bad) error %v", err)
	}

	_, err := LoadScenario("flashmob")
	if err == nil || !strings.Contains(err.Error(), `unknown scenario "flashmob"`) ||
		!strings.Contains(err.Error(), "arrivals, churn, flashcrowd, flashcrowd-slow, nat-mix, small") {
		t.Errorf("unknown scenario error: %v", err)
	}
}

func FuzzParseScenario(f *testing.F) {
	for _, n := range Shipped() {
		b, err := fs.ReadFile(scenarios.FS, n+".yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(fullScenario))
	f.Add([]byte("duration: 1m\ncontent: {size: 1MiB}\ngroups:\n  - {name: seed, role: seed, count: 500}\n  - {name: g, role: get, count: 500}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseScenario("f.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		hosts := s.Hosts()
		if len(hosts) == 0 || len(hosts) > MaxHosts {
			t.Fatalf("%d hosts", len(hosts))
		}
		seeds, gets := 0, 0
		seen := make(map[string]bool)
		for _, h := range hosts {
			if seen[h.Name] {
				t.Fatalf("host name %q twice", h.Name)
			}
			seen[h.Name] = true
			switch h.Role {
			case RoleSeed:
				seeds++
			case RoleGet:
				gets++
			default:
				t.Fatalf("host %s: role %q", h.Name, h.Role)
			}
			if h.Start < 0 || h.Start >= s.Duration || h.Up.Rate < 0 || h.Down.Rate < 0 ||
				h.Up.Loss < 0 || h.Up.Loss >= 1 || h.Up.Reorder < 0 || h.Up.Reorder > 1 {
				t.Fatalf("host %+v", h)
			}
			if h.Churn != nil && (h.Churn.Up <= 0 || h.Churn.Down <= 0) {
				t.Fatalf("host %s: churn %+v", h.Name, *h.Churn)
			}
		}
		if seeds == 0 || gets == 0 {
			t.Fatalf("%d seeds, %d gets", seeds, gets)
		}
		if s.Duration <= 0 || s.Duration > MaxDuration || s.Content.Size < 1 || s.Content.Size > MaxContentSize {
			t.Fatalf("scenario %+v", s)
		}
		s.FluidBound()
	})
}
