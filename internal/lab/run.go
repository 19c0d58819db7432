package lab

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/nextshare/nextshare/internal/events"
	"github.com/nextshare/nextshare/internal/merkle"
	"github.com/nextshare/nextshare/internal/netlab"
	"github.com/nextshare/nextshare/internal/node"
	"github.com/nextshare/nextshare/internal/uri"
)

// Port is the UDP port every emulated host's nextshare listens on.
const Port = 7574

// Prefix names the lab's network namespaces; netlab adds the PID.
const Prefix = "nslab"

// sampleEvery is how often each process writes a progress sample.
const sampleEvery = 100 * time.Millisecond

// Config is what Run needs besides the scenario.
type Config struct {
	// Binary is the nextshare executable the hosts run.
	Binary string
	// Out is the directory for results, logs and the report. It is created,
	// and must not hold anything yet.
	Out string
	// Keep keeps the content and the downloaded files (by default they
	// are removed once verified).
	Keep bool
	// Progress receives one status line every few seconds; nil for none.
	Progress io.Writer
	Log      *slog.Logger
}

// Run runs the scenario: it builds the network, starts the hosts on their
// schedule, stops when the scenario says so (or ctx ends), verifies every
// download, writes the report to cfg.Out and tears everything down.
// The returned Results are valid even when the run was cut short; err
// says why it was.
func Run(ctx context.Context, sc *Scenario, cfg Config) (*Results, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		cfg.Binary = exe
	}
	if stale, err := netlab.Cleanup(Prefix, cfg.Log); err != nil {
		return nil, fmt.Errorf("removing a crashed run's namespaces: %w", err)
	} else if len(stale) > 0 {
		cfg.Log.Info("removed stale namespaces", "names", stale)
	}
	if ents, err := os.ReadDir(cfg.Out); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("%s is not empty: a run needs a directory of its own", cfg.Out)
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, err
	}
	r := &runner{sc: sc, cfg: cfg, plans: sc.Hosts()}
	res, err := r.run(ctx)
	if res != nil {
		if werr := WriteReport(cfg.Out, res); werr != nil && err == nil {
			err = werr
		}
	}
	return res, err
}

type runner struct {
	sc    *Scenario
	cfg   Config
	plans []HostPlan
	net   *netlab.Network

	content string // the source file
	sum     [32]byte
	link    string
	size    int64
	chunks  uint64
	started time.Time
	procs   []*proc
	errs    []string
}

// proc is one emulated host and its nextshare process (restarted on churn).
type proc struct {
	plan     HostPlan
	host     *netlab.Host
	dir      string
	file     string // what it seeds or downloads into
	evPath   string
	cmd      *exec.Cmd
	exited   chan error
	stints   int       // times started
	since    time.Time // start of the current online or offline period
	left     bool      // gone for good
	churning bool      // stopped by the lab, to come back
	ready    time.Time // its first start record, from its event log
	done     time.Time // completion, from its event log
	tail     tail
}

func (r *runner) run(ctx context.Context) (res *Results, err error) {
	ctx, cancel := context.WithTimeout(ctx, r.sc.Duration)
	defer cancel()
	if err := r.makeContent(); err != nil {
		return nil, err
	}
	specs := make([]netlab.HostSpec, len(r.plans))
	for i, p := range r.plans {
		specs[i] = netlab.HostSpec{Name: p.Name, Up: p.Up, Down: p.Down, NAT: p.NAT}
	}
	t0 := time.Now()
	r.net, err = netlab.New(ctx, specs, netlab.Options{Prefix: Prefix, Logger: r.cfg.Log})
	if err != nil {
		return nil, fmt.Errorf("building the network: %w", err)
	}
	defer func() {
		if cerr := r.net.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("tearing down the network: %w", cerr)
		}
	}()
	r.logf("network of %d hosts up in %v", len(specs), time.Since(t0).Round(time.Millisecond))
	for _, p := range r.plans {
		pr := &proc{plan: p, host: r.net.Host(p.Name), dir: filepath.Join(r.cfg.Out, "hosts", p.Name)}
		if err := os.MkdirAll(pr.dir, 0o755); err != nil {
			return nil, err
		}
		pr.file = filepath.Join(pr.dir, "content")
		if p.Role == RoleSeed {
			if err := linkOrCopy(r.content, pr.file); err != nil {
				return nil, err
			}
		}
		pr.evPath = filepath.Join(pr.dir, "events.jsonl")
		pr.tail.path = pr.evPath
		r.procs = append(r.procs, pr)
	}
	r.started = time.Now()
	cpu0, cpuErr := readCPU("/proc/stat")
	runErr := r.loop(ctx)
	cpu1, cpuErr1 := readCPU("/proc/stat")
	r.stopAll()
	res = r.collect()
	if cpuErr == nil && cpuErr1 == nil {
		res.MachineBusy, res.CPUs = busyShare(cpu0, cpu1), runtime.NumCPU()
	}
	if runErr != nil {
		res.Errors = append(res.Errors, runErr.Error())
	}
	if !r.cfg.Keep {
		r.removeFiles()
	}
	return res, runErr
}

