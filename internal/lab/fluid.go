package lab

import (
	"math"
	"time"
)

// Names of the terms of the fluid bound, as FluidBound returns them.
const (
	TermSource   = "F/u_s"          // the seeders' uplink
	TermDownload = "F/d_min"        // the slowest downlink
	TermSwarm    = "N·F/(u_s+Σu_i)" // the swarm's total uplink
)

// FluidBound returns the fluid-model lower bound on the time for n =
// len(downs) leechers, arriving together, to download f bytes from seeders
// with a total upload rate of us bits/s and from each other (Kumar and
// Ross 2006):
//
//	max(F/u_s, F/d_min, N·F/(u_s + Σu_i))
//
// downs and ups are the leechers' download and upload rates in bits/s. A
// rate of 0 is unlimited, which makes its term infinitely fast: an
// unlimited us drops the first and third terms, one unlimited download
// does not lower d_min, and one unlimited upload drops the third term.
// The second result names the binding term (TermSource, TermDownload or
// TermSwarm); it is empty, with a zero bound, when there are no leechers
// or every term is dropped.
func FluidBound(f int64, us int64, downs, ups []int64) (time.Duration, string) {
	n := len(downs)
	if n == 0 || f <= 0 {
		return 0, ""
	}
	bits := float64(f) * 8
	var best float64 // seconds
	term := ""
	consider := func(sec float64, name string) {
		if sec > best {
			best, term = sec, name
		}
	}
	if us > 0 {
		consider(bits/float64(us), TermSource)
	}
	var dmin int64
	for _, d := range downs {
		if d > 0 && (dmin == 0 || d < dmin) {
			dmin = d
		}
	}
	if dmin > 0 {
		consider(bits/float64(dmin), TermDownload)
	}
	total := float64(us)
	finite := us > 0
	for _, u := range ups {
		if u <= 0 {
			finite = false
		}
		total += float64(u)
	}
	if finite {
		consider(float64(n)*bits/total, TermSwarm)
	}
	if term == "" {
		return 0, ""
	}
	return time.Duration(math.Round(best * float64(time.Second))), term
}
