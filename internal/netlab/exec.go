package netlab

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// run runs a command with stdin as its input and returns an error naming the
// command line and quoting its standard error if it fails. For iproute2's
// batch mode (-batch -) the failing input line is quoted too.
func run(ctx context.Context, stdin string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		msg := strings.ReplaceAll(strings.TrimSpace(out.String()), "\n", "; ")
		if line := failedBatchLine(msg, stdin); line != "" {
			return fmt.Errorf("%s: %w: %s (input line %q)", strings.Join(cmd.Args, " "), err, msg, line)
		}
		if msg == "" {
			return fmt.Errorf("%s: %w", strings.Join(cmd.Args, " "), err)
		}
		return fmt.Errorf("%s: %w: %s", strings.Join(cmd.Args, " "), err, msg)
	}
	return nil
}

var batchFailRE = regexp.MustCompile(`Command failed -:(\d+)`)

// failedBatchLine returns the input line that iproute2 reports as failed
// ("Command failed -:N"), or "".
func failedBatchLine(msg, stdin string) string {
	m := batchFailRE.FindStringSubmatch(msg)
	if m == nil {
		return ""
	}
	n, _ := strconv.Atoi(m[1])
	lines := strings.Split(stdin, "\n")
	if n < 1 || n > len(lines) {
		return ""
	}
	return lines[n-1]
}

// batch collects the lines of an iproute2 batch (ip -batch -, tc -batch -).
type batch struct{ b strings.Builder }

func (b *batch) add(format string, args ...any) {
	fmt.Fprintf(&b.b, format, args...)
	b.b.WriteByte('\n')
}

func (b *batch) empty() bool    { return b.b.Len() == 0 }
func (b *batch) String() string { return b.b.String() }

// parallel runs jobs on at most workers goroutines and returns the first
// error; after an error no further job is started.
func parallel(workers int, jobs []func() error) error {
	var (
		mu       sync.Mutex
		next     int
		firstErr error
		wg       sync.WaitGroup
	)
	take := func() func() error {
		mu.Lock()
		defer mu.Unlock()
		if firstErr != nil || next == len(jobs) {
			return nil
		}
		next++
		return jobs[next-1]
	}
	for range min(workers, len(jobs)) {
		wg.Go(func() {
			for job := take(); job != nil; job = take() {
				if err := job(); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}
