package bench

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary stands in for nextshare: RunTransfer runs
// `<test binary> -test.run=^TestHelperProcess$ -- seed|get ...` and
// TestHelperProcess, seeing fakeEnv, acts out the command-line contract.
//
// Environment of the fake:
//
//	fakeEnv      "1" to act as nextshare
//	fakeSource   the file `get` copies to -o (the runner's source)
//	fakePIDDir   each process writes an empty file named "<role>-<pid>"
//	fakeMode     misbehaviour, one of the fakeMode* constants
const (
	fakeEnv    = "BENCH_FAKE_NEXTSHARE"
	fakeSource = "BENCH_FAKE_SOURCE"
	fakePIDDir = "BENCH_FAKE_PIDDIR"
	fakeMode   = "BENCH_FAKE_MODE"
)

const (
	fakeModeCorrupt    = "corrupt"    // get flips a byte of its output
	fakeModeGetFails   = "getfail"    // get exits 3 with a message
	fakeModeGetHangs   = "gethang"    // get never finishes
	fakeModeNoURI      = "nouri"      // seed never prints its URI
	fakeModeIgnoreTerm = "ignoreterm" // seed ignores SIGTERM
	fakeModeSeedDies   = "seeddies"   // seed exits when contacted
	fakeModeShortJSON  = "shortjson"  // get reports too few bytes
	fakeLifetime       = time.Minute  // a fake never lives longer
	fakeSetupBurn      = 300 * time.Millisecond
	fakeServeBurn      = 100 * time.Millisecond
	fakeGetBurn        = 100 * time.Millisecond
	fakeReplyWait      = 5 * time.Second
	fakeContactRetries = 3
)

// fakeArgPrefix makes the test binary run only TestHelperProcess and pass
// the rest of the arguments to it.
var fakeArgPrefix = []string{"-test.run=^TestHelperProcess$", "--"}

func TestHelperProcess(t *testing.T) {
	if os.Getenv(fakeEnv) != "1" {
		t.Skip("helper process for the fake nextshare binary; not a test by itself")
	}
	args := flag.Args() // what follows "--"
	if len(args) == 0 {
		fakeExit(2, "fake nextshare: no command")
	}
	// A fake must not outlive a broken test run.
	time.AfterFunc(fakeLifetime, func() { fakeExit(9, "fake nextshare: lifetime exceeded") })
	var err error
	switch args[0] {
	case "seed":
		err = fakeSeed(args[1:])
	case "get":
		err = fakeGet(args[1:])
	default:
		err = fmt.Errorf("unknown command %q", args[0])
	}
	if err != nil {
		fakeExit(1, "fake nextshare "+args[0]+": "+err.Error())
	}
	fakeExit(0, "")
}

func fakeExit(code int, msg string) {
	if msg != "" {
		fmt.Fprintln(os.Stderr, msg)
	}
	os.Exit(code)
}

func fakeRecordPID(role string) {
	if dir := os.Getenv(fakePIDDir); dir != "" {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d", role, os.Getpid())), nil, 0o644)
	}
}

