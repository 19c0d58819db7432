package netlab

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(helperMain())
	}
	goleak.VerifyTestMain(m)
}

// needLab skips the test unless namespaces can be built here.
func needLab(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("netlab needs root to create network namespaces")
	}
	for _, tool := range []string{"ip", "tc", "iptables", "iptables-restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("netlab needs %s (Debian packages iproute2, iptables): %v", tool, err)
		}
	}
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

func newNetwork(t testing.TB, hosts []HostSpec) *Network {
	t.Helper()
	needLab(t)
	n, err := New(context.Background(), hosts, Options{Logger: testLogger(t), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return n
}

// listen opens a UDP socket on port inside host.
func listen(t testing.TB, n *Network, host string, port int) *net.UDPConn {
	t.Helper()
	var c *net.UDPConn
	err := n.Do(host, func() error {
		var err error
		c, err = net.ListenUDP("udp4", &net.UDPAddr{Port: port})
		return err
	})
	if err != nil {
		t.Fatalf("listen on %s:%d: %v", host, port, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// echo sends every datagram c receives back to its sender, until c closes.
func echo(c *net.UDPConn) {
	buf := make([]byte, 2048)
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		c.WriteToUDPAddrPort(buf[:n], from)
	}
}

// warmUp gets one round trip from c to an echo server at to before a
// measurement, so that what the path sets up on its first packet is not
// measured: it tries a few times, since that first packet may be lost, and
// fails only if none comes back.
func warmUp(t *testing.T, c *net.UDPConn, to netip.AddrPort) {
	t.Helper()
	buf := make([]byte, 64)
	msg := make([]byte, 64)
	binary.BigEndian.PutUint32(msg, 1<<31)
	for range 5 {
		if _, err := c.WriteToUDPAddrPort(msg, to); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		for {
			n, _, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				break
			}
			if n >= 4 && binary.BigEndian.Uint32(buf) == 1<<31 {
				return
			}
		}
	}
	t.Fatalf("no answer from %v to 5 tries", to)
}

// pingMedian measures count sequential UDP round trips from c to an echo
// server at to and returns the median.
func pingMedian(t *testing.T, c *net.UDPConn, to netip.AddrPort, count int) time.Duration {
	t.Helper()
	var rtts []time.Duration
	buf := make([]byte, 64)
	msg := make([]byte, 64)
	for i := range count {
		binary.BigEndian.PutUint32(msg, uint32(i))
		start := time.Now()
		if _, err := c.WriteToUDPAddrPort(msg, to); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(start.Add(2 * time.Second))
		for {
			n, _, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				t.Fatalf("ping %d to %v: %v", i, to, err)
			}
			if n >= 4 && binary.BigEndian.Uint32(buf) == uint32(i) {
				break
			}
		}
		rtts = append(rtts, time.Since(start))
	}
	slices.Sort(rtts)
	t.Logf("RTT to %v over %d pings: min %v median %v max %v", to, count, rtts[0], rtts[len(rtts)/2], rtts[len(rtts)-1])
	return rtts[len(rtts)/2]
}

func TestDelay(t *testing.T) {
	ms := time.Millisecond
	n := newNetwork(t, []HostSpec{
		{Name: "a", Up: Link{Delay: 25 * ms}, Down: Link{Delay: 15 * ms}},
		{Name: "b", Up: Link{Delay: 10 * ms}, Down: Link{Delay: 30 * ms}},
		{Name: "c"},
		{Name: "d"},
	})
	for _, h := range []string{"b", "c", "d"} {
		go echo(listen(t, n, h, 7000))
	}
	ca := listen(t, n, "a", 0)
	cc := listen(t, n, "c", 0)
	at := func(h string) netip.AddrPort { return netip.AddrPortFrom(n.Host(h).Addr, 7000) }

	for _, c := range []struct {
		name string
		from *net.UDPConn
		to   string
		want time.Duration
	}{
		// a→b: a.Up + b.Down = 55 ms; b→a: b.Up + a.Down = 25 ms.
		{"delayed", ca, "b", 80 * ms},
		{"one side delayed", ca, "c", 40 * ms},
		// c↔d pass through the queue without delay.
		{"undelayed", cc, "d", 0},
	} {
		warmUp(t, c.from, at(c.to))
		got := pingMedian(t, c.from, at(c.to), 21)
		if got < c.want || got > c.want+2*ms {
			t.Errorf("%s: median RTT %v, want %v to %v", c.name, got, c.want, c.want+2*ms)
		}
	}
	if s := n.Stats(); s.Delayed == 0 || s.Queued <= s.Delayed || s.Overflows != 0 || s.Held != 0 {
		t.Errorf("Stats = %+v, want some packets delayed, some not, none held or overflowing", s)
	}
}

// TestDelayWithTraffic checks the RTT while another flow keeps the queue
// busy. Every path is delayed, so the router reads its queue on a schedule
// rather than per packet.
func TestDelayWithTraffic(t *testing.T) {
	ms := time.Millisecond
	n := newNetwork(t, []HostSpec{
		{Name: "a", Up: Link{Delay: 20 * ms}, Down: Link{Delay: 20 * ms}},
		{Name: "b", Up: Link{Delay: 20 * ms}, Down: Link{Delay: 20 * ms}},
		{Name: "c", Up: Link{Delay: 2 * ms}, Down: Link{Delay: 2 * ms}},
		{Name: "d", Up: Link{Delay: 2 * ms}, Down: Link{Delay: 2 * ms}},
	})
	go echo(listen(t, n, "b", 7000))
	sink := listen(t, n, "d", 7000)
	go collect(sink, time.Second)
	src := listen(t, n, "c", 0)
	done := make(chan struct{})
	go func() {
		defer close(done)
		// About 5000 datagrams a second for 3 s.
		to := netip.AddrPortFrom(n.Host("d").Addr, 7000)
		msg := make([]byte, 200)
		for range 3000 {
			for range 5 {
				src.WriteToUDPAddrPort(msg, to)
			}
			time.Sleep(ms)
		}
	}()
	ca := listen(t, n, "a", 0)
	to := netip.AddrPortFrom(n.Host("b").Addr, 7000)
	warmUp(t, ca, to)
	got := pingMedian(t, ca, to, 21)
	<-done
	s := n.Stats()
	t.Logf("%+v", s)
	if got < 80*ms || got > 82*ms {
		t.Errorf("median RTT %v beside other traffic, want 80ms to 82ms", got)
	}
	if s.Queued < 5000 || s.Overflows != 0 {
		t.Errorf("Stats = %+v, want thousands queued and no overflows", s)
	}
}

func TestNoQueueBaseline(t *testing.T) {
	n := newNetwork(t, []HostSpec{{Name: "a"}, {Name: "b"}})
	go echo(listen(t, n, "b", 7000))
	ca := listen(t, n, "a", 0)
	to := netip.AddrPortFrom(n.Host("b").Addr, 7000)
	warmUp(t, ca, to)
	if got := pingMedian(t, ca, to, 21); got > time.Millisecond {
		t.Errorf("median RTT %v without impairments, want under 1ms", got)
	}
	if s := n.Stats(); s != (Stats{}) {
		t.Errorf("Stats = %+v without a queue, want zero", s)
	}
}

// collect reads datagrams carrying a big-endian sequence number from c
// until idle passes without one, and returns the numbers in arrival order.
func collect(c *net.UDPConn, idle time.Duration) []uint32 {
	var seqs []uint32
	buf := make([]byte, 2048)
	for {
		c.SetReadDeadline(time.Now().Add(idle))
		n, _, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return seqs
		}
		if n >= 4 {
			seqs = append(seqs, binary.BigEndian.Uint32(buf))
		}
	}
}

// sendSeq sends count numbered datagrams of size bytes from c to to, in
// bursts of burst with a pause in between so that no socket buffer fills.
func sendSeq(t *testing.T, c *net.UDPConn, to netip.AddrPort, count, size, burst int, pause time.Duration) {
	t.Helper()
	msg := make([]byte, size)
	for i := range count {
		binary.BigEndian.PutUint32(msg, uint32(i))
		if _, err := c.WriteToUDPAddrPort(msg, to); err != nil {
			t.Fatal(err)
		}
		if (i+1)%burst == 0 {
			time.Sleep(pause)
		}
	}
}

func TestLoss(t *testing.T) {
	n := newNetwork(t, []HostSpec{{Name: "a", Up: Link{Loss: 0.2}}, {Name: "b"}})
	rb := listen(t, n, "b", 7000)
	ca := listen(t, n, "a", 0)
	const count = 2000
	got := make(chan []uint32)
	go func() { got <- collect(rb, 500*time.Millisecond) }()
	sendSeq(t, ca, netip.AddrPortFrom(n.Host("b").Addr, 7000), count, 100, 50, time.Millisecond)
	received := len(<-got)
	s := n.Stats()
	loss := 1 - float64(received)/count
	t.Logf("received %d of %d (loss %.3f); %+v", received, count, loss, s)
	if loss < 0.17 || loss > 0.23 {
		t.Errorf("loss %.3f, want 0.20 ± 0.03", loss)
	}
	if int(s.Dropped)+received != count {
		t.Errorf("Stats.Dropped = %d, received %d: want them to add up to %d", s.Dropped, received, count)
	}
}

func TestJitterOrder(t *testing.T) {
	ms := time.Millisecond
	n := newNetwork(t, []HostSpec{
		{Name: "fifo", Up: Link{Delay: 5 * ms, Jitter: 10 * ms}},
		{Name: "shuffle", Up: Link{Delay: 5 * ms, Jitter: 10 * ms, Reorder: 0.5}},
		{Name: "sink"},
	})
	to := netip.AddrPortFrom(n.Host("sink").Addr, 7000)
	rx := listen(t, n, "sink", 7000)
	for _, c := range []struct {
		host    string
		ordered bool
	}{{"fifo", true}, {"shuffle", false}} {
		tx := listen(t, n, c.host, 0)
		got := make(chan []uint32)
		go func() { got <- collect(rx, 300*time.Millisecond) }()
		sendSeq(t, tx, to, 500, 100, 5, time.Millisecond)
		seqs := <-got
		if len(seqs) != 500 {
			t.Errorf("%s: received %d of 500", c.host, len(seqs))
		}
		if ordered := slices.IsSorted(seqs); ordered != c.ordered {
			t.Errorf("%s: arrival in order = %v, want %v", c.host, ordered, c.ordered)
		}
	}
}

func TestRate(t *testing.T) {
	n := newNetwork(t, []HostSpec{{Name: "a"}, {Name: "b", Down: Link{Rate: 10_000_000}}})
	rb := listen(t, n, "b", 7000)
	ca := listen(t, n, "a", 0)
	type result struct {
		bytes       int
		first, last time.Time
	}
	got := make(chan result)
	go func() {
		var r result
		buf := make([]byte, 2048)
		for {
			rb.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			n, _, err := rb.ReadFromUDPAddrPort(buf)
			if err != nil {
				got <- r
				return
			}
			now := time.Now()
			if r.first.IsZero() {
				r.first = now
			} else {
				r.bytes += n // bytes after the first datagram, over last-first
			}
			r.last = now
		}
	}()
	// Offer 20 Mbit/s of 1200-byte datagrams for 2 s.
	const size, offered, dur = 1200, 20e6, 2 * time.Second
	msg := make([]byte, size)
	to := netip.AddrPortFrom(n.Host("b").Addr, 7000)
	start := time.Now()
	sent := 0
	for el := time.Duration(0); el < dur; el = time.Since(start) {
		for float64(sent*size*8) < el.Seconds()*offered {
			ca.WriteToUDPAddrPort(msg, to)
			sent++
		}
		time.Sleep(time.Millisecond)
	}
	r := <-got
	mbps := float64(r.bytes) * 8 / r.last.Sub(r.first).Seconds() / 1e6
	t.Logf("10 Mbit/s link carried %.2f Mbit/s of UDP payload (%d datagrams sent)", mbps, sent)
	if mbps < 8.5 || mbps > 10.5 {
		t.Errorf("throughput %.2f Mbit/s, want 8.5 to 10.5", mbps)
	}
}

// exchange sends "ping" from c to to and reports whether it arrives at rx
// within wait, and from where.
func exchange(c, rx *net.UDPConn, to netip.AddrPort, wait time.Duration) (netip.AddrPort, bool) {
	c.WriteToUDPAddrPort([]byte("ping"), to)
	buf := make([]byte, 64)
	rx.SetReadDeadline(time.Now().Add(wait))
	_, from, err := rx.ReadFromUDPAddrPort(buf)
	return from, err == nil
}

func TestNAT(t *testing.T) {
	n := newNetwork(t, []HostSpec{
		{Name: "pub"},
		{Name: "pr", NAT: NATPortRestricted},
		{Name: "fc", NAT: NATFullCone},
		{Name: "sym", NAT: NATSymmetric},
	})
	pub := listen(t, n, "pub", 5000)
	other := listen(t, n, "pub", 5001)
	pubAt := netip.AddrPortFrom(n.Host("pub").Addr, 5000)
	otherAt := netip.AddrPortFrom(n.Host("pub").Addr, 5001)
	const wait = 300 * time.Millisecond
	for _, c := range []struct {
		host   string
		opened bool // whether a third port can reach the host once it sent
	}{{"pr", false}, {"fc", true}} {
		h := n.Host(c.host)
		if h.Addr == h.LocalAddr || !h.LocalAddr.Is4() || h.LocalAddr.As4()[0] != 192 {
			t.Fatalf("%s: Addr %v, LocalAddr %v: want a 192.168 address inside", c.host, h.Addr, h.LocalAddr)
		}
		in := listen(t, n, c.host, 6000)
		mapped := netip.AddrPortFrom(h.Addr, 6000)
		if c.host == "pr" {
			if _, ok := exchange(other, in, mapped, wait); ok {
				t.Errorf("%s: unsolicited packet reached the host", c.host)
			}
		}
		from, ok := exchange(in, pub, pubAt, wait)
		if !ok {
			t.Fatalf("%s: packet to the public host lost", c.host)
		}
		if from.Addr() != h.Addr {
			t.Errorf("%s: public host sees %v, want the NAT's address %v", c.host, from, h.Addr)
		}
		if _, ok := exchange(pub, in, from, wait); !ok {
			t.Errorf("%s: reply from the contacted address and port lost", c.host)
		}
		if _, ok := exchange(other, in, from, wait); ok != c.opened {
			t.Errorf("%s: packet from another port arrived = %v, want %v", c.host, ok, c.opened)
		}
	}

	// A symmetric NAT maps one socket to different ports per destination.
	in := listen(t, n, "sym", 6000)
	from1, ok1 := exchange(in, pub, pubAt, wait)
	from2, ok2 := exchange(in, other, otherAt, wait)
	if !ok1 || !ok2 {
		t.Fatalf("sym: packets to the public host lost: %v %v", ok1, ok2)
	}
	if from1.Addr() != n.Host("sym").Addr || from1.Port() == from2.Port() {
		t.Errorf("sym: seen as %v and %v, want the NAT's address with two ports", from1, from2)
	}
}

func TestCommandAndDo(t *testing.T) {
	n := newNetwork(t, []HostSpec{{Name: "a"}, {Name: "b", NAT: NATFullCone}})
	for _, h := range n.Hosts() {
		out, err := n.Command(context.Background(), h.Name, "ip", "-4", "-o", "addr", "show", "dev", "eth0").Output()
		if err != nil {
			t.Fatalf("%s: %v", h.Name, err)
		}
		if !strings.Contains(string(out), " "+h.LocalAddr.String()+"/24 ") {
			t.Errorf("%s: eth0 has %q, want %v", h.Name, out, h.LocalAddr)
		}
	}
	// Neighbours are static: no ARP, and nothing for the kernel's
	// neighbour table limit to count.
	out, err := n.Command(context.Background(), "a", "ip", "neigh", "show", "dev", "eth0").Output()
	if err != nil || !strings.Contains(string(out), "PERMANENT") {
		t.Errorf("neighbours of a: %q, %v; want a permanent entry", out, err)
	}
	if err := n.Command(context.Background(), "nope", "true").Run(); err == nil {
		t.Error("Command on an unknown host ran")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := n.Command(ctx, "a", "sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := cmd.Wait(); err == nil {
		t.Error("sleep exited cleanly after cancel")
	}
	sentinel := errors.New("from f")
	if err := n.Do("a", func() error { return sentinel }); err != sentinel {
		t.Errorf("Do returned %v, want f's error", err)
	}
	if err := n.Do("nope", func() error { return nil }); err == nil {
		t.Error("Do on an unknown host succeeded")
	}
}

func TestCloseRemovesNamespaces(t *testing.T) {
	needLab(t)
	n, err := New(context.Background(), []HostSpec{
		{Name: "a", Up: Link{Delay: time.Millisecond, Rate: 1e6}},
		{Name: "b", NAT: NATSymmetric},
	}, Options{Prefix: "nslabclose"})
	if err != nil {
		t.Fatal(err)
	}
	names := slices.Clone(n.namespaces)
	if len(names) != 4 || len(existing(names)) != 4 {
		t.Fatalf("namespaces %v, existing %v: want 4", names, existing(names))
	}
	// A process left running in a host must not keep it alive.
	cmd := n.Command(context.Background(), "a", "sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return inNamespace(cmd.Process.Pid, n.Host("a").Netns) })
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if left := existing(names); len(left) != 0 {
		t.Errorf("after Close, namespaces %v remain", left)
	}
	if err := n.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestNewFailsCleanly(t *testing.T) {
	needLab(t)
	const prefix = "nslabfail"
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if n, err := New(ctx, []HostSpec{{Name: "a"}}, Options{Prefix: prefix}); err == nil {
		n.Close()
		t.Fatal("New with a cancelled context succeeded")
	}
	// Make New fail halfway: the namespace of its second host exists.
	taken := fmt.Sprintf("%s%d-%d-h-b", prefix, os.Getpid(), instances.Load()+1)
	if err := run(context.Background(), "", "ip", "netns", "add", taken); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteNamespaces([]string{taken}, slog.New(slog.DiscardHandler)) })
	n, err := New(context.Background(), []HostSpec{{Name: "a"}, {Name: "b"}, {Name: "c"}}, Options{Prefix: prefix})
	if err == nil {
		n.Close()
		t.Fatal("New succeeded although a namespace name was taken")
	}
	t.Logf("New failed as expected: %v", err)
	if left := matching(prefix); len(left) != 0 {
		t.Errorf("failed New left namespaces %v", left)
	}
}

// matching lists the namespaces whose names start with prefix.
func matching(prefix string) []string {
	entries, _ := os.ReadDir(nsDir)
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestCleanup(t *testing.T) {
	needLab(t)
	const prefix = "nslabclean"
	// A PID that is certainly dead: a process that ran and was reaped.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	stale := prefix + strconv.Itoa(dead.Process.Pid) + "-1-h-x"
	live := prefix + strconv.Itoa(os.Getpid()) + "-99-r"
	for _, ns := range []string{stale, live} {
		if err := run(context.Background(), "", "ip", "netns", "add", ns); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { deleteNamespaces([]string{stale, live}, slog.New(slog.DiscardHandler)) })
	// A process left in the stale namespace is killed first.
	sleeper := exec.Command("ip", "netns", "exec", stale, "sleep", "30")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return inNamespace(sleeper.Process.Pid, stale) })
	removed, err := Cleanup(prefix, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(removed, []string{stale}) {
		t.Errorf("Cleanup removed %v, want [%s]", removed, stale)
	}
	if err := sleeper.Wait(); err == nil {
		t.Error("process in the stale namespace was not killed")
	}
	if got := matching(prefix); !slices.Equal(got, []string{live}) {
		t.Errorf("namespaces left %v, want [%s]", got, live)
	}
}

// inNamespace reports whether process pid runs in namespace ns.
func inNamespace(pid int, ns string) bool {
	a, err1 := os.Stat(filepath.Join(nsDir, ns))
	b, err2 := os.Stat("/proc/" + strconv.Itoa(pid) + "/ns/net")
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not reached in 5s")
}

func TestScale(t *testing.T) {
	const count = 50
	var specs []HostSpec
	for i := range count {
		s := HostSpec{Name: "h" + strconv.Itoa(i)}
		switch i % 5 {
		case 1:
			s.Up.Delay = 5 * time.Millisecond
		case 2:
			s.Down.Rate = 20e6
		case 3:
			s.NAT = NATPortRestricted
		}
		specs = append(specs, s)
	}
	needLab(t)
	start := time.Now()
	n, err := New(context.Background(), specs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	built := time.Since(start)
	// First and last host can talk.
	go echo(listen(t, n, specs[count-1].Name, 7000))
	c := listen(t, n, specs[0].Name, 0)
	if _, ok := exchange(c, c, netip.AddrPortFrom(n.Hosts()[count-1].Addr, 7000), time.Second); !ok {
		t.Error("no echo across the network")
	}
	start = time.Now()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d hosts (%d behind NAT) built in %v, removed in %v", count, count/5, built.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}
