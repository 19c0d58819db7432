package bench

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ltScript drives one libtorrent session; see its docstring for the modes
// and the settings it changes.
//
//go:embed lt_ref.py
var ltScript []byte

// importCheckTimeout bounds `python3 -c 'import libtorrent'`.
const importCheckTimeout = time.Minute

// installHint is what a user must do when the reference cannot run.
const installHint = "apt-get install -y python3-libtorrent"

// Names in the work dir.
const (
	ltScriptName  = "lt_ref.py"
	ltTorrentName = "reference.torrent"
	ltOutDir      = "libtorrent-out"
)

// pythonArgs: -I ignores PYTHONPATH and user site-packages, so only
// Debian's own dist-packages are used; -u makes READY reach us at once.
var pythonArgs = []string{"-I", "-u"}

// libtorrentMissing returns why the reference cannot run with python, or
// "" if python imports libtorrent.
func libtorrentMissing(ctx context.Context, python string) string {
	ctx, cancel := context.WithTimeout(ctx, importCheckTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, append(pythonArgs, "-c", "import libtorrent")...)
	cmd.WaitDelay = pipeGrace
	out, err := cmd.CombinedOutput()
	if err == nil {
		return ""
	}
	detail := strings.TrimSpace(string(out))
	if i := strings.LastIndexByte(detail, '\n'); i >= 0 {
		detail = detail[i+1:] // the exception line of a traceback
	}
	if detail == "" {
		detail = err.Error()
	}
	return fmt.Sprintf("libtorrent reference skipped: %s cannot import libtorrent (%s); install it with `%s`",
		python, detail, installHint)
}

// writeScript puts lt_ref.py in the work dir and returns its path.
func writeScript(ws *workspace) (string, error) {
	p := ws.path(ltScriptName)
	if err := os.WriteFile(p, ltScript, 0o644); err != nil {
		return "", fmt.Errorf("write %s: %w", p, err)
	}
	return p, nil
}

// runLibtorrent measures one transfer between two lt_ref.py sessions over
// loopback TCP.
func runLibtorrent(ctx context.Context, cfg Config, ws *workspace, script string) (Run, error) {
	seedPort, err := freeTCPUDPPort()
	if err != nil {
		return Run{}, err
	}
	getPort, err := freeTCPUDPPort()
	if err != nil {
		return Run{}, err
	}
	if getPort == seedPort {
		return Run{}, fmt.Errorf("port %d was handed out twice", seedPort)
	}
	torrent, outDir := ws.path(ltTorrentName), ws.path(ltOutDir)
	// The script gives up a little after we would, so our timeout and its
	// message come first.
	timeout := strconv.FormatFloat((cfg.Timeout + 10*time.Second).Seconds(), 'f', 0, 64)
	py := func(a ...string) []string {
		return append(append([]string{}, pythonArgs...), append([]string{script}, a...)...)
	}
	return measure(ctx, cfg, ws, transfer{
		impl:     ImplLibtorrent,
		seedPath: cfg.python,
		seedArgs: py("seed", "--port", strconv.Itoa(seedPort), "--file", ws.src,
			"--torrent", torrent, "--timeout", timeout),
		seedStdin: true,
		ready: func(line string) (string, bool) {
			return line, strings.TrimSpace(line) == "READY"
		},
		readyWhat: "READY",
		prepare: func() error {
			if err := os.RemoveAll(outDir); err != nil {
				return fmt.Errorf("remove previous %s: %w", outDir, err)
			}
			if err := os.Mkdir(outDir, 0o755); err != nil {
				return fmt.Errorf("make %s: %w", outDir, err)
			}
			return nil
		},
		getter: func(string) (string, []string) {
			return cfg.python, py("get", "--port", strconv.Itoa(getPort),
				"--peer", fmt.Sprintf("127.0.0.1:%d", seedPort), "--torrent", torrent,
				"--save", outDir, "--timeout", timeout)
		},
		output: filepath.Join(outDir, filepath.Base(ws.src)),
	})
}
