package store

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/nextshare/nextshare/internal/bin"
)

// The kill -9 test runs this test binary again as a child that writes
// chunks until the parent kills it.
const (
	helperPathEnv = "NEXTSHARE_STORE_HELPER_PATH"
	helperSeedEnv = "NEXTSHARE_STORE_HELPER_SEED"
	crashChunks   = 30000
	crashCS       = 1024
	crashSize     = crashChunks*crashCS - 123
)

func crashMeta() Meta { return testMeta(0, crashSize, crashCS) }

// TestHelperWriter is the child: it writes every chunk in a seeded random
// order, checkpoints now and then, and reports each chunk on stdout once
// WriteChunk has returned. It does nothing unless the parent started it.
func TestHelperWriter(t *testing.T) {
	path := os.Getenv(helperPathEnv)
	if path == "" {
		t.Skip("only runs as the child of TestKill9")
	}
	seed, err := strconv.ParseUint(os.Getenv(helperSeedEnv), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	content := testContent(seed, crashSize)
	s, _, err := Open(path, crashMeta(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := bufio.NewWriter(os.Stdout)
	rng := rand.New(rand.NewPCG(seed, 99))
	for k, c := range rng.Perm(crashChunks) {
		i := uint64(c)
		if err := s.WriteChunk(i, chunkOf(content, i, crashCS)); err != nil {
			t.Fatal(err)
		}
		if err := s.PutHash(2*i, leafHash(content, i)); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(out, "w %d\n", i)
		if k%32 == 31 {
			out.Flush()
		}
		if k%2000 == 1999 {
			if err := s.Checkpoint(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Finish(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(out, "done")
	out.Flush()
	s.Close()
}

func leafHash(content []byte, i uint64) []byte {
	h := sha256.Sum256(chunkOf(content, i, crashCS))
	return h[:]
}

// TestKill9 kills a writing child with SIGKILL at several points, then
// reopens the download and checks the crash model: every chunk the child
// reported written is present after Recover, every present chunk has
// exactly the right bytes, and nothing unverified was exposed before.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	if os.Getenv(helperPathEnv) != "" {
		t.Skip("already the child")
	}
	for round, killAfter := range []int{1, 150, 3000, 11000, 24000} {
		t.Run(fmt.Sprintf("kill-after-%d", killAfter), func(t *testing.T) {
			seed := uint64(100 + round)
			path := tempPath(t, "c")
			reported, done := runAndKill(t, path, seed, killAfter)
			t.Logf("child reported %d chunks, finished=%v", reported.Count(), done)
			checkAfterKill(t, path, seed, reported)
		})
	}
}

// runAndKill starts the child, reads its reports until killAfter chunks,
// kills it with SIGKILL and returns every chunk it reported.
func runAndKill(t *testing.T, path string, seed uint64, killAfter int) (reported *bin.Set, done bool) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperPathEnv+"="+path, helperSeedEnv+"="+strconv.FormatUint(seed, 10))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reported = bin.NewSet(crashChunks, crashChunks)
	sc := bufio.NewScanner(stdout)
	killed := false
	kill := func() {
		if !killed {
			killed = true
			cmd.Process.Kill() // SIGKILL; fails harmlessly if it has exited
		}
	}
	for sc.Scan() {
		line := sc.Text()
		if line == "done" {
			done = true
			continue
		}
		if i, ok := strings.CutPrefix(line, "w "); ok {
			c, err := strconv.ParseUint(i, 10, 64)
			if err != nil {
				t.Fatalf("child printed %q", line)
			}
			reported.Add(c)
			if reported.Count() >= uint64(killAfter) {
				kill()
			}
		}
	}
	err = cmd.Wait()
	if !killed || (err == nil && !done) {
		t.Fatalf("child was not killed (err %v); stderr:\n%s", err, stderr.String())
	}
	if err == nil {
		// It finished before the kill landed; still a valid run.
		return reported, done
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ProcessState.Exited() {
		t.Fatalf("child did not die by signal: %v; stderr:\n%s", err, stderr.String())
	}
	return reported, done
}

func checkAfterKill(t *testing.T, path string, seed uint64, reported *bin.Set) {
	content := testContent(seed, crashSize)
	want := make([][32]byte, crashChunks)
	for i := range want {
		want[i] = sha256.Sum256(chunkOf(content, uint64(i), crashCS))
	}
	s, reset, err := Open(path, crashMeta(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if reset {
		t.Fatalf("state reset after kill -9: %v", s.StateReset())
	}
	// Before Recover: only checkpointed chunks, all correct.
	checkExposed(t, s, content)
	trusted := s.Have().Count()

	r, d := s.Recover(func(i uint64, data []byte) bool {
		return sha256.Sum256(data) == want[i]
	})
	t.Logf("checkpointed %d, recovered %d, dropped %d", trusted, r, d)
	if d != 0 {
		// kill -9 keeps the page cache: a set live bit always has its data.
		t.Errorf("Recover dropped %d chunks after kill -9", d)
	}
	have := s.Have()
	reported.Ranges(func(rg bin.Range) bool {
		if !have.HasRange(rg) {
			t.Errorf("chunks %v were reported written before the kill but are missing", rg)
		}
		return true
	})
	checkExposed(t, s, content)
	if have.Count() < reported.Count() {
		t.Errorf("%d chunks present, fewer than the %d reported", have.Count(), reported.Count())
	}
	// Node hashes written before the kill are all correct.
	s.Hashes(func(b uint64, h []byte) {
		if b%2 != 0 || !bytes.Equal(h, leafHash(content, b/2)) {
			t.Errorf("stored hash of bin %d is wrong", b)
		}
	})
	// The download finishes from here.
	for i := uint64(0); i < crashChunks; i++ {
		if err := s.WriteChunk(i, chunkOf(content, i, crashCS)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Finish(); err != nil {
		t.Fatal(err)
	}
}
