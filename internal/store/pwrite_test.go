package store

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteAt(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), runBytes/16)
	if err := writeAt(f, big, 3); err != nil {
		t.Fatal(err)
	}
	if err := writeAt(f, []byte("xyz"), 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := append([]byte("xyz"), big...); !bytes.Equal(got, want) {
		t.Fatalf("file holds %d bytes, not the %d written", len(got), len(want))
	}
	// A closed file is refused, not written through a stale descriptor.
	if err := writeAt(f, []byte("x"), 0); err == nil {
		t.Fatal("write to a closed file succeeded")
	}
	ro, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := writeAt(ro, []byte("x"), 0); err == nil {
		t.Fatal("write to a read-only file succeeded")
	}
}
