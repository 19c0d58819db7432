package merkle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/nextshare/nextshare/internal/bin"
)

// fuzzInput hands out fuzz bytes, then zeros once they run out.
type fuzzInput struct{ b []byte }

func (in *fuzzInput) done() bool { return len(in.b) == 0 }

func (in *fuzzInput) byte() byte {
	if len(in.b) == 0 {
		return 0
	}
	x := in.b[0]
	in.b = in.b[1:]
	return x
}

func (in *fuzzInput) u16() uint16 { return uint16(in.byte()) | uint16(in.byte())<<8 }

func (in *fuzzInput) bytes(n int) []byte {
	out := make([]byte, n)
	k := copy(out, in.b)
	in.b = in.b[k:]
	return out
}

// Fuzz operations, chosen by one byte each.
const (
	fzSetPeaks = iota
	fzPutRealUncles
	fzPutHash
	fzVerifyReal
	fzVerifyFlipped
	fzVerifyResized
	fzVerifyLeaf
	fzRestore
	fzSetFakePeaks
	fzReset
	fzSetSize
	fzOps
)

// FuzzVerify drives a downloader tree with a mix of true and made-up peaks,
// uncles, chunks and persisted nodes. It must never panic, never accept a
// chunk that differs from the content, and never hold a verified hash that
// differs from the seeder's.
func FuzzVerify(f *testing.F) {
	f.Add([]byte{0x01, 0x10, fzSetPeaks, 0, fzPutRealUncles, 3, 0, fzVerifyReal, 3, 0})
	f.Add([]byte{0xff, 0x0f, fzSetPeaks, 0, fzPutRealUncles, 5, 0, fzVerifyFlipped, 5, 0, 7, 1})
	f.Add([]byte{0x00, 0x01, fzSetPeaks, 1, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &fuzzInput{data}
		const chunkSize = 32
		size := 1 + int(in.u16()%4096)
		content := content(size)
		for i := range content {
			content[i] ^= byte(size) // a different content per size
		}
		seeder := mustBuild(t, content, chunkSize, SHA1)
		n := seeder.NumChunks()
		d, err := New(seeder.Root(), SHA1, chunkSize)
		if err != nil {
			t.Fatal(err)
		}
		cand := NewCandidates(32)
		// poisoned: cand may hold a hash the seeder does not have.
		// wrongSize: SetSize was given a size that fits n chunks but is
		// not the content's.
		poisoned, wrongSize := false, false
		// chunk picks a chunk index, a little out of range too.
		chunk := func() uint64 { return uint64(in.u16()) % (n + 2) }

		for !in.done() {
			switch op := in.byte() % fzOps; op {
			case fzSetPeaks:
				peaks := clonePeaks(seeder.Peaks())
				flip := in.byte()
				if flip&1 != 0 {
					h := peaks[int(flip>>1)%len(peaks)].Hash
					h[int(in.byte())%len(h)] ^= 1 | in.byte()
				}
				err := d.SetPeaks(peaks)
				if (err == nil) != (flip&1 == 0) {
					t.Fatalf("SetPeaks(flip %d): %v", flip, err)
				}
			case fzSetFakePeaks:
				var peaks []Node
				for range in.byte() % 4 {
					peaks = append(peaks, Node{Bin: bin.Bin(in.u16()), Hash: in.bytes(20)})
				}
				if err := d.SetPeaks(peaks); err == nil && d.NumChunks() != n {
					t.Fatalf("made-up peaks accepted: %v", peaks)
				}
			case fzPutRealUncles:
				for _, u := range seeder.Uncles(nil, chunk(), nil) {
					cand.Put(u.Bin, u.Hash)
				}
			case fzPutHash:
				b, h := bin.Bin(in.u16()), in.bytes(20)
				if want, ok := seeder.Hash(b); cand.Put(b, h) && (!ok || !bytes.Equal(h, want)) {
					poisoned = true
				}
			case fzVerifyReal, fzVerifyFlipped, fzVerifyResized:
				c := chunk()
				var buf []byte
				if c < n {
					buf = bytes.Clone(chunkOf(content, chunkSize, c))
				}
				switch op {
				case fzVerifyFlipped:
					if len(buf) > 0 {
						buf[int(in.byte())%len(buf)] ^= in.byte()
					}
				case fzVerifyResized:
					k := int(in.byte() % 40)
					if k <= len(buf) {
						buf = buf[:k]
					} else {
						buf = append(buf, make([]byte, k-len(buf))...)
					}
				}
				err := d.VerifyChunk(c, buf, cand, nil)
				if err == nil && (c >= n || !bytes.Equal(buf, chunkOf(content, chunkSize, c))) {
					t.Fatalf("chunk %d accepted with wrong data %x", c, buf)
				}
				if op == fzVerifyReal && !poisoned && !wrongSize && d.Known() && c < n && err != nil && !errors.Is(err, ErrMissingHashes) {
					t.Fatalf("true chunk %d refused: %v", c, err)
				}
			case fzVerifyLeaf:
				c := chunk()
				h := in.bytes(20)
				if err := d.VerifyLeaf(c, h, cand, nil); err == nil {
					want, _ := seeder.Hash(bin.Chunk(c))
					if !bytes.Equal(h, want) {
						t.Fatalf("leaf %d accepted with wrong hash %x", c, h)
					}
				}
			case fzRestore:
				var nodes []Node
				for range in.byte() % 8 {
					b := bin.Bin(in.u16()) % bin.Bin(2*n)
					if h, ok := seeder.Hash(b); ok && in.byte()&1 == 0 {
						nodes = append(nodes, Node{Bin: b, Hash: h})
					} else {
						nodes = append(nodes, Node{Bin: b, Hash: in.bytes(20)})
					}
				}
				d.Restore(nodes)
			case fzReset:
				cand.Reset()
				poisoned = false
			case fzSetSize:
				// The caller vouches for the size; the tree can only check
				// it against the number of chunks.
				sz := int64(size)
				if in.byte()&1 != 0 {
					sz = int64(binary.LittleEndian.Uint16(in.bytes(2)))
				}
				if d.SetSize(sz) == nil && sz != int64(size) {
					wrongSize = true
				}
			}

			if d.Known() && d.NumChunks() != n {
				t.Fatalf("downloader has %d chunks, content %d", d.NumChunks(), n)
			}
			for b := bin.Bin(0); uint64(b) < d.NodeCount(); b++ {
				if h, ok := d.Hash(b); ok {
					if want, _ := seeder.Hash(b); !bytes.Equal(h, want) {
						t.Fatalf("%v verified as %x, seeder has %x", b, h, want)
					}
				}
			}
			if d.Size() >= 0 && chunksFor(d.Size(), chunkSize) != n {
				t.Fatalf("size %d accepted for %d chunks", d.Size(), n)
			}
		}
	})
}
