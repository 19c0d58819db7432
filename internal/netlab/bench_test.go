package netlab

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// helperEnv makes the test binary act as a traffic generator in a host
// namespace (see helperMain), so that the benchmark's own CPU time is the
// router's alone.
const helperEnv = "NETLAB_TEST_HELPER"

// helperMain runs one of
//
//	send ADDR:PORT BITS_PER_SECOND DURATION SIZE
//	recv PORT DURATION
//
// The receiver prints "ready", then after DURATION "BYTES SPAN_NS": the
// bytes received after the first datagram and the time from the first to
// the last.
func helperMain() int {
	args := strings.Fields(os.Getenv(helperEnv))
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	switch {
	case len(args) == 5 && args[0] == "send":
		to, err1 := netip.ParseAddrPort(args[1])
		rate, err2 := strconv.ParseFloat(args[2], 64)
		dur, err3 := time.ParseDuration(args[3])
		size, err4 := strconv.Atoi(args[4])
		if err := firstErr(err1, err2, err3, err4); err != nil {
			return fail(err)
		}
		c, err := net.ListenUDP("udp4", nil)
		if err != nil {
			return fail(err)
		}
		msg := make([]byte, size)
		start := time.Now()
		sent := 0
		for el := time.Duration(0); el < dur; el = time.Since(start) {
			for float64(sent*size*8) < el.Seconds()*rate {
				c.WriteToUDPAddrPort(msg, to)
				sent++
			}
			time.Sleep(time.Millisecond)
		}
		return 0
	case len(args) == 3 && args[0] == "recv":
		port, err1 := strconv.Atoi(args[1])
		dur, err2 := time.ParseDuration(args[2])
		if err := firstErr(err1, err2); err != nil {
			return fail(err)
		}
		c, err := net.ListenUDP("udp4", &net.UDPAddr{Port: port})
		if err != nil {
			return fail(err)
		}
		fmt.Println("ready")
		c.SetReadDeadline(time.Now().Add(dur))
		var first, last time.Time
		total := 0
		buf := make([]byte, 2048)
		for {
			n, _, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				break
			}
			last = time.Now()
			if first.IsZero() {
				first = last
			} else {
				total += n
			}
		}
		fmt.Println(total, last.Sub(first).Nanoseconds())
		return 0
	}
	return fail(fmt.Errorf("bad arguments %q", args))
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkRouter pushes UDP between 4 pairs of hosts (separate processes)
// through a 10 ms path delay for 3 s and reports the aggregate throughput,
// the packet rate and the CPU time the router's queue used, as a percentage
// of one core. One iteration takes 3 s; run with -benchtime=1x.
func BenchmarkRouter(b *testing.B) {
	const (
		pairs   = 4
		perPair = 40e6 // offered bits per second
		size    = 1400
		dur     = 3 * time.Second
	)
	ms := time.Millisecond
	var specs []HostSpec
	for i := range pairs {
		specs = append(specs,
			HostSpec{Name: "s" + strconv.Itoa(i), Up: Link{Delay: 5 * ms}, Down: Link{Delay: 5 * ms}},
			HostSpec{Name: "r" + strconv.Itoa(i), Up: Link{Delay: 5 * ms}, Down: Link{Delay: 5 * ms}})
	}
	n := newNetwork(b, specs)
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for range b.N {
		var outs []*bufio.Scanner
		var waits []func() error
		for i := range pairs {
			cmd := n.Command(ctx, "r"+strconv.Itoa(i), exe, "-test.run=^$")
			cmd.Env = append(os.Environ(), fmt.Sprintf("%s=recv 7000 %v", helperEnv, dur+2*time.Second))
			out, err := cmd.StdoutPipe()
			if err != nil {
				b.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			sc := bufio.NewScanner(out)
			if !sc.Scan() || sc.Text() != "ready" {
				b.Fatalf("receiver %d did not start: %v", i, sc.Err())
			}
			outs = append(outs, sc)
			waits = append(waits, cmd.Wait)
		}
		before, start := rusage(b), time.Now()
		var senders []func() error
		for i := range pairs {
			to := netip.AddrPortFrom(n.Host("r"+strconv.Itoa(i)).Addr, 7000)
			cmd := n.Command(ctx, "s"+strconv.Itoa(i), exe, "-test.run=^$")
			cmd.Env = append(os.Environ(), fmt.Sprintf("%s=send %v %v %v %d", helperEnv, to, perPair, dur, size))
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			senders = append(senders, cmd.Wait)
		}
		for _, w := range senders {
			if err := w(); err != nil {
				b.Fatal("sender:", err)
			}
		}
		time.Sleep(50 * ms) // the last packets leave the queue
		cpu, wall := rusage(b)-before, time.Since(start)
		var bits float64
		for i, sc := range outs {
			var bytes, span int64
			if !sc.Scan() {
				b.Fatalf("receiver %d: no result: %v", i, sc.Err())
			}
			if _, err := fmt.Sscan(sc.Text(), &bytes, &span); err != nil || span <= 0 {
				b.Fatalf("receiver %d: result %q: %v", i, sc.Text(), err)
			}
			bits += float64(bytes*8) / time.Duration(span).Seconds()
			if err := waits[i](); err != nil {
				b.Fatal("receiver:", err)
			}
		}
		s := n.Stats()
		b.ReportMetric(bits/1e6, "Mbit/s")
		b.ReportMetric(float64(s.Queued)/wall.Seconds(), "pkt/s")
		b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "cpu%")
		b.Logf("offered %.0f Mbit/s, delivered %.1f Mbit/s; router CPU %v in %v; %+v",
			pairs*perPair/1e6, bits/1e6, cpu.Round(ms), wall.Round(ms), s)
	}
}

// rusage returns the CPU time (user + system) this process has used.
func rusage(b *testing.B) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
