package store

import (
	"io"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// writeAt writes b to f at off, like f.WriteAt, but without telling the Go
// scheduler about the system call. Announcing it costs more than the call:
// with the process otherwise idle, it wakes the runtime's monitor thread,
// which then polls every 20 µs for a while; with one P (GOMAXPROCS=1), a
// call longer than one such poll has its P handed to another thread. A
// node writes a run of at most runBytes (64 KiB) once per batch of
// datagrams, into the page cache, so the call is short; if the kernel
// throttles it, the engine, its only caller, has to wait for it anyway.
// The RawConn keeps f's descriptor from being closed or reused meanwhile.
func writeAt(f *os.File, b []byte, off int64) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var werr error
	if err := rc.Write(func(fd uintptr) bool {
		werr = pwriteAll(fd, b, off)
		return true
	}); err != nil {
		return err
	}
	return werr
}

// pwriteAll writes b at off with as many pwrite calls as it takes.
func pwriteAll(fd uintptr, b []byte, off int64) error {
	for len(b) > 0 {
		n, _, e := unix.RawSyscall6(unix.SYS_PWRITE64, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(off), 0, 0)
		switch {
		case e == unix.EINTR:
			continue
		case e != 0:
			return os.NewSyscallError("pwrite", e)
		case n == 0:
			return io.ErrShortWrite
		}
		b = b[n:]
		off += int64(n)
	}
	return nil
}
