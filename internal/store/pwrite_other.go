//go:build !linux

package store

import "os"

// writeAt writes b to f at off.
func writeAt(f *os.File, b []byte, off int64) error {
	_, err := f.WriteAt(b, off)
	return err
}
