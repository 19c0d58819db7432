package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nextshare/nextshare/internal/lab"
	"github.com/nextshare/nextshare/internal/netlab"
)

type labCmd struct {
	Run   labRunCmd   `cmd:"" help:"Run a scenario: real nextshare processes in network namespaces; writes results.json, plots and index.html."`
	List  labListCmd  `cmd:"" help:"List the shipped scenarios."`
	Clean labCleanCmd `cmd:"" help:"Remove the namespaces and processes a crashed lab run left behind."`
}

type labRunCmd struct {
	Scenario string `arg:"" help:"A shipped scenario's name (see lab list) or a scenario file."`
	Out      string `placeholder:"DIR" help:"Directory for the results and the report (default: lab-<scenario>-<time>)."`
	Keep     bool   `help:"Keep the content and the downloaded files."`
}

func (c *labRunCmd) Run(g *globals) error {
	sc, err := lab.LoadScenario(c.Scenario)
	if err != nil {
		return err
	}
	out := c.Out
	if out == "" {
		out = fmt.Sprintf("lab-%s-%s", sc.Name, time.Now().Format("20060102-150405"))
	}
	fmt.Printf("scenario %s: %d hosts, %s of content, at most %v\n", sc.Name, len(sc.Hosts()), sizeString(sc.Content.Size), sc.Duration)
	res, err := lab.Run(g.ctx, sc, lab.Config{Out: out, Keep: c.Keep, Progress: os.Stdout, Log: g.log})
	if res != nil {
		printResults(res)
		if abs, aerr := filepath.Abs(filepath.Join(out, "index.html")); aerr == nil {
			fmt.Printf("report: %s\n", abs)
		}
	}
	if err != nil {
		return err
	}
	if !res.AllIdentical {
		return fmt.Errorf("not every download is byte-identical to the source")
	}
	return nil
}

// printResults prints the run's headline figures.
func printResults(r *lab.Results) {
	gets, done := 0, 0
	for _, h := range r.Hosts {
		if h.Role == string(lab.RoleGet) {
			gets++
			if !h.Completed.IsZero() {
				done++
			}
		}
	}
	fmt.Printf("downloads complete: %d of %d, byte-identical: %v\n", done, gets, r.AllIdentical)
	if r.Completion > 0 {
		fmt.Printf("completion time: %.2fs\n", r.Completion.Seconds())
	}
	if r.FluidBound > 0 {
		fmt.Printf("fluid lower bound: %.2fs (%s)", r.FluidBound.Seconds(), r.FluidTerm)
		if r.BoundRatio > 0 {
			fmt.Printf(", ratio %.2f", r.BoundRatio)
		}
		fmt.Println()
	}
	fmt.Printf("bytes from the source: %.1f%%\n", 100*r.SourceShare)
	if r.CPUs > 0 {
		fmt.Printf("machine CPU: %.0f%% busy over the run, %d cores", 100*r.MachineBusy, r.CPUs)
		if r.MachineBusy >= 0.9 {
			fmt.Print(" (saturated: the times measure the machine as much as the protocol)")
		}
		fmt.Println()
	}
	if r.StartupP50 > 0 {
		fmt.Printf("startup (first MiB): p50 %v, p95 %v\n", r.StartupP50.Round(time.Millisecond), r.StartupP95.Round(time.Millisecond))
	}
	for _, e := range r.Errors {
		fmt.Printf("error: %s\n", e)
	}
}

func sizeString(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

type labListCmd struct{}

func (c *labListCmd) Run(g *globals) error {
	for _, name := range lab.Shipped() {
		sc, err := lab.LoadScenario(name)
		if err != nil {
			return err
		}
		fmt.Printf("%-16s %s\n", name, strings.TrimSpace(sc.Description))
	}
	return nil
}

type labCleanCmd struct{}

func (c *labCleanCmd) Run(g *globals) error {
	removed, err := netlab.Cleanup(lab.Prefix, g.log)
	for _, n := range removed {
		fmt.Printf("removed %s\n", n)
	}
	if err == nil && len(removed) == 0 {
		fmt.Println("nothing to remove")
	}
	return err
}
