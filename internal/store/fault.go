package store

import (
	"fmt"
	"runtime/debug"
)

// A store into a shared mapping faults (SIGBUS) when the page has no disk
// block behind it and none can be allocated (disk full on a sparse file),
// or when someone truncated the file under the mapping. Such faults are
// turned into errors here instead of killing the process.

// faultError builds the error for a recovered fault, or re-panics for any
// other panic.
func faultError(r any, what string) error {
	if e, ok := r.(interface{ Addr() uintptr }); ok {
		return fmt.Errorf("store: %s: memory fault at %#x in the file mapping (disk full, or file truncated by another process?)", what, e.Addr())
	}
	panic(r)
}

// guardedCopy copies src to dst, one of which is mapped.
func guardedCopy(dst, src []byte, what string) (err error) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			err = faultError(r, what)
		}
	}()
	copy(dst, src)
	return nil
}

// guardedStore copies data into dst and then sets bit i of the bitmap w,
// in that order: a set bit promises that the data is in place (doc.go).
func guardedStore(dst, data []byte, w []uint64, i uint64, what string) (err error) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			err = faultError(r, what)
		}
	}()
	copy(dst, data)
	setBit(w, i)
	return nil
}