// burnCPU spins until this process has used d more CPU time.
func burnCPU(d time.Duration) {
	used := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	end := used() + d
	x := uint64(1)
	for used() < end {
		for range 10000 {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	_ = x
}

// fakeURI is the URI the fake seeder prints for the file at path: the
// SHA-1 of its contents, in the shape of a PPSPP root hash.
func fakeURI(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha1.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return "ppsp://" + hex.EncodeToString(h.Sum(nil)), nil
}

// fakeSeed: `seed --listen 127.0.0.1:PORT FILE`. Burns setup CPU, prints
// noise and the URI, then answers each datagram "burn" on PORT with
// fakeServeBurn of CPU and "ok", until SIGTERM.
func fakeSeed(args []string) error {
	flags := flag.NewFlagSet("seed", flag.ContinueOnError)
	listen := flags.String("listen", "", "")
	noDHT := flags.Bool("no-dht", false, "")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() != 1 || !*noDHT || !strings.HasPrefix(*listen, "127.0.0.1:") {
		return fmt.Errorf("want --no-dht --listen 127.0.0.1:PORT FILE, got %q", args)
	}
	fakeRecordPID("seed")
	mode := os.Getenv(fakeMode)
	term := make(chan os.Signal, 1)
	if mode == fakeModeIgnoreTerm {
		signal.Ignore(syscall.SIGTERM)
	} else {
		signal.Notify(term, syscall.SIGTERM, syscall.SIGINT)
	}
	conn, err := net.ListenPacket("udp4", *listen)
	if err != nil {
		return err
	}
	defer conn.Close()
	uri, err := fakeURI(flags.Arg(0))
	if err != nil {
		return err
	}
	burnCPU(fakeSetupBurn) // CPU before the download must not be counted
	fmt.Println("seeding", flags.Arg(0))
	if mode != fakeModeNoURI {
		fmt.Printf("ready: %s\n", uri)
	}
	buf := make([]byte, 64)
	for {
		select {
		case <-term:
			return nil
		default:
		}
		conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		n, from, err := conn.ReadFrom(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		if err != nil {
			return err
		}
		if string(buf[:n]) != "burn" {
			continue
		}
		if mode == fakeModeSeedDies {
			conn.WriteTo([]byte("dying"), from)
			return errors.New("contacted; dying as told")
		}
		burnCPU(fakeServeBurn)
		if _, err := conn.WriteTo([]byte("ok"), from); err != nil {
			return err
		}
	}
}

// fakeGet: `get --peer 127.0.0.1:PORT -o PATH --json URI`. Contacts the
// seeder (which burns CPU), burns its own, copies $BENCH_FAKE_SOURCE to
// PATH, writes PATH.nsstate and prints the JSON summary.
func fakeGet(args []string) error {
	flags := flag.NewFlagSet("get", flag.ContinueOnError)
	peer := flags.String("peer", "", "")
	noDHT := flags.Bool("no-dht", false, "")
	out := flags.String("o", "", "")
	asJSON := flags.Bool("json", false, "")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() != 1 || !*asJSON || !*noDHT || *out == "" || !strings.HasPrefix(*peer, "127.0.0.1:") {
		return fmt.Errorf("want --peer 127.0.0.1:PORT -o PATH --json URI, got %q", args)
	}
	fakeRecordPID("get")
	mode := os.Getenv(fakeMode)
	src := os.Getenv(fakeSource)
	want, err := fakeURI(src)
	if err != nil {
		return err
	}
	if flags.Arg(0) != want {
		return fmt.Errorf("URI %s, want %s", flags.Arg(0), want)
	}
	for _, p := range []string{*out, *out + ".nsstate"} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s left from a previous run (stat: %v)", p, err)
		}
	}
	if mode == fakeModeGetHangs {
		fmt.Println("hanging")
		select {}
	}
	if mode == fakeModeGetFails {
		return errors.New("no peer has the content")
	}
	if err := fakeContact(*peer); err != nil {
		return err
	}
	burnCPU(fakeGetBurn)
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if mode == fakeModeCorrupt {
		data[len(data)/2] ^= 1
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(*out+".nsstate", []byte("state"), 0o644); err != nil {
		return err
	}
	n := int64(len(data))
	if mode == fakeModeShortJSON {
		n--
	}
	fmt.Println("complete")
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"bytes": n, "seconds": 0.01, "peers": 1, "bytes_from": map[string]int64{*peer: n},
	})
}

// fakeContact sends "burn" to the seeder and waits for its "ok"; bounded
// by fakeContactRetries sends.
func fakeContact(peer string) error {
	conn, err := net.Dial("udp4", peer)
	if err != nil {
		return err
	}
	defer conn.Close()
	buf := make([]byte, 16)
	for range fakeContactRetries {
		if _, err := conn.Write([]byte("burn")); err != nil {
			return err
		}
		conn.SetReadDeadline(time.Now().Add(fakeReplyWait))
		n, err := conn.Read(buf)
		if err == nil && string(buf[:n]) == "ok" {
			return nil
		}
		if err == nil {
			return fmt.Errorf("seeder %s answered %q", peer, buf[:n])
		}
	}
	return fmt.Errorf("seeder %s did not answer", peer)
}
