package relay

import (
	"net"
	"sort"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// echo answers every datagram with itself.
func echo(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			c.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	return c
}

// The round trip through the relay is twice the configured delay, within
// two milliseconds.
func TestDelay(t *testing.T) {
	e := echo(t)
	defer e.Close()
	const delay = 25 * time.Millisecond
	r, err := Start(Config{Target: e.LocalAddr().(*net.UDPAddr).AddrPort(), Delay: delay})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(r.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var rtts []time.Duration
	buf := make([]byte, 100)
	for range 20 {
		start := time.Now()
		c.Write([]byte("ping"))
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
		rtts = append(rtts, time.Since(start))
	}
	sort.Slice(rtts, func(i, j int) bool { return rtts[i] < rtts[j] })
	t.Logf("round trips: min %v, median %v, max %v", rtts[0], rtts[len(rtts)/2], rtts[len(rtts)-1])
	// Never early; the best round trip within 2 ms of the configured one (a
	// loaded machine delays some wake-ups, not all).
	if rtts[0] < 2*delay || rtts[0] > 2*delay+2*time.Millisecond {
		t.Errorf("shortest round trip %v, want %v within 2 ms", rtts[0], 2*delay)
	}
}

// The link's schedule: back-to-back datagrams leave size/rate apart and are
// delivered Delay after leaving; what exceeds the queue is refused.
func TestLineSchedule(t *testing.T) {
	r := &Relay{cfg: Config{Rate: 1_000_000, Delay: 10 * time.Millisecond, Queue: 5_000}}
	l := newLine(r, nil)
	now := time.Unix(1000, 0)
	for i := range 5 {
		if !l.push(make([]byte, 1000), now) {
			t.Fatalf("datagram %d refused with room in the queue", i)
		}
	}
	if l.push(make([]byte, 1000), now) {
		t.Fatal("a datagram beyond the 5,000-byte queue was accepted")
	}
	for i, p := range l.q {
		wantOut := now.Add(time.Duration(i+1) * time.Millisecond)
		if !p.out.Equal(wantOut) || !p.due.Equal(wantOut.Add(10*time.Millisecond)) {
			t.Errorf("datagram %d leaves %v and arrives %v; want %v and %v",
				i, p.out.Sub(now), p.due.Sub(now), wantOut.Sub(now), wantOut.Add(10*time.Millisecond).Sub(now))
		}
	}
	// Once the link has drained, a datagram leaves at once.
	later := now.Add(time.Second)
	if !l.push(make([]byte, 500), later) {
		t.Fatal("refused on an idle link")
	}
	if p := l.q[len(l.q)-1]; !p.out.Equal(later.Add(500 * time.Microsecond)) {
		t.Errorf("on an idle link the datagram leaves after %v, want 500µs", p.out.Sub(later))
	}
}
