package store

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// reserve allocates disk blocks for f[off:off+n] so that later stores into
// the mapping of that range cannot fault for lack of space. File systems
// without fallocate are tolerated: stores are still guarded (fault.go).
func reserve(f *os.File, off, n int64) error {
	if n <= 0 {
		return nil
	}
	err := unix.Fallocate(int(f.Fd()), 0, off, n)
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("fallocate %s bytes %d..%d: %w", f.Name(), off, off+n, err)
	}
	return nil
}
