package netlab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// DefaultPrefix starts the names of the namespaces a Network creates when
// Options.Prefix is "".
const DefaultPrefix = "nslab"

// Options tune New. The zero value is ready to use.
type Options struct {
	// Prefix starts every namespace name; [a-z-] only. "" means
	// DefaultPrefix.
	Prefix string
	// Logger receives progress and error messages; nil discards them.
	Logger *slog.Logger
	// Seed seeds the random choices of jitter, loss and reordering, so that
	// the same packets in the same order meet the same fate.
	Seed uint64
	// MaxHeld bounds the packets the router holds for delay at once; more
	// pass without delay or loss and count as Stats.Overflows. 0 means
	// DefaultMaxHeld.
	MaxHeld int
	// NoRealtime runs the router's packet queue at normal priority rather
	// than SCHED_FIFO. Delays may then be late by milliseconds when the
	// machine is busy, but the queue cannot take a CPU from other programs.
	NoRealtime bool
}

// Host is an emulated host of a Network.
type Host struct {
	Name string
	// Netns is the host's network namespace, as named for `ip netns exec`.
	Netns string
	// Addr is the address other hosts reach this host at: its own, or its
	// NAT's outside address.
	Addr netip.Addr
	// LocalAddr is the host's address inside its namespace; it differs from
	// Addr behind a NAT.
	LocalAddr netip.Addr
	// NAT is the kind of NAT the host sits behind, NATNone if none.
	NAT string
	// NATNetns is the NAT's namespace, "" without a NAT.
	NATNetns string
}

// Network is a router namespace with one namespace per host linked to it,
// and possibly NAT namespaces in between. Its methods may be called from
// several goroutines.
type Network struct {
	log        *slog.Logger
	router     string // router namespace
	specs      []HostSpec
	hosts      []*Host
	byName     map[string]*Host
	namespaces []string // every namespace New creates: router, NATs, hosts
	rt         *router  // nil when no host delays or drops packets

	closeOnce sync.Once
	closeErr  error
}

// instances numbers the Networks of this process, so that several may exist
// at once under one prefix.
var instances atomic.Uint64

// New creates the namespaces, links, addresses, routes, rate limits and NAT
// rules for hosts, and starts the router's packet queue if any host has
// delay, jitter or loss. Namespaces are named "<prefix><pid>-<n>-r" for the
// router, "<prefix><pid>-<n>-h-<host>" for hosts and
// "<prefix><pid>-<n>-n-<host>" for NATs, where n numbers the Networks of
// this process. Host i's access link is 10.x.y.0/24 with x.y = i+1; see
// Host for its addresses. If New fails, it removes what it created. ctx
// bounds the commands New runs.
func New(ctx context.Context, hosts []HostSpec, opts Options) (*Network, error) {
	if err := validateSpecs(hosts); err != nil {
		return nil, err
	}
	prefix := opts.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if err := validPrefix(prefix); err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	maxHeld := opts.MaxHeld
	if maxHeld <= 0 {
		maxHeld = DefaultMaxHeld
	}
	base := fmt.Sprintf("%s%d-%d-", prefix, os.Getpid(), instances.Add(1))
	n := &Network{
		log:    log,
		router: base + "r",
		specs:  slices.Clone(hosts),
		byName: make(map[string]*Host, len(hosts)),
	}
	n.namespaces = append(n.namespaces, n.router)
	for i, s := range n.specs {
		a := hostAddrs(i, s.NAT != NATNone)
		h := &Host{Name: s.Name, Netns: base + "h-" + s.Name, Addr: a.outside, LocalAddr: a.outside, NAT: s.NAT}
		if s.NAT != NATNone {
			h.NATNetns = base + "n-" + s.Name
			h.LocalAddr = a.inside
			n.namespaces = append(n.namespaces, h.NATNetns)
		}
		n.namespaces = append(n.namespaces, h.Netns)
		n.hosts = append(n.hosts, h)
		n.byName[s.Name] = h
	}
	start := time.Now()
	ro := routerOptions{maxHeld: maxHeld, seed: opts.Seed, realtime: !opts.NoRealtime}
	if err := n.build(ctx, ro); err != nil {
		if cerr := n.Close(); cerr != nil {
			log.Warn("netlab: removing a partly built network", "err", cerr)
		}
		return nil, err
	}
	log.Info("netlab: network up", "hosts", len(n.hosts), "router", n.router, "took", time.Since(start).Round(time.Millisecond))
	return n, nil
}

