package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// transfer describes one run of one implementation: how to start its
// seeder and downloader and where the download lands.
type transfer struct {
	impl      string
	seedPath  string
	seedArgs  []string
	seedStdin bool // keep a pipe on the seeder's stdin until it is stopped
	// ready recognizes the seeder's line that says it is serving and returns
	// what the downloader needs from it (the URI, or the line itself).
	ready     func(line string) (string, bool)
	readyWhat string // for messages
	// prepare removes what a previous run left; runs before the download.
	prepare func() error
	// getter returns the downloader's path and arguments.
	getter func(ready string) (string, []string)
	output string // the downloaded file
}

// seederExitWait bounds how long a failed download waits to learn whether
// the seeder died too.
const seederExitWait = 250 * time.Millisecond

// summary is the JSON a downloader prints on stdout when it is done.
type summary struct {
	Bytes   *int64  `json:"bytes"`
	Seconds float64 `json:"seconds"`
}

// measure performs one transfer and returns its figures (see the package
// comment for how they are taken). The seeder is stopped before it
// returns; the downloader has exited or been killed.
func measure(ctx context.Context, cfg Config, ws *workspace, t transfer) (Run, error) {
	found := make(chan string, 1)
	onLine := func(line string) {
		if v, ok := t.ready(line); ok {
			select {
			case found <- v:
			default: // already found
			}
		}
	}
	seeder, err := start(ctx, t.impl+" seeder", t.seedPath, t.seedArgs, t.seedStdin, onLine)
	if err != nil {
		return Run{}, err
	}
	defer seeder.stop(cfg.grace)
	ready, err := waitLine(ctx, seeder, found, cfg.Timeout, t.readyWhat)
	if err != nil {
		return Run{}, err
	}
	if err := t.prepare(); err != nil {
		return Run{}, err
	}
	getPath, getArgs := t.getter(ready)

	before, err := cpuTicks(seeder.pid())
	if err != nil {
		return Run{}, fmt.Errorf("%s seeder: %w", t.impl, err)
	}
	getCtx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	began := time.Now()
	getter, err := start(getCtx, t.impl+" getter", getPath, getArgs, false, nil)
	if err != nil {
		return Run{}, err
	}
	<-getter.done
	elapsed := time.Since(began)
	after, errAfter := cpuTicks(seeder.pid())

	if getter.err != nil && ctx.Err() == nil && getCtx.Err() == nil {
		// A getter that fails has often lost its seeder; give the seeder's
		// exit a moment to be seen so the error names the first failure.
		select {
		case <-seeder.done:
		case <-time.After(seederExitWait):
		}
	}
	// A getter that exited 0 counts even if the deadline passed meanwhile.
	switch {
	case getter.err != nil && ctx.Err() != nil:
		return Run{}, fmt.Errorf("%s getter stopped: %w", t.impl, ctx.Err())
	case getter.err != nil && errors.Is(getCtx.Err(), context.DeadlineExceeded):
		return Run{}, fmt.Errorf("%s getter killed: not done within %v", t.impl, cfg.Timeout)
	case seeder.exited():
		return Run{}, fmt.Errorf("during the transfer: %w", seeder.failure())
	case getter.err != nil:
		return Run{}, getter.failure()
	case errAfter != nil:
		return Run{}, fmt.Errorf("%s seeder: %w", t.impl, errAfter)
	}
	if err := checkSummary(getter.out.Bytes(), ws.srcSize); err != nil {
		return Run{}, fmt.Errorf("%s getter: %w", t.impl, err)
	}
	if err := ws.verify(t.output); err != nil {
		return Run{}, fmt.Errorf("%s: %w", t.impl, err)
	}
	// Invariant: utime+stime never decrease for a live process.
	seederCPU := float64(after-before) / clockTicks
	return newRun(ws.srcSize, elapsed.Seconds(), seederCPU, getter.cpuSeconds()), nil
}

// checkSummary finds the JSON summary in a downloader's stdout (the first
// line starting with '{' from which a JSON object decodes; it may span
// lines) and checks that it reports size bytes.
func checkSummary(stdout []byte, size int64) error {
	for off := 0; off < len(stdout); {
		end := len(stdout)
		if i := bytes.IndexByte(stdout[off:], '\n'); i >= 0 {
			end = off + i
		}
		line := stdout[off:end]
		lineStart := off
		off = end + 1
		lead := len(line) - len(bytes.TrimLeft(line, " \t"))
		if lead == len(line) || line[lead] != '{' {
			continue
		}
		var s summary
		if err := json.NewDecoder(bytes.NewReader(stdout[lineStart+lead:])).Decode(&s); err != nil {
			continue
		}
		if s.Bytes == nil {
			return fmt.Errorf("JSON summary %q has no \"bytes\"", truncate(line))
		}
		if *s.Bytes != size {
			return fmt.Errorf("JSON summary reports %d bytes, want %d", *s.Bytes, size)
		}
		return nil
	}
	return fmt.Errorf("no JSON summary on stdout %q", truncate(stdout))
}
