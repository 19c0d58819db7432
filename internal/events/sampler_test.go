package events

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nextshare/nextshare/internal/merkle"
	"github.com/nextshare/nextshare/internal/ppspp"
	"github.com/nextshare/nextshare/internal/simnet"
)

// engine starts a PPSPP engine on a simulated host.
func engine(t *testing.T, n *simnet.Network, ip string, link simnet.LinkConfig) *ppspp.Engine {
	t.Helper()
	c, err := n.AddHost(netip.MustParseAddr(ip), link, link).Listen(7574)
	if err != nil {
		t.Fatal(err)
	}
	e, err := ppspp.New(ppspp.Config{Conn: c})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func addSwarm(t *testing.T, e *ppspp.Engine, c *ppspp.Content, err error) *ppspp.Swarm {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s, err := e.AddSwarm(c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSampler logs both ends of a download over a simulated 2 MB/s link.
func TestSampler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		const size = 200_000
		data := bytes.Repeat([]byte("0123456789abcdef"), size/16)
		src := filepath.Join(dir, "src")
		if err := os.WriteFile(src, data, 0o644); err != nil {
			t.Fatal(err)
		}
		n := simnet.New(1)
		defer n.Close()
		link := simnet.LinkConfig{Delay: 10 * time.Millisecond, Rate: 2e6}
		se := engine(t, n, "10.0.0.1", link)
		le := engine(t, n, "10.0.0.2", link)
		c, err := ppspp.SeedFile(src, merkle.SHA1, 1024)
		ss := addSwarm(t, se, c, err)
		c, err = ppspp.OpenDownload(filepath.Join(dir, "out"), ss.Root(), merkle.SHA1, 1024)
		ls := addSwarm(t, le, c, err)

		var seedLog, getLog bytes.Buffer
		seedS, err := Start(NewWriter(&seedLog), Source{Role: "seed", Engine: se, Swarm: ss}, 0)
		if err != nil {
			t.Fatal(err)
		}
		getS, err := Start(NewWriter(&getLog), Source{Role: "get", Engine: le, Swarm: ls}, 20*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := le.Connect(ls, netip.MustParseAddrPort("10.0.0.1:7574")); err != nil {
			t.Fatal(err)
		}
		<-ls.Done()
		took := time.Since(start)
		if err := getS.Stop(nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		if err := seedS.Stop(errors.New("killed")); err != nil {
			t.Fatal(err)
		}
		if err := seedS.Stop(nil); err != nil {
			t.Errorf("second Stop: %v", err)
		}

		recs, st, err := Read(&getLog)
		if err != nil || st.Skipped() != 0 {
			t.Fatalf("get log: %+v, %v", st, err)
		}
		evs := evCounts(t, recs)
		// A sample every 20 ms of the transfer, give or take one.
		if evs[EvStart] != 1 || evs[EvComplete] != 1 || evs[EvExit] != 1 || evs[EvSample] < int(took/(20*time.Millisecond))-1 {
			t.Errorf("get log events %v over %v", evs, took)
		}
		first, last := recs[0], recs[len(recs)-1]
		if first.Role != "get" || first.Addr != "10.0.0.2:7574" || first.Root == "" || first.Have != 0 {
			t.Errorf("start %+v", first)
		}
		if last.Ev != EvExit || last.Err != "" || last.Have != last.Chunks || last.Chunks != (size+1023)/1024 ||
			last.Size != size || last.From["10.0.0.1:7574"] != size || last.In["DATA"] < last.Chunks || last.Out["REQUEST"] == 0 {
			t.Errorf("exit %+v", last)
		}
		if recs[len(recs)-2].Ev != EvComplete {
			t.Errorf("record before exit: %+v", recs[len(recs)-2])
		}
		inProgress := 0
		for _, r := range recs {
			if r.Ev == EvSample && r.Have > 0 && r.Have < r.Chunks {
				inProgress++
			}
		}
		if inProgress == 0 {
			t.Error("no sample caught the download in progress")
		}
		t.Logf("download took %v; get log: %v, %d samples in progress", took, evs, inProgress)

		recs, st, err = Read(&seedLog)
		if err != nil || st.Skipped() != 0 {
			t.Fatalf("seed log: %+v, %v", st, err)
		}
		evs = evCounts(t, recs)
		if recs[0].Ev != EvStart || recs[1].Ev != EvComplete || evs[EvComplete] != 1 || evs[EvSample] < 4 {
			t.Errorf("seed log events %v", evs)
		}
		last = recs[len(recs)-1]
		if last.Ev != EvExit || last.Err != "killed" || last.To["10.0.0.2:7574"] < size || last.Out["DATA"] < last.Chunks || last.BytesOut < size {
			t.Errorf("seed exit %+v", last)
		}
	})
}

// evCounts counts records by event and checks time never goes back.
func evCounts(t *testing.T, recs []Record) map[string]int {
	t.Helper()
	m := map[string]int{}
	for i, r := range recs {
		m[r.Ev]++
		if i > 0 && r.T < recs[i-1].T {
			t.Errorf("record %d at %d, before %d", i, r.T, recs[i-1].T)
		}
	}
	return m
}

// TestSamplerEngineClosed checks that a sampler stopped after its engine
// closed still writes the last known state.
func TestSamplerEngineClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		src := filepath.Join(dir, "src")
		if err := os.WriteFile(src, make([]byte, 5000), 0o644); err != nil {
			t.Fatal(err)
		}
		n := simnet.New(1)
		defer n.Close()
		e := engine(t, n, "10.0.0.1", simnet.LinkConfig{})
		c, err := ppspp.SeedFile(src, merkle.SHA1, 1024)
		s := addSwarm(t, e, c, err)
		var log bytes.Buffer
		sm, err := Start(NewWriter(&log), Source{Role: "seed", Engine: e, Swarm: s}, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		e.Close()
		if err := sm.Stop(nil); err != nil {
			t.Fatal(err)
		}
		recs, _, _ := Read(&log)
		if len(recs) != 3 || recs[2].Ev != EvExit || recs[2].Have != 5 || recs[2].Size != 5000 {
			t.Errorf("records %+v", recs)
		}
	})
}

func TestStartErrors(t *testing.T) {
	if _, err := Start(NewWriter(&bytes.Buffer{}), Source{}, 0); err == nil {
		t.Error("Start without an engine succeeded")
	}
}