// routerIf is the router's interface towards host i.
func routerIf(i int) string { return "h" + strconv.Itoa(i) }

// The ends of a host's veth pairs, for mac.
const (
	macRouter    = 1 // the router's hI
	macOutside   = 2 // the host's eth0, or its NAT's wan0
	macNATInside = 3 // a NAT's lan0
	macInside    = 4 // the eth0 of a host behind a NAT
)

// mac returns the Ethernet address of one end of host i's links: locally
// administered, unique within a Network. Every link has permanent neighbour
// entries for both ends, so no ARP is needed. That also keeps the kernel's
// neighbour table, whose size limit (net.ipv4.neigh.default.gc_thresh3,
// 1024 by default) is shared by all namespaces but does not count
// permanent entries, from overflowing with hundreds of hosts.
func mac(i, end int) string {
	return fmt.Sprintf("02:6e:6c:%02x:%02x:%02x", i>>8&0xff, i&0xff, end)
}

// Interface names inside host and NAT namespaces.
const (
	hostIf = "eth0" // a host's only link: to the router or to its NAT
	wanIf  = "wan0" // a NAT's link to the router
	lanIf  = "lan0" // a NAT's link to its host
)

func (n *Network) build(ctx context.Context, ro routerOptions) error {
	var add batch
	for _, ns := range n.namespaces {
		add.add("netns add %s", ns)
	}
	t0 := time.Now()
	if err := run(ctx, add.String(), "ip", "-batch", "-"); err != nil {
		return fmt.Errorf("netlab: create namespaces: %w", err)
	}
	n.log.Debug("netlab: namespaces created", "count", len(n.namespaces), "took", time.Since(t0))
	// Both ends of each veth pair are created in their namespaces, so no
	// name ever appears in the caller's namespace.
	var links batch
	for i, h := range n.hosts {
		if h.NAT == NATNone {
			links.add("link add %s address %s netns %s type veth peer name %s address %s netns %s",
				routerIf(i), mac(i, macRouter), n.router, hostIf, mac(i, macOutside), h.Netns)
			continue
		}
		links.add("link add %s address %s netns %s type veth peer name %s address %s netns %s",
			routerIf(i), mac(i, macRouter), n.router, wanIf, mac(i, macOutside), h.NATNetns)
		links.add("link add %s address %s netns %s type veth peer name %s address %s netns %s",
			lanIf, mac(i, macNATInside), h.NATNetns, hostIf, mac(i, macInside), h.Netns)
	}
	t0 = time.Now()
	if err := run(ctx, links.String(), "ip", "-batch", "-"); err != nil {
		return fmt.Errorf("netlab: create links: %w", err)
	}
	n.log.Debug("netlab: links created", "took", time.Since(t0))
	jobs := []func() error{func() error { return n.configureRouter(ctx) }}
	for i := range n.hosts {
		jobs = append(jobs, func() error { return n.configureHost(ctx, i) })
	}
	t0 = time.Now()
	if err := parallel(max(4, 2*runtime.NumCPU()), jobs); err != nil {
		return err
	}
	n.log.Debug("netlab: namespaces configured", "took", time.Since(t0))
	if !slices.ContainsFunc(n.specs, func(s HostSpec) bool { return s.Up.impaired() || s.Down.impaired() }) {
		return nil
	}
	return n.startQueue(ctx, ro)
}

