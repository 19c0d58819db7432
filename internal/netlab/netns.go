package netlab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// nsDir is where `ip netns` keeps its named namespaces.
const nsDir = "/run/netns"

// doIn runs f on a locked OS thread that has entered the named network
// namespace, and switches the thread back afterwards. If switching back
// fails, the thread is left locked so that the runtime discards it when the
// goroutine ends, and no other goroutine ever runs in the wrong namespace.
func doIn(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		err, restored := enterAndRun(ns, f)
		if restored {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

func enterAndRun(ns string, f func() error) (err error, restored bool) {
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("netlab: open current network namespace: %w", err), true
	}
	defer unix.Close(orig)
	path := filepath.Join(nsDir, ns)
	target, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("netlab: open network namespace %s: %w", path, err), true
	}
	defer unix.Close(target)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("netlab: enter network namespace %s: %w", ns, err), true
	}
	ferr := f()
	if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("netlab: leave network namespace %s: %w", ns, err), false
	}
	return ferr, true
}

// writeSysctl sets a sysctl under /proc/sys/net inside namespace ns; those
// files show the namespace of the thread that opens them.
func writeSysctl(ns, key, value string) error {
	return doIn(ns, func() error {
		path := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
		if err := os.WriteFile(path, []byte(value), 0); err != nil {
			return fmt.Errorf("netlab: sysctl %s=%s in %s: %w", key, value, ns, err)
		}
		return nil
	})
}

// existing returns those of names that are mounted in nsDir.
func existing(names []string) []string {
	var out []string
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(nsDir, n)); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// killIn sends SIGKILL to every process (other than this one) whose network
// namespace is one of names, and returns how many it signalled. Like `ip
// netns pids`, it compares the namespace of each process's main thread.
func killIn(names []string, log *slog.Logger) int {
	type nsID struct{ dev, ino uint64 }
	want := make(map[nsID]string, len(names))
	for _, n := range names {
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(nsDir, n), &st); err == nil {
			want[nsID{st.Dev, st.Ino}] = n
		}
	}
	if len(want) == 0 {
		return 0
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		log.Warn("netlab: list processes", "err", err)
		return 0
	}
	self := os.Getpid()
	killed := 0
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == self {
			continue
		}
		var st unix.Stat_t
		if unix.Stat("/proc/"+p.Name()+"/ns/net", &st) != nil {
			continue
		}
		ns, ok := want[nsID{st.Dev, st.Ino}]
		if !ok {
			continue
		}
		if err := unix.Kill(pid, unix.SIGKILL); err == nil {
			log.Debug("netlab: killed process left in namespace", "pid", pid, "netns", ns)
			killed++
		}
	}
	return killed
}

// deleteNamespaces kills the processes left in the named namespaces and
// deletes those that exist, in one `ip -batch`.
func deleteNamespaces(names []string, log *slog.Logger) error {
	names = existing(names)
	if len(names) == 0 {
		return nil
	}
	killIn(names, log)
	var b batch
	for _, n := range names {
		b.add("netns del %s", n)
	}
	return run(context.Background(), b.String(), "ip", "-force", "-batch", "-")
}

// nsPID returns the PID embedded in a namespace name created with prefix
// ("<prefix><pid>-..."), or false if name is not of that form.
func nsPID(name, prefix string) (int, bool) {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return 0, false
	}
	digits, _, ok := strings.Cut(rest, "-")
	if !ok || digits == "" || len(digits) > 9 {
		return 0, false
	}
	pid, err := strconv.Atoi(digits)
	if err != nil || pid <= 0 || strconv.Itoa(pid) != digits {
		return 0, false
	}
	return pid, true
}

// pidAlive reports whether a process with this PID exists.
func pidAlive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

// Cleanup removes the namespaces that a lab process which died left behind:
// those named "<prefix><pid>-..." whose PID no longer runs. It first kills
// the processes still inside them. Namespaces of live PIDs (this process's
// included) are never touched. It returns the names it removed; prefix ""
// means DefaultPrefix and log nil discards logs.
//
// A PID that was reused by an unrelated process makes its namespaces look
// live; they are removed by a later Cleanup once that process exits.
func Cleanup(prefix string, log *slog.Logger) ([]string, error) {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if err := validPrefix(prefix); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	entries, err := os.ReadDir(nsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("netlab: cleanup: %w", err)
	}
	var stale []string
	for _, e := range entries {
		pid, ok := nsPID(e.Name(), prefix)
		if ok && !pidAlive(pid) {
			stale = append(stale, e.Name())
		}
	}
	if len(stale) == 0 {
		return nil, nil
	}
	slices.Sort(stale)
	log.Info("netlab: removing stale namespaces", "count", len(stale), "prefix", prefix)
	if err := deleteNamespaces(stale, log); err != nil {
		return slices.DeleteFunc(stale, func(n string) bool { return len(existing([]string{n})) > 0 }),
			fmt.Errorf("netlab: cleanup: %w", err)
	}
	return stale, nil
}
