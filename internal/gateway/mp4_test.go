package gateway

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"testing"
	"time"
)

// box returns an ISO BMFF box of type typ around payload.
func box(typ string, payload ...[]byte) []byte {
	body := bytes.Join(payload, nil)
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
	return append(append(b, typ...), body...)
}

// mvhd returns a movie header box of the given version.
func mvhd(version byte, scale uint32, dur uint64) []byte {
	b := []byte{version, 0, 0, 0}
	if version == 0 {
		b = binary.BigEndian.AppendUint64(b, 0) // creation, modification
		b = binary.BigEndian.AppendUint32(b, scale)
		b = binary.BigEndian.AppendUint32(b, uint32(dur))
	} else {
		b = binary.BigEndian.AppendUint64(b, 0)
		b = binary.BigEndian.AppendUint64(b, 0)
		b = binary.BigEndian.AppendUint32(b, scale)
		b = binary.BigEndian.AppendUint64(b, dur)
	}
	return box("mvhd", append(b, make([]byte, 80)...))
}

func TestMP4Duration(t *testing.T) {
	ftyp := box("ftyp", []byte("isom\x00\x00\x02\x00isomiso2avc1mp41"))
	mdat := box("mdat", make([]byte, 5000))
	large := append(binary.BigEndian.AppendUint32(nil, 1), "mdat"...)
	large = binary.BigEndian.AppendUint64(large, 16+300)
	large = append(large, make([]byte, 300)...)
	for _, tc := range []struct {
		name string
		file []byte
		want time.Duration
		err  bool
	}{
		{"index first", bytes.Join([][]byte{ftyp, box("moov", mvhd(0, 1000, 20_000)), mdat}, nil), 20 * time.Second, false},
		{"index last", bytes.Join([][]byte{ftyp, mdat, box("moov", box("trak"), mvhd(0, 90000, 90000*95/10))}, nil), 9500 * time.Millisecond, false},
		{"version 1", bytes.Join([][]byte{ftyp, box("moov", mvhd(1, 600, 600*3600))}, nil), time.Hour, false},
		{"64-bit box size", bytes.Join([][]byte{ftyp, large, box("moov", mvhd(0, 1, 7))}, nil), 7 * time.Second, false},
		{"no moov", bytes.Join([][]byte{ftyp, mdat}, nil), 0, true},
		{"not mp4", bytes.Repeat([]byte("hello world "), 100), 0, true},
		{"box past the end", append(binary.BigEndian.AppendUint32(nil, 1<<30), "moov"...), 0, true},
		{"zero timescale", box("moov", mvhd(0, 0, 100)), 0, true},
		{"unknown duration", box("moov", mvhd(0, 1000, 1<<32-1)), 0, true},
		{"truncated mvhd", box("moov", box("mvhd", []byte{0, 0, 0, 0, 1})), 0, true},
		{"empty", nil, 0, true},
	} {
		got, err := mp4Duration(bytes.NewReader(tc.file), int64(len(tc.file)))
		if tc.err != (err != nil) || got != tc.want {
			t.Errorf("%s: got %v, %v; want %v (error %v)", tc.name, got, err, tc.want, tc.err)
		}
	}
}

// A read the content cannot serve yet fails the call with that error, so
// the gateway can try again later.
func TestMP4DurationPartial(t *testing.T) {
	file := bytes.Join([][]byte{box("ftyp", []byte("isom")), box("mdat", make([]byte, 5000)), box("moov", mvhd(0, 1000, 20_000))}, nil)
	missing := errors.New("not there yet")
	r := holeReader{b: file, from: 4000, err: missing}
	if _, err := mp4Duration(r, int64(len(file))); !errors.Is(err, missing) {
		t.Fatalf("got %v, want the reader's error", err)
	}
}

type holeReader struct {
	b    []byte
	from int
	err  error
}

func (h holeReader) ReadAt(p []byte, off int64) (int, error) {
	if int(off)+len(p) > h.from {
		return 0, h.err
	}
	return copy(p, h.b[off:]), nil
}

// Serving an MP4 tells the swarm the stream's bitrate from its header:
// the demo's 20-second clip.
func TestGatewayLearnsBitrate(t *testing.T) {
	clip, err := os.ReadFile("../demo/clip.mp4")
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureOf(t, clip)
	f.connect()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, body := get(t, ctx, f.url(".mp4"), nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, clip) {
		t.Fatalf("status %d, %d bytes", resp.StatusCode, len(body))
	}
	d, err := mp4Duration(bytes.NewReader(clip), int64(len(clip)))
	if err != nil || d < 19*time.Second || d > 21*time.Second {
		t.Fatalf("clip duration %v, %v; want about 20 s", d, err)
	}
	want := int64(float64(len(clip)) / d.Seconds())
	if got := f.swarm.Bitrate(); got != want {
		t.Errorf("swarm bitrate %d B/s, want %d (%d bytes over %v)", got, want, len(clip), d)
	}
}

func FuzzMP4Duration(f *testing.F) {
	f.Add(bytes.Join([][]byte{box("ftyp", []byte("isom")), box("moov", mvhd(0, 1000, 20_000))}, nil))
	f.Add(box("moov", mvhd(1, 600, 1<<40)))
	f.Add(append(binary.BigEndian.AppendUint32(nil, 1), "moov\x00\x00\x00\x00\x00\x00\x00\x10"...))
	f.Add(append(binary.BigEndian.AppendUint32(nil, 0), "moov"...))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := mp4Duration(bytes.NewReader(b), int64(len(b)))
		if err == nil && d <= 0 {
			t.Fatalf("duration %v without an error", d)
		}
	})
}