func (n *Network) configureRouter(ctx context.Context) error {
	var ip, tc batch
	ip.add("link set lo up")
	for i, s := range n.specs {
		a := hostAddrs(i, false)
		ip.add("addr add %s/24 dev %s", a.router, routerIf(i))
		ip.add("link set %s up", routerIf(i))
		ip.add("neigh replace %s lladdr %s dev %s nud permanent", a.outside, mac(i, macOutside), routerIf(i))
		if s.Down.Rate > 0 {
			tc.add("qdisc replace dev %s root %s", routerIf(i), tbfArgs(s.Down))
		}
	}
	if err := run(ctx, ip.String(), "ip", "-n", n.router, "-batch", "-"); err != nil {
		return fmt.Errorf("netlab: configure router: %w", err)
	}
	if !tc.empty() {
		if err := run(ctx, tc.String(), "tc", "-n", n.router, "-batch", "-"); err != nil {
			return fmt.Errorf("netlab: router rate limits: %w", err)
		}
	}
	return writeSysctl(n.router, "net.ipv4.ip_forward", "1")
}

func (n *Network) configureHost(ctx context.Context, i int) error {
	h, s := n.hosts[i], n.specs[i]
	a := hostAddrs(i, h.NAT != NATNone)
	// upNS and upIf carry the host's Up rate limit: the host's own link,
	// or its NAT's link to the router.
	upNS, upIf, gw, gwMAC := h.Netns, hostIf, a.router, mac(i, macRouter)
	if h.NAT != NATNone {
		upNS, upIf, gw, gwMAC = h.NATNetns, wanIf, a.natInside, mac(i, macNATInside)
		var nat batch
		nat.add("link set lo up")
		nat.add("addr add %s/24 dev %s", a.outside, wanIf)
		nat.add("addr add %s/24 dev %s", a.natInside, lanIf)
		nat.add("link set %s up", wanIf)
		nat.add("link set %s up", lanIf)
		nat.add("neigh replace %s lladdr %s dev %s nud permanent", a.router, mac(i, macRouter), wanIf)
		nat.add("neigh replace %s lladdr %s dev %s nud permanent", a.inside, mac(i, macInside), lanIf)
		nat.add("route add default via %s", a.router)
		if err := run(ctx, nat.String(), "ip", "-n", h.NATNetns, "-batch", "-"); err != nil {
			return fmt.Errorf("netlab: configure NAT of %s: %w", h.Name, err)
		}
		if err := writeSysctl(h.NATNetns, "net.ipv4.ip_forward", "1"); err != nil {
			return err
		}
		if err := run(ctx, natRules(h.NAT, a.inside), "ip", "netns", "exec", h.NATNetns, "iptables-restore"); err != nil {
			return fmt.Errorf("netlab: NAT rules of %s: %w", h.Name, err)
		}
	}
	var ip batch
	ip.add("link set lo up")
	ip.add("addr add %s/24 dev %s", h.LocalAddr, hostIf)
	ip.add("link set %s up", hostIf)
	ip.add("neigh replace %s lladdr %s dev %s nud permanent", gw, gwMAC, hostIf)
	ip.add("route add default via %s", gw)
	if err := run(ctx, ip.String(), "ip", "-n", h.Netns, "-batch", "-"); err != nil {
		return fmt.Errorf("netlab: configure host %s: %w", h.Name, err)
	}
	if s.Up.Rate > 0 {
		args := append([]string{"-n", upNS, "qdisc", "replace", "dev", upIf, "root"}, strings.Fields(tbfArgs(s.Up))...)
		if err := run(ctx, "", "tc", args...); err != nil {
			return fmt.Errorf("netlab: up rate limit of %s: %w", h.Name, err)
		}
	}
	return nil
}

// natRules returns the iptables-restore input of a NAT of the given kind
// with inside host addr.
func natRules(kind string, inside netip.Addr) string {
	var b strings.Builder
	b.WriteString("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n")
	switch kind {
	case NATSymmetric:
		fmt.Fprintf(&b, "-A POSTROUTING -o %s -j MASQUERADE --random-fully\n", wanIf)
	case NATFullCone:
		fmt.Fprintf(&b, "-A POSTROUTING -o %s -j MASQUERADE\n", wanIf)
		fmt.Fprintf(&b, "-A PREROUTING -i %s -p udp -j DNAT --to-destination %s\n", wanIf, inside)
	default:
		fmt.Fprintf(&b, "-A POSTROUTING -o %s -j MASQUERADE\n", wanIf)
	}
	b.WriteString("COMMIT\n")
	return b.String()
}

