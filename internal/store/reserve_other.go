//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package store

import "os"

// reserve is a no-op where fallocate is not available; stores into the
// mapping are guarded against faults instead (fault.go).
func reserve(*os.File, int64, int64) error { return nil }
