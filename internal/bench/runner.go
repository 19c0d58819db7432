package bench

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// RunTransfer creates a random file of cfg.Size bytes and measures
// cfg.Runs transfers of it with nextshare (if cfg.Binary is set), then
// cfg.Runs with libtorrent (if cfg.Reference). It returns one Result per
// implementation, in that order. A libtorrent that /usr/bin/python3 cannot
// import gives a Result with Skipped set, not an error. On an error (a
// failed or timed-out run, a corrupt download, ctx done) it returns the
// Results completed so far with the error. Child processes are stopped and
// the files it made are removed before it returns.
func RunTransfer(ctx context.Context, cfg Config) (results []Result, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ws, err := newWorkspace(cfg.Dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := ws.cleanup(); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()

	began := time.Now()
	if err := ws.makeSource(ctx, cfg.Size); err != nil {
		return nil, err
	}
	logf(cfg, "created %d random bytes in %s (%.1f s)", cfg.Size, ws.src, time.Since(began).Seconds())

	if cfg.Binary != "" {
		r, err := runAll(ctx, cfg, ws, ImplNextshare, func() (Run, error) {
			return runNextshare(ctx, cfg, ws)
		})
		results = append(results, r)
		if err != nil {
			return results, err
		}
	}
	if cfg.Reference {
		if why := libtorrentMissing(ctx, cfg.python); why != "" {
			logf(cfg, "%s", why)
			return append(results, Result{Impl: ImplLibtorrent, Size: cfg.Size, Skipped: why}), nil
		}
		script, err := writeScript(ws)
		if err != nil {
			return results, fmt.Errorf("bench: %w", err)
		}
		r, err := runAll(ctx, cfg, ws, ImplLibtorrent, func() (Run, error) {
			return runLibtorrent(ctx, cfg, ws, script)
		})
		results = append(results, r)
		if err != nil {
			return results, err
		}
	}
	return results, nil
}

// runAll repeats one implementation's transfer cfg.Runs times. On error the
// Result holds the runs done before it.
func runAll(ctx context.Context, cfg Config, ws *workspace, impl string, run func() (Run, error)) (res Result, err error) {
	res = Result{Impl: impl, Size: cfg.Size}
	// Runs on every return; the named result makes it see the final runs.
	defer res.summarize()
	for i := range cfg.Runs {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("bench: %s run %d of %d: %w", impl, i+1, cfg.Runs, err)
		}
		r, err := run()
		if err != nil {
			return res, fmt.Errorf("bench: %s run %d of %d: %w", impl, i+1, cfg.Runs, err)
		}
		res.Runs = append(res.Runs, r)
		perGiB := float64(gibi) / float64(ws.srcSize)
		logf(cfg, "%s run %d/%d: %.1f MB/s, %.3f s, CPU s/GiB seeder %.2f getter %.2f",
			impl, i+1, cfg.Runs, r.MBps, r.Seconds, r.Seeder.CPUSeconds*perGiB, r.Getter.CPUSeconds*perGiB)
	}
	return res, nil
}

func logf(cfg Config, format string, args ...any) {
	fmt.Fprintf(cfg.Log, format+"\n", args...)
}
