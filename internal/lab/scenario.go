package lab

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/nextshare/nextshare/internal/netlab"
	"github.com/nextshare/nextshare/scenarios"
)

// Limits of a scenario. MaxHosts bounds the memory Hosts uses, whatever the
// file says.
const (
	MaxHosts        = 500
	MaxDuration     = time.Hour
	MaxContentSize  = 1 << 30
	MaxScenarioFile = 1 << 20 // bytes
	maxDelay        = 10 * time.Second
	maxRate         = 100e9                 // bits/s
	maxGroupName    = netlab.MaxNameLen - 4 // room for "-" and a 3-digit index
	maxErrors       = 20                    // errors reported for one file
)

// Forever is the Stay of hosts that stay until the run ends.
const Forever time.Duration = -1

// Role says what a host runs.
type Role string

// Roles.
const (
	RoleSeed Role = "seed" // nextshare seed: has the content from the start
	RoleGet  Role = "get"  // nextshare get: downloads it
)

// natKinds maps the nat values of a scenario file to netlab's NAT kinds.
var natKinds = map[string]string{
	"none":                   netlab.NATNone,
	netlab.NATPortRestricted: netlab.NATPortRestricted,
	netlab.NATFullCone:       netlab.NATFullCone,
	netlab.NATSymmetric:      netlab.NATSymmetric,
}

// Discovery says how a get finds peers.
type Discovery string

// Discovery modes.
const (
	DiscoveryTracker Discovery = "tracker" // each get is given the seeders' addresses
	DiscoveryDHT     Discovery = "dht"     // a private DHT inside the lab
)

// Stop says when a run ends.
type Stop string

// Stop rules.
const (
	StopAllComplete Stop = "all-complete" // once every get has completed, or at Duration
	StopDuration    Stop = "duration"     // at Duration
)

// Scenario is a parsed, validated scenario file.
type Scenario struct {
	File        string // as given to ParseScenario, for messages
	Name        string
	Description string
	Duration    time.Duration // hard bound on the whole run
	Content     Content
	Discovery   Discovery
	Defaults    Link
	Groups      []Group
	Stop        Stop
}

// Content is the content the seeders serve.
type Content struct {
	Size      int64 // bytes, random, made for each run
	ChunkSize int   // bytes
}

// Chunks returns the number of chunks of the content.
func (c Content) Chunks() uint64 {
	return (uint64(c.Size) + uint64(c.ChunkSize) - 1) / uint64(c.ChunkSize)
}

// Link is a link section of a scenario: the same delay, jitter, loss and
// reordering in both directions, and a rate for each.
type Link struct {
	Delay, Jitter time.Duration // one-way, each direction
	Loss, Reorder float64       // fractions in [0, 1), each direction
	Up, Down      int64         // bits/s; 0 is unlimited
	NAT           string        // a netlab NAT kind; netlab.NATNone is a public address
}

// Directions splits l into the host's uplink (host to router) and
// downlink (router to host).
func (l Link) Directions() (up, down netlab.Link) {
	d := netlab.Link{Delay: l.Delay, Jitter: l.Jitter, Loss: l.Loss, Reorder: l.Reorder}
	up, down = d, d
	up.Rate, down.Rate = l.Up, l.Down
	return up, down
}

// Churn makes a host alternate between Up online and Down offline, starting
// online at its arrival.
type Churn struct {
	Up, Down time.Duration
}

// Group is a group of identical hosts.
type Group struct {
	Name  string
	Role  Role
	Count int
	Start time.Duration // first arrival after the run starts
	Every time.Duration // between arrivals
	Stay  time.Duration // after completing, before leaving; Forever for seeds
	Churn *Churn        // nil: always online
	Link  Link          // the defaults with the group's overrides applied
	Line  int           // where the group starts in the file
}

