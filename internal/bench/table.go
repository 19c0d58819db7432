package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// PrintTable writes one row per implementation: MB/s median (min–max),
// seconds median (min–max), and the seeder's and getter's median CPU
// seconds per GiB. When both nextshare and libtorrent ran it adds the
// ratios nextshare/libtorrent of those medians. Write errors are ignored,
// as for fmt.Fprint to a terminal.
func PrintTable(w io.Writer, rs []Result) {
	if len(rs) == 0 {
		fmt.Fprintln(w, "no results")
		return
	}
	fmt.Fprintf(w, "transfer of %s over loopback; figures are medians (min–max) of the runs\n", sizeString(rs[0].Size))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "impl\truns\tMB/s\tseconds\tseeder CPU s/GiB\tgetter CPU s/GiB")
	for _, r := range rs {
		if r.Skipped != "" {
			fmt.Fprintf(tw, "%s\t0\tskipped\n", r.Impl)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%.2f\t%.2f\n", r.Impl, len(r.Runs),
			statString(r.MBps, 1), statString(r.Seconds, 3), r.SeederCPUPerGiB.Median, r.GetterCPUPerGiB.Median)
	}
	tw.Flush()
	for _, r := range rs {
		if r.Skipped != "" {
			fmt.Fprintf(w, "%s: %s\n", r.Impl, r.Skipped)
		}
	}
	ns, lt := find(rs, ImplNextshare), find(rs, ImplLibtorrent)
	if ns == nil || lt == nil {
		return
	}
	fmt.Fprintf(w, "nextshare/libtorrent: MB/s %s, seeder CPU/GiB %s, getter CPU/GiB %s\n",
		ratio(ns.MBps.Median, lt.MBps.Median),
		ratio(ns.SeederCPUPerGiB.Median, lt.SeederCPUPerGiB.Median),
		ratio(ns.GetterCPUPerGiB.Median, lt.GetterCPUPerGiB.Median))
}

// find returns the Result of impl that ran at least once, or nil.
func find(rs []Result, impl string) *Result {
	for i := range rs {
		if rs[i].Impl == impl && rs[i].Skipped == "" && len(rs[i].Runs) > 0 {
			return &rs[i]
		}
	}
	return nil
}

func statString(s Stat, prec int) string {
	return fmt.Sprintf("%.*f (%.*f–%.*f)", prec, s.Median, prec, s.Min, prec, s.Max)
}

func ratio(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// sizeString prints whole MiB as such, anything else in bytes.
func sizeString(n int64) string {
	if n > 0 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
