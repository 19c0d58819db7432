package ppspp

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nextshare/nextshare/internal/ppspp/wire"
	"github.com/nextshare/nextshare/internal/simnet"
)

// The libswift capture testdata/vod-4097-payloads.tsv is a complete
// download of a 4,097-byte file (byte i = (i*7+3) % 251) between a libswift
// seeder on port 20000 and a libswift leecher on port 37194. These tests
// replay one side of it against our engine.

const (
	swiftLeecherChan = 0xe3813f80
	swiftSeederChan  = 0xe37f9bbe
	swiftRoot        = "7b72db4d084873f536c5972c0276f45fae2dd3fc"
)

type frame struct {
	num     int
	fromSrc bool // sent by the seeder
	payload []byte
}

func loadCapture(t *testing.T) map[int]frame {
	f, err := os.Open("testdata/vod-4097-payloads.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	frames := map[int]frame{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) != 5 {
			continue
		}
		var num int
		for _, ch := range cols[0] {
			num = num*10 + int(ch-'0')
		}
		p, err := hex.DecodeString(cols[4])
		if err != nil {
			t.Fatal(err)
		}
		frames[num] = frame{num: num, fromSrc: cols[2] == "20000", payload: p}
	}
	return frames
}

func contentRule(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((i*7 + 3) % 251)
	}
	return b
}

// withChannel returns a copy of datagram d addressed to channel ch.
func withChannel(d []byte, ch uint32) []byte {
	b := append([]byte(nil), d...)
	binary.BigEndian.PutUint32(b, ch)
	return b
}

// TestLibswiftSeederReplay plays libswift's seeder datagrams to our
// downloader, which must accept its handshake, peaks, uncles and data and
// finish with the right bytes.
func TestLibswiftSeederReplay(t *testing.T) {
	frames := loadCapture(t)
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		n := simnet.New(1)
		defer n.Close()
		h := n.AddHost(netip.MustParseAddr("127.0.0.2"), simnet.LinkConfig{}, simnet.LinkConfig{})
		swift, _ := h.Listen(20000)
		defer swift.Close()
		leech := startNode(t, n, "127.0.0.1", simnet.LinkConfig{}, simnet.LinkConfig{}, Config{})
		defer leech.e.Close()
		root, _ := hex.DecodeString(swiftRoot)
		out := filepath.Join(dir, "out")
		s, c := download(t, leech, root, out, swift.LocalAddrPort())
		t.Cleanup(func() { c.Close() }) // after the engine: a running engine checkpoints it

		buf := make([]byte, 2048)
		nn, from, err := swift.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatal(err)
		}
		// Our handshake must carry exactly libswift's option set.
		var rd wire.Reader
		var m wire.Msg
		if ch, _ := rd.Reset(buf[:nn], wire.DefaultParams); ch != 0 || !rd.Next(&m) || m.Type != wire.TypeHandshake {
			t.Fatalf("first datagram is not an opening handshake: %x", buf[:nn])
		}
		o := m.Handshake.Options
		if o.Present != 1<<0|1<<1|1<<2|1<<3|1<<4|1<<6 || o.Version != 1 || o.ChunkAddr != wire.ChunkRange32 ||
			o.IntegrityMethod != 1 || o.HashFunc != 0 || !bytes.Equal(o.SwarmID, root) {
			t.Fatalf("handshake options %+v", o)
		}
		ours := m.Handshake.SrcChannel
		if byte(ours>>24) == 'd' {
			t.Fatalf("channel ID %08x starts with 'd'", ours)
		}
		// Frame 2: libswift's reply (handshake + HAVEs).
		swift.WriteToUDPAddrPort(withChannel(frames[2].payload, ours), from)
		// Wait for our first REQUEST, then send the data frames in order.
		sawRequest := false
		for !sawRequest {
			swift.SetReadDeadline(time.Now().Add(5 * time.Second))
			nn, _, err := swift.ReadFromUDPAddrPort(buf)
			if err != nil {
				t.Fatal("no REQUEST from our downloader:", err)
			}
			rd.Reset(buf[:nn], wire.DefaultParams)
			for rd.Next(&m) {
				sawRequest = sawRequest || m.Type == wire.TypeRequest
			}
		}
		for _, num := range []int{4, 6, 9, 10, 13} {
			swift.WriteToUDPAddrPort(withChannel(frames[num].payload, ours), from)
		}
		if !waitDone(t, s, 10*time.Second) {
			info := s.Info()
			t.Fatalf("incomplete: %d/%d chunks, stats %+v", info.HaveChunks, info.NumChunks, leech.e.Stats().Snapshot())
		}
		checkFile(t, out, contentRule(4097))
	})
}

