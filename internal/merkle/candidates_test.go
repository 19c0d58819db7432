package merkle

import (
	"bytes"
	"testing"

	"github.com/nextshare/nextshare/internal/bin"
)

func TestCandidates(t *testing.T) {
	c := NewCandidates(3)
	h := bytes.Repeat([]byte{1}, 20)
	if !c.Put(1, h) || !c.Put(2, h) || !c.Put(3, h) {
		t.Fatal("Put refused below the cap")
	}
	if c.Put(4, h) || c.Len() != 3 {
		t.Fatal("Put beyond the cap")
	}
	h2 := bytes.Repeat([]byte{2}, 20)
	if !c.Put(2, h2) || c.Len() != 3 {
		t.Fatal("replacing an existing bin at the cap refused")
	}
	h2[0] = 9 // Put copies
	if got, ok := c.Get(2); !ok || !bytes.Equal(got, bytes.Repeat([]byte{2}, 20)) {
		t.Fatalf("Get(2) = %x %v", got, ok)
	}
	if _, ok := c.Get(4); ok {
		t.Fatal("Get of an absent bin")
	}
	c.Delete(1)
	c.Delete(1)
	if c.Len() != 2 || !c.Put(4, h) {
		t.Fatal("Delete did not free room")
	}
	if got, _ := c.Get(3); !bytes.Equal(got, h) {
		t.Fatal("slot reuse clobbered another hash")
	}
	// The first Put fixes the length; other or invalid lengths are refused.
	c.Delete(4)
	for _, l := range []int{0, 19, 21, 32, 100} {
		if c.Put(5, make([]byte, l)) {
			t.Errorf("%d-byte hash accepted after 20-byte ones", l)
		}
	}
	if c.Put(bin.None, h) {
		t.Error("bin.None accepted")
	}
	c.Reset()
	if c.Len() != 0 {
		t.Fatal("Reset left hashes")
	}
	if _, ok := c.Get(2); ok {
		t.Fatal("Get after Reset")
	}
	// After Reset another length may be chosen, still within the cap.
	for i := range 3 {
		if !c.Put(bin.Bin(i), make([]byte, 64)) {
			t.Fatalf("64-byte Put %d after Reset refused", i)
		}
	}
	if c.Put(7, make([]byte, 64)) {
		t.Error("cap not kept after Reset")
	}
	if c.Put(8, make([]byte, 7)) {
		t.Error("7-byte hash accepted")
	}

	var nilc *Candidates
	if _, ok := nilc.Get(1); ok || nilc.Len() != 0 {
		t.Error("nil Candidates not empty")
	}
	nilc.Delete(1)
	if z := NewCandidates(-5); z.Put(0, h) {
		t.Error("negative cap accepted a hash")
	}
}

func TestCandidatesNoAllocs(t *testing.T) {
	c := NewCandidates(16)
	h := make([]byte, 20)
	c.Put(0, h)
	c.Delete(0)
	allocs := testing.AllocsPerRun(100, func() {
		for b := bin.Bin(0); b < 16; b++ {
			c.Put(b, h)
		}
		for b := bin.Bin(0); b < 16; b++ {
			c.Get(b)
			c.Delete(b)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per fill and drain", allocs)
	}
}
