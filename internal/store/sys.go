//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package store

import (
	"errors"
	"fmt"
	"math"
	"os"

	"golang.org/x/sys/unix"
)

var pageSize = int64(os.Getpagesize())

// mapFile maps the first length bytes of f, shared, so that stores land in
// the page cache at once and survive the death of the process.
func mapFile(f *os.File, length int64, writable bool) ([]byte, error) {
	if length <= 0 || uint64(length) > math.MaxInt {
		return nil, fmt.Errorf("map %s: length %d not mappable", f.Name(), length)
	}
	prot := unix.PROT_READ
	if writable {
		prot |= unix.PROT_WRITE
	}
	b, err := unix.Mmap(int(f.Fd()), 0, int(length), prot, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("map %d bytes of %s: %w", length, f.Name(), err)
	}
	return b, nil
}

func unmap(b []byte) error {
	if b == nil {
		return nil
	}
	return unix.Munmap(b)
}

// syncRange writes b[off:off+n] back to the file and waits for it.
// msync(MS_SYNC) on a shared mapping is the documented way to make mapped
// stores durable; on Linux it is an fdatasync of the range.
func syncRange(b []byte, off, n int64) error {
	if n <= 0 {
		return nil
	}
	start := off &^ (pageSize - 1)
	end := off + n
	if end > int64(len(b)) {
		end = int64(len(b))
	}
	if err := unix.Msync(b[start:end], unix.MS_SYNC); err != nil {
		return fmt.Errorf("msync bytes %d..%d: %w", start, end, err)
	}
	return nil
}

// lockFile takes an exclusive advisory lock on f without waiting, so two
// processes never drive the same download. The kernel drops it when the
// process dies, including by SIGKILL.
func lockFile(f *os.File) error {
	err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return fmt.Errorf("state file %s is in use by another process", f.Name())
	}
	if err != nil {
		return fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return nil
}

// syncDir makes a newly created directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