// makeContent writes the scenario's random content and hashes it.
func (r *runner) makeContent() error {
	dir := filepath.Join(r.cfg.Out, "content")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	r.content = filepath.Join(dir, "source")
	f, err := os.Create(r.content)
	if err != nil {
		return err
	}
	seed := sha256.Sum256([]byte(r.sc.Name))
	rng := rand.NewChaCha8(seed)
	h := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	if _, err := io.CopyN(w, rng, r.sc.Content.Size); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	copy(r.sum[:], h.Sum(nil))
	t, err := node.Hash(r.content, merkle.SHA1, r.sc.Content.ChunkSize)
	if err != nil {
		return err
	}
	r.size = t.Size()
	r.chunks = t.NumChunks()
	r.link = uri.URI{Root: t.Root(), Func: merkle.SHA1, Size: t.Size()}.String()
	return nil
}

// loop starts, churns and stops processes until the scenario ends.
func (r *runner) loop(ctx context.Context) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	lastStatus := time.Now()
	for {
		now := time.Now()
		el := now.Sub(r.started)
		var due []*proc
		for _, p := range r.procs {
			if r.step(p, now, el) {
				due = append(due, p)
			}
		}
		if err := r.startAll(ctx, due, now); err != nil {
			return err
		}
		if r.sc.Stop == StopAllComplete && r.allComplete() {
			r.logf("all %d downloads complete after %v", r.gets(), el.Round(time.Millisecond))
			return nil
		}
		if r.getsGone() {
			return fmt.Errorf("every download has stopped: %d of %d complete", r.completed(), r.gets())
		}
		if now.Sub(lastStatus) >= 2*time.Second {
			r.status(el)
			lastStatus = now
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				if r.sc.Stop == StopDuration {
					return nil
				}
				return fmt.Errorf("scenario duration %v ran out: %d of %d downloads complete", r.sc.Duration, r.completed(), r.gets())
			}
			return fmt.Errorf("interrupted: %w", context.Cause(ctx))
		case <-tick.C:
		}
	}
}

// step advances one host's schedule and reports whether its process is
// due to start (or restart) now.
func (r *runner) step(p *proc, now time.Time, el time.Duration) bool {
	if p.left {
		return false
	}
	if p.cmd != nil {
		if p.ready.IsZero() || now.Sub(p.tail.polled) >= followEvery {
			r.follow(p)
			p.tail.polled = now
		}
		select {
		case err := <-p.exited:
			p.cmd = nil
			p.since = now
			r.follow(p)
			switch {
			case p.plan.Role == RoleGet && !p.done.IsZero():
				p.left = true // done, and stayed as long as it was told
			case p.churning:
				p.churning = false
			default:
				p.left = true
				r.errs = append(r.errs, fmt.Sprintf("%s exited on its own: %v (see %s)", p.plan.Name, err, filepath.Join(p.dir, "log")))
			}
		default:
		}
	}
	running := p.cmd != nil
	switch {
	case !running && p.stints == 0:
		return el >= p.plan.Start && !r.seedersStarting(p)
	case running && p.plan.Churn != nil && p.done.IsZero() && !p.churning:
		if now.Sub(p.since) >= p.plan.Churn.Up {
			r.signal(p, syscall.SIGTERM)
			p.churning = true
		}
	case !running && p.plan.Churn != nil && p.done.IsZero():
		return now.Sub(p.since) >= p.plan.Churn.Down
	}
	return false
}

// seedersStarting reports whether get p must wait for seeders of its
// arrival time that are still starting: started, but not serving yet (no
// start record in their event log). A crowd that arrives at a seeder still
// hashing its content retries its handshakes a second later, which would
// count against the swarm; the scenario means the seeder to be there.
func (r *runner) seedersStarting(p *proc) bool {
	if p.plan.Role != RoleGet {
		return false
	}
	for _, q := range r.procs {
		if q.plan.Role == RoleSeed && q.plan.Start <= p.plan.Start && !q.left && q.ready.IsZero() {
			return true
		}
	}
	return false
}