// startQueue starts the router's packet queue, then sends every forwarded
// packet to it. --queue-bypass lets packets through unimpaired while no
// process reads the queue (before start, after Close).
func (n *Network) startQueue(ctx context.Context, ro routerOptions) error {
	links := make(map[uint32]*HostSpec, len(n.specs))
	err := doIn(n.router, func() error {
		ifcs, err := net.Interfaces()
		if err != nil {
			return fmt.Errorf("netlab: list router interfaces: %w", err)
		}
		index := make(map[string]int, len(ifcs))
		for _, ifc := range ifcs {
			index[ifc.Name] = ifc.Index
		}
		for i := range n.specs {
			idx, ok := index[routerIf(i)]
			if !ok {
				return fmt.Errorf("netlab: router interface %s missing", routerIf(i))
			}
			links[uint32(idx)] = &n.specs[i]
		}
		return nil
	})
	if err != nil {
		return err
	}
	n.rt, err = startRouter(n.router, links, ro, n.log)
	if err != nil {
		return err
	}
	err = run(ctx, "", "ip", "netns", "exec", n.router,
		"iptables", "-w", "-A", "FORWARD", "-j", "NFQUEUE", "--queue-num", strconv.Itoa(queueNum), "--queue-bypass")
	if err != nil {
		return fmt.Errorf("netlab: router queue rule: %w", err)
	}
	return nil
}

// Host returns the named host, or nil.
func (n *Network) Host(name string) *Host { return n.byName[name] }

// Hosts returns the hosts in the order they were given to New.
func (n *Network) Hosts() []*Host { return slices.Clone(n.hosts) }

// RouterNetns returns the name of the router's namespace.
func (n *Network) RouterNetns() string { return n.router }

// Stats returns the router queue's counters; all zero when no host delays
// or drops packets.
func (n *Network) Stats() Stats {
	if n.rt == nil {
		return Stats{}
	}
	return n.rt.stats()
}

// Command returns a command that runs name with args in the host's
// namespace (through `ip netns exec`). The process gets its own process
// group, which is killed when ctx is done, and SIGKILL when the thread that
// started it exits (Pdeathsig; Go keeps threads alive unless a goroutine
// exits while locked to one). For an unknown host, the command's Start
// fails.
func (n *Network) Command(ctx context.Context, host string, name string, args ...string) *exec.Cmd {
	h := n.Host(host)
	ns := ""
	if h != nil {
		ns = h.Netns
	}
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, name}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error {
		if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); errors.Is(err, syscall.ESRCH) {
			return os.ErrProcessDone
		} else if err != nil {
			return err
		}
		return nil
	}
	if h == nil {
		cmd.Err = fmt.Errorf("netlab: no host %q", host)
	}
	return cmd
}

// Do runs f on a locked OS thread inside the host's namespace and switches
// the thread back afterwards. Sockets that f opens stay in the host's
// namespace; goroutines that f starts do not run in it.
func (n *Network) Do(host string, f func() error) error {
	h := n.Host(host)
	if h == nil {
		return fmt.Errorf("netlab: no host %q", host)
	}
	return doIn(h.Netns, f)
}

// Close stops the router's queue, kills the processes still running in the
// network's namespaces and deletes the namespaces. It tries every step and
// returns the first error; later calls return the same result. Processes
// are found by their namespace, so one that Command is still starting (not
// yet inside) may escape: stop the commands you started before Close.
func (n *Network) Close() error {
	n.closeOnce.Do(func() {
		var errs []error
		if n.rt != nil {
			errs = append(errs, n.rt.close())
		}
		if err := deleteNamespaces(n.namespaces, n.log); err != nil {
			errs = append(errs, fmt.Errorf("netlab: delete namespaces: %w", err))
		}
		for _, err := range errs {
			if err != nil {
				n.closeErr = err
				break
			}
		}
	})
	return n.closeErr
}