// HostPlan is what a scenario says about one emulated host: one network
// namespace, one nextshare process.
type HostPlan struct {
	Name  string // group name, "-", 1-based index padded to the group's count
	Group string
	Role  Role
	Index int           // position in Scenario.Hosts, from 0
	Up    netlab.Link   // host to router
	Down  netlab.Link   // router to host
	NAT   string        // a netlab NAT kind
	Start time.Duration // arrival after the run starts
	Stay  time.Duration // after completing, before leaving; Forever: until the end
	Churn *Churn
}

// Hosts expands the groups into hosts, group by group, in arrival order
// within each group.
func (s *Scenario) Hosts() []HostPlan {
	n := 0
	for _, g := range s.Groups {
		n += g.Count
	}
	hosts := make([]HostPlan, 0, n)
	for _, g := range s.Groups {
		width := len(strconv.Itoa(g.Count))
		up, down := g.Link.Directions()
		for i := range g.Count {
			h := HostPlan{
				Name:  fmt.Sprintf("%s-%0*d", g.Name, width, i+1),
				Group: g.Name,
				Role:  g.Role,
				Index: len(hosts),
				Up:    up,
				Down:  down,
				NAT:   g.Link.NAT,
				Start: g.Start + time.Duration(i)*g.Every,
				Stay:  g.Stay,
			}
			if g.Churn != nil {
				c := *g.Churn
				h.Churn = &c
			}
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// FluidBound returns the fluid-model lower bound on the completion time of
// the scenario's gets as a flash crowd, and which term binds (see
// FluidBound). The seeders' upload rates add up; one unlimited seeder makes
// u_s unlimited.
func (s *Scenario) FluidBound() (time.Duration, string) {
	var us int64
	unlimited := false
	var downs, ups []int64
	for _, h := range s.Hosts() {
		switch h.Role {
		case RoleSeed:
			if h.Up.Rate == 0 {
				unlimited = true
			}
			us += h.Up.Rate
		case RoleGet:
			downs = append(downs, h.Down.Rate)
			ups = append(ups, h.Up.Rate)
		}
	}
	if unlimited {
		us = 0
	}
	return FluidBound(s.Content.Size, us, downs, ups)
}

// Shipped returns the names of the scenarios that ship with nextshare,
// sorted.
func Shipped() []string {
	entries, _ := fs.ReadDir(scenarios.FS, ".")
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// LoadScenario loads a scenario from the file nameOrPath if it exists,
// otherwise the shipped scenario of that name.
func LoadScenario(nameOrPath string) (*Scenario, error) {
	if fi, err := os.Stat(nameOrPath); err == nil && !fi.IsDir() {
		data, err := os.ReadFile(nameOrPath)
		if err != nil {
			return nil, err
		}
		return ParseScenario(nameOrPath, data)
	}
	name := strings.TrimSuffix(nameOrPath, ".yaml")
	if !slices.Contains(Shipped(), name) {
		return nil, fmt.Errorf("unknown scenario %q: no such file, and no shipped scenario of that name (shipped: %s)",
			nameOrPath, strings.Join(Shipped(), ", "))
	}
	data, err := fs.ReadFile(scenarios.FS, name+".yaml")
	if err != nil {
		return nil, err
	}
	return ParseScenario(name+".yaml", data)
}

// FieldError is an error in a scenario file.
type FieldError struct {
	File  string
	Line  int    // 1-based; 0 if unknown
	Field string // path such as groups[1].link.up; empty for the whole file
	Msg   string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ParseScenario parses and validates a scenario file. name is the file's
// name, used in error messages and as the default scenario name. The error
// is a *FieldError, or several joined with errors.Join, one line each.
func ParseScenario(name string, data []byte) (*Scenario, error) {
	p := &parser{file: name}
	if len(data) > MaxScenarioFile {
		p.errorf(nil, "", "file is larger than %d bytes", MaxScenarioFile)
		return nil, p.err()
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			p.errorf(nil, "", "empty scenario")
		} else {
			p.syntax(err)
		}
		return nil, p.err()
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		if err != nil {
			p.syntax(err)
		} else {
			p.errorf(&extra, "", "more than one YAML document")
		}
		return nil, p.err()
	}
	s := p.scenario(doc.Content[0])
	if err := p.err(); err != nil {
		return nil, err
	}
	return s, nil
}

type parser struct {
	file string
	errs []error
}

func (p *parser) errorf(n *yaml.Node, field, format string, args ...any) {
	if len(p.errs) >= maxErrors {
		return
	}
	e := &FieldError{File: p.file, Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line = n.Line
	}
	p.errs = append(p.errs, e)
}

func (p *parser) err() error {
	switch len(p.errs) {
	case 0:
		return nil
	case 1:
		return p.errs[0]
	}
	return errors.Join(p.errs...)
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntax records an error from the YAML parser, moving its line number
// to the front.
func (p *parser) syntax(err error) {
	msg := err.Error()
	e := &FieldError{File: p.file, Msg: strings.TrimPrefix(msg, "yaml: ")}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = m[2]
	}
	p.errs = append(p.errs, e)
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// mapping returns the values of mapping node n by key, reporting keys not
// in known, duplicate keys and a node that is not a mapping. The keys'
// nodes are in keys, for errors about the key rather than the value.
func (p *parser) mapping(n *yaml.Node, path string, known ...string) (vals, keys map[string]*yaml.Node, ok bool) {
	if !p.kind(n, path, yaml.MappingNode, "a mapping of fields") {
		return nil, nil, false
	}
	vals, keys = make(map[string]*yaml.Node), make(map[string]*yaml.Node)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, path, "field names must be plain words")
			continue
		}
		f := join(path, k.Value)
		switch {
		case !slices.Contains(known, k.Value):
			p.errorf(k, f, "unknown field (known: %s)", strings.Join(known, ", "))
		case keys[k.Value] != nil:
			p.errorf(k, f, "given twice (first on line %d)", keys[k.Value].Line)
		default:
			vals[k.Value], keys[k.Value] = v, k
		}
	}
	return vals, keys, true
}

func (p *parser) kind(n *yaml.Node, path string, want yaml.Kind, what string) bool {
	switch {
	case n.Kind == yaml.AliasNode:
		p.errorf(n, path, "YAML aliases are not supported")
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" && want != yaml.ScalarNode:
		p.errorf(n, path, "must be %s, got nothing", what)
	case n.Kind != want:
		p.errorf(n, path, "must be %s, got %s", what, describe(n))
	default:
		return true
	}
	return false
}

// describe names what n holds, for errors.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", clip(n.Value))
	}
	return "something else"
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// scalar returns the text of scalar node n.
func (p *parser) scalar(n *yaml.Node, path string) (string, bool) {
	if !p.kind(n, path, yaml.ScalarNode, "a single value") {
		return "", false
	}
	if n.ShortTag() == "!!null" {
		p.errorf(n, path, "must not be empty")
		return "", false
	}
	return n.Value, true
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

func (p *parser) name(n *yaml.Node, path string, max int) (string, bool) {
	v, ok := p.scalar(n, path)
	if !ok {
		return "", false
	}
	if !namePattern.MatchString(v) || len(v) > max {
		p.errorf(n, path, "%q must be 1 to %d of a-z, 0-9 and -, starting with a letter or digit", clip(v), max)
		return "", false
	}
	return v, true
}

// oneOf parses a scalar that must be one of choices.
func (p *parser) oneOf(n *yaml.Node, path string, choices ...string) (string, bool) {
	v, ok := p.scalar(n, path)
	if !ok {
		return "", false
	}
	if !slices.Contains(choices, v) {
		p.errorf(n, path, "%q is not one of %s", clip(v), strings.Join(choices, ", "))
		return "", false
	}
	return v, true
}

func (p *parser) integer(n *yaml.Node, path string, lo, hi int64) (int64, bool) {
	v, ok := p.scalar(n, path)
	if !ok {
		return 0, false
	}
	var i int64
	if n.ShortTag() != "!!int" || n.Decode(&i) != nil {
		p.errorf(n, path, "%q is not a whole number", clip(v))
		return 0, false
	}
	if i < lo || i > hi {
		p.errorf(n, path, "must be between %d and %d", lo, hi)
		return 0, false
	}
	return i, true
}

// duration parses a Go duration in [0, hi]; a bare 0 is zero.
func (p *parser) duration(n *yaml.Node, path string, hi time.Duration) (time.Duration, bool) {
	v, ok := p.scalar(n, path)
	if !ok {
		return 0, false
	}
	if v == "0" {
		return 0, true
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		p.errorf(n, path, "%q is not a duration such as 300ms, 20s or 1m30s", clip(v))
		return 0, false
	}
	if d < 0 || d > hi {
		p.errorf(n, path, "must be between 0s and %v", hi)
		return 0, false
	}
	return d, true
}

var quantity = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z%]*)$`)

// number splits v into a non-negative number and its unit.
func number(v string) (float64, string, bool) {
	m := quantity.FindStringSubmatch(strings.TrimSpace(v))
	if m == nil {
		return 0, "", false
	}
	f, err := strconv.ParseFloat(m[1], 64)
	return f, m[2], err == nil
}

var sizeUnits = map[string]float64{
	"": 1, "B": 1,
	"KB": 1e3, "MB": 1e6, "GB": 1e9,
	"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30,
}

// size parses a byte count such as 16MiB in [1, hi].
func (p *parser) size(n *yaml.Node, path string, hi int64) (int64, bool) {
	v, ok := p.scalar(n, path)
	if !ok {
		return 0, false
	}
	f, unit, ok := number(v)
	mult, known := sizeUnits[unit]
	if !ok || !known {
		p.errorf(n, path, "%q is not a size such as 4096, 512KiB or 16MiB (units B, KB, MB, GB, KiB, MiB, GiB)", clip(v))
		return 0, false
	}
	b := math.Round(f * mult)
	if b < 1 || b > float64(hi) {
		p.errorf(n, path, "must be between 1 B and %d B", hi)
		return 0, false
	}
	return int64(b), true
}

var rateUnits = map[string]float64{"bit": 1, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9}

// rate parses a rate in bits/s such as 5Mbit; 0 and "unlimited" are 0.
func (p *parser) rate(n *yaml.Node, path string) (int64, bool) {
	v, ok := p.scalar(n, path)
	if !ok {
		return 0, false
	}
	if v == "0" || v == "unlimited" {
		return 0, true
	}
	f, unit, ok := number(v)
	mult, known := rateUnits[strings.ToLower(unit)]
	if !ok || !known {
		p.errorf(n, path, "%q is not a rate such as 512Kbit or 5Mbit (units bit, Kbit, Mbit, Gbit; 0 or unlimited for no limit)", clip(v))
		return 0, false
	}
	r := math.Round(f * mult)
	if r < netlab.MinRate || r > maxRate {
		p.errorf(n, path, "must be 0 (unlimited) or between %gKbit and 100Gbit", netlab.MinRate/1e3)
		return 0, false
	}
	return int64(r), true
}

// fraction parses a percentage ("1.5%") or a fraction (0.015) in [0, 1],
// or in [0, 1) if below1.
func (p *parser) fraction(n *yaml.Node, path string, below1 bool) (float64, bool) {
	v, ok := p.scalar(n, path)
	if !ok {
		return 0, false
	}
	f, unit, ok := number(v)
	switch {
	case ok && unit == "%":
		f /= 100
	case ok && unit == "":
	default:
		p.errorf(n, path, "%q is not a percentage such as 1.5%% or a fraction such as 0.015", clip(v))
		return 0, false
	}
	switch {
	case below1 && f >= 1:
		p.errorf(n, path, "must be less than 100%%")
	case f > 1:
		p.errorf(n, path, "must be at most 100%%")
	default:
		return f, true
	}
	return 0, false
}

var topFields = []string{"name", "description", "duration", "content", "discovery", "defaults", "groups", "stop"}

func (p *parser) scenario(root *yaml.Node) *Scenario {
	m, keys, ok := p.mapping(root, "", topFields...)
	if !ok {
		return nil
	}
	s := &Scenario{
		File:      p.file,
		Name:      strings.TrimSuffix(filepath.Base(p.file), filepath.Ext(p.file)),
		Content:   Content{ChunkSize: 1024},
		Discovery: DiscoveryTracker,
		Defaults:  Link{NAT: netlab.NATNone},
		Stop:      StopAllComplete,
	}
	if n := m["name"]; n != nil {
		s.Name, _ = p.name(n, "name", 64)
	}
	if n := m["description"]; n != nil {
		s.Description, _ = p.scalar(n, "description")
	}
	if n := m["duration"]; n != nil {
		if d, ok := p.duration(n, "duration", MaxDuration); ok && d == 0 {
			p.errorf(n, "duration", "must be more than 0s")
		} else {
			s.Duration = d
		}
	} else {
		p.errorf(root, "duration", "missing (the hard bound on the run, such as 300s)")
	}
	if n := m["content"]; n != nil {
		p.content(n, &s.Content)
	} else {
		p.errorf(root, "content", "missing (content: {size: 16MiB})")
	}
	if n := m["discovery"]; n != nil {
		v, _ := p.oneOf(n, "discovery", string(DiscoveryTracker), string(DiscoveryDHT))
		s.Discovery = Discovery(v)
	}
	if n := m["stop"]; n != nil {
		v, _ := p.oneOf(n, "stop", string(StopAllComplete), string(StopDuration))
		s.Stop = Stop(v)
	}
	if n := m["defaults"]; n != nil {
		s.Defaults = p.link(n, "defaults", s.Defaults)
	}
	if n := m["groups"]; n != nil {
		s.Groups = p.groups(n, keys["groups"], s)
	} else {
		p.errorf(root, "groups", "missing (at least one seed group and one get group)")
	}
	return s
}

func (p *parser) content(n *yaml.Node, c *Content) {
	m, _, ok := p.mapping(n, "content", "size", "chunk_size")
	if !ok {
		return
	}
	if v := m["size"]; v != nil {
		c.Size, _ = p.size(v, "content.size", MaxContentSize)
	} else {
		p.errorf(n, "content.size", "missing (such as 16MiB)")
	}
	if v := m["chunk_size"]; v != nil {
		if cs, ok := p.integer(v, "content.chunk_size", 512, 65536); ok {
			if cs&(cs-1) != 0 {
				p.errorf(v, "content.chunk_size", "%d is not a power of two", cs)
			} else {
				c.ChunkSize = int(cs)
			}
		}
	}
}

var linkFields = []string{"delay", "jitter", "loss", "reorder", "up", "down", "nat"}

// link parses a link section over base.
func (p *parser) link(n *yaml.Node, path string, base Link) Link {
	m, _, ok := p.mapping(n, path, linkFields...)
	if !ok {
		return base
	}
	l := base
	if v := m["delay"]; v != nil {
		l.Delay, _ = p.duration(v, join(path, "delay"), maxDelay)
	}
	if v := m["jitter"]; v != nil {
		l.Jitter, _ = p.duration(v, join(path, "jitter"), maxDelay)
	}
	if v := m["loss"]; v != nil {
		l.Loss, _ = p.fraction(v, join(path, "loss"), true)
	}
	if v := m["reorder"]; v != nil {
		l.Reorder, _ = p.fraction(v, join(path, "reorder"), false)
	}
	if v := m["up"]; v != nil {
		l.Up, _ = p.rate(v, join(path, "up"))
	}
	if v := m["down"]; v != nil {
		l.Down, _ = p.rate(v, join(path, "down"))
	}
	if v := m["nat"]; v != nil {
		nat, ok := p.oneOf(v, join(path, "nat"), "none", netlab.NATPortRestricted, netlab.NATFullCone, netlab.NATSymmetric)
		if ok {
			l.NAT = natKinds[nat]
		}
	}
	return l
}

var groupFields = []string{"name", "role", "count", "start", "every", "stay", "churn", "link"}

func (p *parser) groups(n, key *yaml.Node, s *Scenario) []Group {
	if !p.kind(n, "groups", yaml.SequenceNode, "a list of groups") {
		return nil
	}
	if len(n.Content) == 0 {
		p.errorf(n, "groups", "must list at least one seed group and one get group")
		return nil
	}
	var groups []Group
	first := make(map[string]int) // group name -> index
	hosts, seeds, gets := 0, 0, 0
	for i, gn := range n.Content {
		path := fmt.Sprintf("groups[%d]", i)
		m, keys, ok := p.mapping(gn, path, groupFields...)
		if !ok {
			continue
		}
		g := Group{Count: 1, Link: s.Defaults, Line: gn.Line}
		if v := m["name"]; v != nil {
			if name, ok := p.name(v, path+".name", maxGroupName); ok {
				if j, dup := first[name]; dup {
					p.errorf(v, path+".name", "%q is already the name of groups[%d]", name, j)
				} else {
					first[name] = i
				}
				g.Name = name
			}
		} else {
			p.errorf(gn, path+".name", "missing")
		}
		if v := m["role"]; v != nil {
			role, _ := p.oneOf(v, path+".role", string(RoleSeed), string(RoleGet))
			g.Role = Role(role)
			switch g.Role {
			case RoleSeed:
				seeds++
			case RoleGet:
				gets++
			}
		} else {
			p.errorf(gn, path+".role", "missing (seed or get)")
		}
		if v := m["count"]; v != nil {
			c, ok := p.integer(v, path+".count", 1, MaxHosts)
			if ok {
				g.Count = int(c)
			}
		}
		hosts += g.Count
		if v := m["start"]; v != nil {
			g.Start, _ = p.duration(v, path+".start", MaxDuration)
		}
		if v := m["every"]; v != nil {
			g.Every, _ = p.duration(v, path+".every", MaxDuration)
		}
		if last := g.Start + time.Duration(g.Count-1)*g.Every; s.Duration > 0 && last >= s.Duration {
			at, f := gn, path
			if v := m["every"]; v != nil && g.Count > 1 {
				at, f = v, path+".every"
			} else if v := m["start"]; v != nil {
				at, f = v, path+".start"
			}
			p.errorf(at, f, "the last arrival, at %v, is not before the end of the run (duration %v)", last, s.Duration)
		}
		g.Stay = Forever
		if v := m["stay"]; v != nil {
			if g.Role == RoleSeed {
				p.errorf(keys["stay"], path+".stay", "only get groups have stay: seeders stay until the run ends")
			} else if sv, ok := p.scalar(v, path+".stay"); ok && sv != "forever" {
				g.Stay, _ = p.duration(v, path+".stay", MaxDuration)
			}
		}
		if v := m["churn"]; v != nil {
			g.Churn = p.churn(v, path+".churn")
		}
		if v := m["link"]; v != nil {
			g.Link = p.link(v, path+".link", s.Defaults)
		}
		groups = append(groups, g)
	}
	if hosts > MaxHosts {
		p.errorf(key, "groups", "%d hosts in all; at most %d", hosts, MaxHosts)
	}
	if seeds == 0 && len(groups) > 0 {
		p.errorf(key, "groups", "no group has role seed: the content needs a source")
	}
	if gets == 0 && len(groups) > 0 {
		p.errorf(key, "groups", "no group has role get: nothing would be downloaded")
	}
	return groups
}

func (p *parser) churn(n *yaml.Node, path string) *Churn {
	m, _, ok := p.mapping(n, path, "up", "down")
	if !ok {
		return nil
	}
	c := &Churn{}
	for _, f := range []struct {
		name string
		d    *time.Duration
	}{{"up", &c.Up}, {"down", &c.Down}} {
		v := m[f.name]
		if v == nil {
			p.errorf(n, join(path, f.name), "missing (how long each %s period lasts, such as 20s)", map[string]string{"up": "online", "down": "offline"}[f.name])
			continue
		}
		if d, ok := p.duration(v, join(path, f.name), MaxDuration); ok && d == 0 {
			p.errorf(v, join(path, f.name), "must be more than 0s")
		} else {
			*f.d = d
		}
	}
	return c
}