// startAll starts the processes of due at once: one after another, each
// fork and exec of a few tens of milliseconds would spread a crowd that
// arrives together over most of a second on a small machine.
func (r *runner) startAll(ctx context.Context, due []*proc, now time.Time) error {
	errs := make([]error, len(due))
	var wg sync.WaitGroup
	for i, p := range due {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = r.start(ctx, p, now)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// follow reads what the host's event log gained since the last look.
func (r *runner) follow(p *proc) {
	p.tail.poll(func(rec events.Record) {
		switch {
		case rec.Ev == events.EvStart && p.ready.IsZero():
			p.ready = time.UnixMilli(rec.T)
		case rec.Ev == events.EvComplete && p.done.IsZero():
			p.done = time.UnixMilli(rec.T)
		}
	})
}

// start starts (or restarts) the host's nextshare.
func (r *runner) start(ctx context.Context, p *proc, now time.Time) error {
	args := []string{}
	switch p.plan.Role {
	case RoleSeed:
		args = append(args, "seed", "--listen", fmt.Sprintf(":%d", Port))
	default:
		args = append(args, "get", "-o", p.file, "--listen", fmt.Sprintf(":%d", Port), "--stay", stayFlag(p.plan.Stay))
	}
	args = append(args, "--events", p.evPath, "--events-every", sampleEvery.String(),
		"--chunk-size", strconv.Itoa(r.sc.Content.ChunkSize))
	args = append(args, r.discoveryArgs(p)...)
	if p.plan.Role == RoleSeed {
		args = append(args, p.file)
	} else {
		args = append(args, r.link)
	}
	logf, err := os.OpenFile(filepath.Join(p.dir, "log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := r.net.Command(ctx, p.plan.Name, r.cfg.Binary, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Dozens of hosts share a few cores: one P each keeps a host's
	// reader and loop goroutines on one thread, instead of waking a
	// second one (and spinning it) for every datagram.
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	// The lab stops its processes itself (stopAll); ctx ending must not
	// SIGKILL them before they write their last event.
	cmd.Cancel = func() error { return nil }
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting %s: %w", p.plan.Name, err)
	}
	p.cmd = cmd
	p.exited = make(chan error, 1)
	p.stints++
	p.since = now
	go func() {
		err := cmd.Wait()
		logf.Close()
		p.exited <- err
	}()
	return nil
}

// stayFlag renders a stay duration for get --stay; negative is forever.
func stayFlag(d time.Duration) string {
	if d < 0 {
		return "forever"
	}
	return d.String()
}

// discoveryArgs tells a host how to find peers.
func (r *runner) discoveryArgs(p *proc) []string {
	var seeds []netip.AddrPort
	for _, q := range r.procs {
		if q.plan.Role == RoleSeed {
			seeds = append(seeds, netip.AddrPortFrom(q.host.Addr, Port))
		}
	}
	if r.sc.Discovery == DiscoveryDHT {
		// The first seeder starts the private DHT; everyone else joins
		// through it.
		if netip.AddrPortFrom(p.host.Addr, Port) == seeds[0] {
			return []string{"--bootstrap", "none"}
		}
		return []string{"--bootstrap", seeds[0].String()}
	}
	args := []string{"--no-dht"}
	if p.plan.Role == RoleGet {
		for _, s := range seeds {
			args = append(args, "--peer", s.String())
		}
	}
	return args
}

func (r *runner) signal(p *proc, sig syscall.Signal) {
	if p.cmd != nil && p.cmd.Process != nil {
		p.cmd.Process.Signal(sig)
	}
}

// stopAll asks every running process to stop, then kills the stragglers.
func (r *runner) stopAll() {
	for _, p := range r.procs {
		r.signal(p, syscall.SIGTERM)
	}
	deadline := time.After(5 * time.Second)
	for _, p := range r.procs {
		if p.cmd == nil {
			continue
		}
		select {
		case <-p.exited:
		case <-deadline:
			r.signal(p, syscall.SIGKILL)
			<-p.exited
		}
		p.cmd = nil
	}
}

func (r *runner) gets() int {
	n := 0
	for _, p := range r.procs {
		if p.plan.Role == RoleGet {
			n++
		}
	}
	return n
}

func (r *runner) completed() int {
	n := 0
	for _, p := range r.procs {
		if p.plan.Role == RoleGet && !p.done.IsZero() {
			n++
		}
	}
	return n
}

// getsGone tells whether no download is running or due any more.
func (r *runner) getsGone() bool {
	for _, p := range r.procs {
		if p.plan.Role == RoleGet && !p.left {
			return false
		}
	}
	return true
}

func (r *runner) allComplete() bool { return r.completed() == r.gets() }

// status prints one progress line.
func (r *runner) status(el time.Duration) {
	var have, running uint64
	for _, p := range r.procs {
		if p.plan.Role != RoleGet {
			continue
		}
		have += p.tail.have
		if p.cmd != nil {
			running++
		}
	}
	pct := 0.0
	if r.chunks > 0 && r.gets() > 0 {
		pct = 100 * float64(have) / float64(r.chunks*uint64(r.gets()))
	}
	r.logf("%6.1fs  %d/%d complete, %d running, %.0f%% of all chunks", el.Seconds(), r.completed(), r.gets(), running, pct)
}

func (r *runner) logf(format string, args ...any) {
	if r.cfg.Progress != nil {
		fmt.Fprintf(r.cfg.Progress, format+"\n", args...)
	}
}

// collect reads every host's log and file into Results.
func (r *runner) collect() *Results {
	res := &Results{
		Scenario: r.sc.Name, Started: r.started, Duration: time.Since(r.started),
		ContentSize: r.size, Chunks: r.chunks,
	}
	names := map[netip.Addr]string{}
	seeders := map[string]bool{}
	for _, p := range r.procs {
		names[p.host.Addr] = p.plan.Name
		if p.plan.Role == RoleSeed {
			seeders[p.plan.Name] = true
		}
	}
	nameOf := func(s string) string {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return s
		}
		if n, ok := names[ap.Addr().Unmap()]; ok {
			return n
		}
		return ap.Addr().String()
	}
	for _, p := range r.procs {
		res.Hosts = append(res.Hosts, r.hostResult(p, nameOf, seeders))
	}
	res.Errors = append(res.Errors, r.errs...)
	res.FluidBound, res.FluidTerm = r.sc.FluidBound()
	res.Summarize()
	return res
}

// hostResult reads one host's event log and checks its file.
func (r *runner) hostResult(p *proc, nameOf func(string) string, seeders map[string]bool) HostResult {
	hr := HostResult{Name: p.plan.Name, Group: p.plan.Group, Role: string(p.plan.Role), Addr: p.host.Addr.String(),
		BytesFrom: map[string]uint64{}, BytesTo: map[string]uint64{}}
	f, err := os.Open(p.evPath)
	if err != nil {
		return hr
	}
	recs, _, err := events.Read(f)
	f.Close()
	if err != nil {
		return hr
	}
	// Counters restart with each process (churn): carry the totals of
	// earlier stints forward so the series stays cumulative.
	var base, last struct{ in, out, fromSrc uint64 }
	var baseFrom, lastFrom, baseTo, lastTo map[string]uint64
	baseFrom, lastFrom, baseTo, lastTo = map[string]uint64{}, map[string]uint64{}, map[string]uint64{}, map[string]uint64{}
	baseIn, baseOut, lastIn, lastOut := map[string]uint64{}, map[string]uint64{}, map[string]uint64{}, map[string]uint64{}
	startup := int64(1 << 20)
	if r.size < startup {
		startup = r.size
	}
	for _, rec := range recs {
		t := time.UnixMilli(rec.T)
		switch rec.Ev {
		case "start":
			if hr.Started.IsZero() {
				hr.Started = t
			}
			base.in, base.out, base.fromSrc = last.in, last.out, last.fromSrc
			addInto(baseFrom, lastFrom)
			addInto(baseTo, lastTo)
			addInto(baseIn, lastIn)
			addInto(baseOut, lastOut)
			clear(lastFrom)
			clear(lastTo)
			clear(lastIn)
			clear(lastOut)
			continue
		case "sample", "complete", "exit":
		default:
			continue
		}
		lastFrom, lastTo = named(rec.From, nameOf), named(rec.To, nameOf)
		lastIn, lastOut = rec.In, rec.Out
		var src uint64
		for n, b := range lastFrom {
			if seeders[n] {
				src += b
			}
		}
		last.in, last.out, last.fromSrc = rec.BytesIn, rec.BytesOut, src
		hr.Samples = append(hr.Samples, Sample{
			T: t.Sub(r.started), Have: rec.Have,
			BytesIn: base.in + rec.BytesIn, BytesOut: base.out + rec.BytesOut,
			FromSource: base.fromSrc + src,
		})
		hr.Messages = append(hr.Messages, MessageSample{T: t.Sub(r.started), In: sumMaps(baseIn, rec.In), Out: sumMaps(baseOut, rec.Out)})
		if hr.Startup == 0 && p.plan.Role == RoleGet && !hr.Started.IsZero() &&
			int64(rec.Have)*int64(r.sc.Content.ChunkSize) >= startup {
			hr.Startup = t.Sub(hr.Started)
		}
		if rec.Ev == "complete" && hr.Completed.IsZero() {
			hr.Completed = t
		}
	}
	hr.BytesFrom = sumMaps(baseFrom, lastFrom)
	hr.BytesTo = sumMaps(baseTo, lastTo)
	if p.plan.Role == RoleGet {
		hr.Identical = r.identical(p.file)
	} else {
		hr.Identical = true
	}
	return hr
}

// identical tells whether path holds exactly the source content.
func (r *runner) identical(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return err == nil && n == r.size && bytes.Equal(h.Sum(nil), r.sum[:])
}

// removeFiles deletes the content and the downloads, keeping logs.
func (r *runner) removeFiles() {
	os.RemoveAll(filepath.Join(r.cfg.Out, "content"))
	for _, p := range r.procs {
		matches, _ := filepath.Glob(p.file + "*")
		for _, m := range matches {
			os.Remove(m)
		}
	}
}

func named(m map[string]uint64, nameOf func(string) string) map[string]uint64 {
	out := make(map[string]uint64, len(m))
	for a, b := range m {
		out[nameOf(a)] += b
	}
	return out
}

func addInto(dst, src map[string]uint64) {
	for k, v := range src {
		dst[k] += v
	}
}

func sumMaps(a, b map[string]uint64) map[string]uint64 {
	out := make(map[string]uint64, len(a)+len(b))
	addInto(out, a)
	addInto(out, b)
	return out
}

// linkOrCopy makes dst hold src's bytes, by a hard link where it can.
func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// tail follows an event log as it grows.
type tail struct {
	path    string
	off     int64
	partial []byte
	have    uint64
	polled  time.Time // when step last followed it
}

// followEvery is how often the lab reads the event log of a host that has
// started serving: enough for the progress lines and the stop condition,
// while times come from the records themselves. Logs grow ten records a
// second per host, and reading each every 50 ms took a few percent of
// the machine in flashcrowd. A host not started yet is read every tick,
// for the crowd that waits for its seeder.
const followEvery = 500 * time.Millisecond

// needed returns the lines of b, whole lines of an event log, that a poll
// has to decode: every record but the samples, and the last sample. The
// samples, ten a second from every host and each naming every peer, are
// what the log is mostly made of; while the run goes on, only the latest
// count matters, and decoding them all took a few percent of the machine.
// The run's results read the whole logs once it is over.
func needed(b []byte) []byte {
	var out []byte
	var last []byte
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line = b[:i+1]
		}
		b = b[len(line):]
		if bytes.Contains(line, sampleTag) {
			last = line
			continue
		}
		if last != nil {
			out = append(out, last...)
			last = nil
		}
		out = append(out, line...)
	}
	return append(out, last...)
}

// sampleTag marks a sample record as the Writer encodes it.
var sampleTag = []byte(`"ev":"` + events.EvSample + `"`)

// poll reads the records appended since the last poll.
func (t *tail) poll(f func(events.Record)) {
	fh, err := os.Open(t.path)
	if err != nil {
		return
	}
	defer fh.Close()
	if _, err := fh.Seek(t.off, io.SeekStart); err != nil {
		return
	}
	b, err := io.ReadAll(io.LimitReader(fh, 16<<20))
	if err != nil || len(b) == 0 {
		return
	}
	t.off += int64(len(b))
	b = append(t.partial, b...)
	end := bytes.LastIndexByte(b, '\n')
	if end < 0 {
		t.partial = b
		return
	}
	t.partial = append([]byte(nil), b[end+1:]...)
	recs, _, _ := events.Read(bytes.NewReader(needed(b[:end+1])))
	for _, rec := range recs {
		if rec.Ev == "sample" || rec.Ev == "complete" {
			t.have = rec.Have
		}
		f(rec)
	}
}
