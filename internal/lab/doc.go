// Package lab describes, bounds and reports the swarm lab's runs: swarms of
// real nextshare processes, one per emulated host, each in its own network
// namespace behind an emulated link. A run is described by a scenario file
// (ParseScenario, LoadScenario; the shipped ones live in the top-level
// scenarios folder), measured into Results and written out by WriteReport as
// results.json, PNG plots and an index.html that shows them.
//
// # Scenario files
//
// A scenario is a YAML document. Unknown fields, values of the wrong type or
// unit, and values out of range are errors; every error names the file, the
// line and the field path, e.g.
//
//	flashcrowd.yaml:14: groups[1].count: must be between 1 and 500
//
// The fields:
//
//	name: flashcrowd        # optional; [a-z0-9-]+, defaults to the file's base name
//	description: ...        # optional, free text
//	duration: 300s          # required: hard bound on the whole run, > 0 and <= 1h
//	content:
//	  size: 16MiB           # required: random content made for each run, 1 B to 1 GiB
//	                        # (B, KB, MB, GB = 10^3 steps; KiB, MiB, GiB = 2^10 steps)
//	  chunk_size: 1024      # optional, default 1024: a power of two from 512 to 65536
//	discovery: tracker      # optional: tracker (default; each get is handed the seeders'
//	                        # addresses) or dht (a private DHT inside the lab)
//	defaults:               # optional: the link of every group unless it says otherwise
//	  delay: 20ms           # one-way delay host <-> router, each direction, <= 10s
//	  jitter: 0ms           # added to delay at random, each direction, <= 10s
//	  loss: 0%              # per direction; percent ("1%") or fraction (0.01), < 100%
//	  reorder: 0%           # per direction; share of packets sent out of order
//	  up: 5Mbit             # host -> router rate: bit, Kbit, Mbit, Gbit (10^3 steps), at
//	  down: 20Mbit          # least 8Kbit; router -> host; 0, "unlimited" or omitted: no limit
//	  nat: none             # none | port-restricted | full-cone | symmetric
//	groups:                 # required, at least one seed group and one get group
//	  - name: seed          # required: [a-z0-9-]+, at most 16 characters, unique
//	    role: seed          # required: seed (serves the content) | get (downloads it)
//	    count: 1            # optional, default 1: 1 to 500 (and 500 hosts in all)
//	    start: 0s           # optional: the group's first arrival after the run starts
//	    every: 0s           # optional: spacing between the group's arrivals
//	    stay: forever       # get groups only: how long a host keeps seeding after it
//	                        # completes, then leaves; "forever" (default): until the end
//	    churn: {up: 20s, down: 10s}  # optional: alternate online and offline until
//	                        # complete (the process is killed, then restarted and resumes)
//	    link: {up: 20Mbit}  # optional: overrides defaults field by field
//	stop: all-complete      # optional: all-complete (default; end once every get has
//	                        # completed, or at duration) | duration (run the whole duration)
//
// Durations use Go's syntax (300ms, 20s, 1m30s); a bare 0 means zero. Every
// group's last arrival must fall inside the duration. YAML anchors and
// aliases are not accepted.
//
// Hosts expands the groups into hosts named after their group and a 1-based
// index padded to the group's count: leech-01 … leech-30.
//
// # Fluid bound
//
// FluidBound is the fluid-model lower bound on the time for a flash crowd of
// N leechers to download F bytes (Kumar and Ross, "Peer-Assisted
// File Distribution: The Minimum Distribution Time", 2006):
//
//	max(F/u_s, F/d_min, N·F/(u_s + Σu_i))
//
// with u_s the seeders' upload rate, d_min the slowest download rate and u_i
// the leechers' upload rates. A report prints it beside the measured time.
package lab
