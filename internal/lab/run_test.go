package lab

import (
	"testing"
	"time"
)

// TestSeedersStarting: a get waits for the seeders that arrive no later
// than it to serve, and no longer once they do or are gone.
func TestSeedersStarting(t *testing.T) {
	seed := &proc{plan: HostPlan{Name: "seed-1", Role: RoleSeed}}
	late := &proc{plan: HostPlan{Name: "seed-2", Role: RoleSeed, Start: 10 * time.Second}}
	get := &proc{plan: HostPlan{Name: "leech-1", Role: RoleGet}}
	r := &runner{procs: []*proc{seed, late, get}}
	if !r.seedersStarting(get) {
		t.Error("get at 0s does not wait for a seeder at 0s that is not serving yet")
	}
	if r.seedersStarting(seed) {
		t.Error("a seeder waits for seeders")
	}
	seed.ready = time.Now()
	if r.seedersStarting(get) {
		t.Error("get waits for a seeder that serves, or for one arriving later")
	}
	seed.ready, seed.left = time.Time{}, true
	if r.seedersStarting(get) {
		t.Error("get waits for a seeder that is gone")
	}
	later := &proc{plan: HostPlan{Name: "leech-2", Role: RoleGet, Start: 20 * time.Second}}
	r.procs = append(r.procs, later)
	if !r.seedersStarting(later) {
		t.Error("get at 20s does not wait for the seeder at 10s")
	}
}