// TestLibswiftLeecherReplay plays libswift's leecher datagrams to our
// seeder and checks the reply has libswift's shape: handshake with the same
// methods and HAVEs of the peaks, then peaks, uncles largest first, and
// DATA.
func TestLibswiftLeecherReplay(t *testing.T) {
	frames := loadCapture(t)
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		src := filepath.Join(dir, "det-4097")
		os.WriteFile(src, contentRule(4097), 0o644)
		n := simnet.New(1)
		defer n.Close()
		seeder := startNode(t, n, "127.0.0.1", simnet.LinkConfig{}, simnet.LinkConfig{}, Config{})
		defer seeder.e.Close()
		sw := seed(t, seeder, src)
		if hex.EncodeToString(sw.Root()) != swiftRoot {
			t.Fatalf("root %x, libswift says %s", sw.Root(), swiftRoot)
		}
		h := n.AddHost(netip.MustParseAddr("127.0.0.2"), simnet.LinkConfig{}, simnet.LinkConfig{})
		swift, _ := h.Listen(37194)
		defer swift.Close()

		swift.WriteToUDPAddrPort(frames[1].payload, seeder.addr)
		buf := make([]byte, 2048)
		nn, _, err := swift.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatal(err)
		}
		var rd wire.Reader
		var m wire.Msg
		ch, _ := rd.Reset(buf[:nn], wire.DefaultParams)
		if ch != swiftLeecherChan || !rd.Next(&m) || m.Type != wire.TypeHandshake {
			t.Fatalf("reply %x", buf[:nn])
		}
		o := m.Handshake.Options
		if o.Has(8) || o.Has(9) || o.Version != 1 || o.IntegrityMethod != 1 || o.HashFunc != 0 || o.ChunkAddr != wire.ChunkRange32 {
			t.Fatalf("reply options %+v", o)
		}
		ours := m.Handshake.SrcChannel
		var haves []string
		for rd.Next(&m) {
			if m.Type == wire.TypeHave {
				haves = append(haves, m.Range.String())
			}
		}
		// libswift itself sends aligned bins, [0..3] [4..4]; it takes a
		// chunk range of any shape apart into bins on receipt, so one
		// message for the run says the same in fewer bytes.
		if strings.Join(haves, " ") != "[0..4]" {
			t.Fatalf("HAVEs %v, want [0..4]", haves)
		}
		// Frame 3: REQUEST [0..0] + PEX_REQ.
		swift.WriteToUDPAddrPort(withChannel(frames[3].payload, ours), seeder.addr)
		var got []string
		for len(got) == 0 || !strings.HasPrefix(got[len(got)-1], "DATA") {
			swift.SetReadDeadline(time.Now().Add(5 * time.Second))
			nn, _, err := swift.ReadFromUDPAddrPort(buf)
			if err != nil {
				t.Fatalf("after %v: %v", got, err)
			}
			rd.Reset(buf[:nn], wire.DefaultParams)
			for rd.Next(&m) {
				switch m.Type {
				case wire.TypeIntegrity:
					got = append(got, "INTEGRITY "+m.Range.String()+" "+hex.EncodeToString(m.Hash)[:8])
				case wire.TypeData:
					if !bytes.Equal(m.Payload, contentRule(4097)[:1024]) {
						t.Fatal("DATA [0..0] payload differs from the content")
					}
					got = append(got, "DATA "+m.Range.String())
				}
			}
		}
		want := "INTEGRITY [0..3] cc89c5a8|INTEGRITY [4..4] 21606782|INTEGRITY [2..3] 0dd6faa7|INTEGRITY [1..1] 15971f3f|DATA [0..0]"
		if strings.Join(got, "|") != want {
			t.Fatalf("got  %s\nwant %s", strings.Join(got, "|"), want)
		}
	})
}
