package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// pipeGrace bounds how long Wait keeps copying a child's output after the
// child exited (a grandchild may hold the pipe open).
const pipeGrace = 2 * time.Second

// Output kept per child: stdout up to stdoutMax (a getter's JSON summary is
// small), and the tail of stderr for error messages.
const (
	stdoutMax  = 1 << 20
	stderrTail = 4 << 10
)

// child is a started process. Invariant: once start returns a child, done
// is closed exactly once, after cmd.Wait returned, and the process is dead
// and reaped by then.
type child struct {
	name  string // for messages: "nextshare seeder", ...
	cmd   *exec.Cmd
	stdin io.WriteCloser // nil unless requested
	out   *lineWriter
	errs  *tailWriter
	done  chan struct{}
	err   error // cmd.Wait's result; read only after done is closed
}

// start runs path with args. The process is killed (SIGKILL, by PID) when
// ctx is done. onLine, if not nil, sees every complete stdout line; it runs
// on the copying goroutine and must not block. keepStdin gives the child a
// pipe as standard input that stays open until stop, so a child that
// watches it dies with this process.
func start(ctx context.Context, name, path string, args []string, keepStdin bool, onLine func(string)) (*child, error) {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.WaitDelay = pipeGrace
	c := &child{
		name: name,
		cmd:  cmd,
		out:  &lineWriter{max: stdoutMax, onLine: onLine},
		errs: &tailWriter{max: stderrTail},
		done: make(chan struct{}),
	}
	cmd.Stdout = c.out
	cmd.Stderr = c.errs
	if keepStdin {
		w, err := cmd.StdinPipe()
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		c.stdin = w
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s %s: %w", name, path, err)
	}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// pid is the child's process ID.
func (c *child) pid() int { return c.cmd.Process.Pid }

// exited reports whether the child has exited and been reaped.
func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop ends the child: SIGTERM (and standard input closed), then SIGKILL if
// it has not exited after grace. It returns once the child is reaped, which
// is bounded by grace plus pipeGrace.
func (c *child) stop(grace time.Duration) {
	if c.stdin != nil {
		c.stdin.Close()
	}
	if c.exited() {
		return
	}
	// An error here means the process already exited; Wait reports it.
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-c.done:
		return
	case <-t.C:
	}
	_ = c.cmd.Process.Kill()
	<-c.done
}

// failure describes why the exited child failed, with its stderr tail.
func (c *child) failure() error {
	msg := strings.TrimSpace(c.errs.String())
	if msg == "" {
		return fmt.Errorf("%s: %v", c.name, c.err)
	}
	return fmt.Errorf("%s: %v; stderr: %s", c.name, c.err, msg)
}

// cpuSeconds is the exited child's user+system time (from wait4).
func (c *child) cpuSeconds() float64 {
	ps := c.cmd.ProcessState
	return (ps.UserTime() + ps.SystemTime()).Seconds()
}

// lineWriter keeps up to max bytes of a child's stdout and calls onLine for
// each complete line written.
type lineWriter struct {
	max    int
	onLine func(string)

	mu      sync.Mutex // guards the fields below
	all     bytes.Buffer
	partial []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if room := w.max - w.all.Len(); room > 0 {
		w.all.Write(p[:min(len(p), room)])
	}
	if w.onLine == nil {
		return len(p), nil
	}
	rest := p
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		line := append(w.partial, rest[:i]...)
		// A line longer than max is cut; no URI or marker is that long.
		line = line[:min(len(line), w.max)]
		w.onLine(strings.TrimRight(string(line), "\r"))
		w.partial = w.partial[:0]
		rest = rest[i+1:]
	}
	if room := w.max - len(w.partial); room > 0 {
		w.partial = append(w.partial, rest[:min(len(rest), room)]...)
	}
	return len(p), nil
}

// Bytes returns the stdout kept so far.
func (w *lineWriter) Bytes() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Clone(w.all.Bytes())
}

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	max int

	mu  sync.Mutex // guards buf
	buf []byte
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if over := len(w.buf) - w.max; over > 0 {
		w.buf = append(w.buf[:0], w.buf[over:]...)
	}
	return len(p), nil
}

func (w *tailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}

// waitLine waits until found receives a value (sent by an onLine callback),
// the child exits, ctx is done or timeout passes.
func waitLine(ctx context.Context, c *child, found <-chan string, timeout time.Duration, what string) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case s := <-found:
		return s, nil
	case <-c.done:
		// The line may have been the last output before exit.
		select {
		case s := <-found:
			return s, nil
		default:
		}
		return "", fmt.Errorf("%s exited before printing %s: %w", c.name, what, c.failure())
	case <-ctx.Done():
		return "", fmt.Errorf("waiting for %s from %s: %w", what, c.name, ctx.Err())
	case <-t.C:
		return "", fmt.Errorf("%s printed no %s within %v", c.name, what, timeout)
	}
}
