package events

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var sampleRecords = []Record{
	{T: 1700000000000, Ev: EvStart, Role: "get", Addr: "127.0.0.1:40000", Root: "7b72db4d084873f536c5972c0276f45fae2dd3fc"},
	{T: 1700000000250, Ev: EvSample, Size: 4097, Chunks: 5, Have: 2,
		From: map[string]uint64{"127.0.0.1:7574": 2048}, In: map[string]uint64{"DATA": 2, "HANDSHAKE": 1},
		Out: map[string]uint64{"REQUEST": 1, "ACK": 2}, BytesIn: 2200, BytesOut: 90},
	{T: 1700000000400, Ev: EvComplete, Size: 4097, Chunks: 5, Have: 5,
		From: map[string]uint64{"127.0.0.1:7574": 4097}, To: map[string]uint64{"[::1]:9": 1}},
	{T: 1700000000401, Ev: EvExit, Err: "download incomplete: \"quoted\"\nnewline <&>"},
}

func writeAll(t testing.TB, recs []Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	b := writeAll(t, sampleRecords)
	if n := bytes.Count(b, []byte("\n")); n != len(sampleRecords) {
		t.Fatalf("%d lines for %d records:\n%s", n, len(sampleRecords), b)
	}
	recs, st, err := Read(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(recs, sampleRecords) {
		t.Errorf("read back\n%+v\nwant\n%+v", recs, sampleRecords)
	}
	if st != (Stats{Lines: len(sampleRecords)}) {
		t.Errorf("stats %+v", st)
	}
}

// TestWireFormat pins the field names, which other programs read.
func TestWireFormat(t *testing.T) {
	got := string(writeAll(t, sampleRecords[1:2]))
	want := `{"t":1700000000250,"ev":"sample","size":4097,"chunks":5,"have":2,"from":{"127.0.0.1:7574":2048},` +
		`"in":{"DATA":2,"HANDSHAKE":1},"out":{"ACK":2,"REQUEST":1},"bin":2200,"bout":90}` + "\n"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := string(writeAll(t, []Record{{T: 5, Ev: EvSample}})); got != `{"t":5,"ev":"sample","have":0}`+"\n" {
		t.Errorf("empty sample: %s", got)
	}
}

// countingWriter counts Write calls.
type countingWriter struct {
	bytes.Buffer
	calls int
}

func (c *countingWriter) Write(b []byte) (int, error) {
	c.calls++
	return c.Buffer.Write(b)
}

func TestOneWritePerRecord(t *testing.T) {
	var cw countingWriter
	w := NewWriter(&cw)
	for _, r := range sampleRecords {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if cw.calls != len(sampleRecords) {
		t.Errorf("%d write calls for %d records", cw.calls, len(sampleRecords))
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(b []byte) (int, error) {
	f.n++
	return 0, errors.New("disk full")
}

func TestWriteErrorSticks(t *testing.T) {
	fw := &failWriter{}
	w := NewWriter(fw)
	if err := w.Write(sampleRecords[0]); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err %v", err)
	}
	if err := w.Write(sampleRecords[1]); err == nil || fw.n != 1 {
		t.Errorf("second write: err %v after %d calls", err, fw.n)
	}
}

func TestCreate(t *testing.T) {
	p := filepath.Join(t.TempDir(), "log.jsonl")
	w, err := Create(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range sampleRecords {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := w.Write(sampleRecords[0]); err == nil {
		t.Error("Write after Close succeeded")
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, _, err := Read(f)
	if err != nil || len(recs) != len(sampleRecords) {
		t.Fatalf("%d records, err %v", len(recs), err)
	}
	if _, err := Create(filepath.Join(p, "not-a-dir", "x")); err == nil {
		t.Error("Create under a file succeeded")
	}
}

func TestReadSkips(t *testing.T) {
	good := writeAll(t, sampleRecords[:2])
	long := `{"t":1,"ev":"sample","err":"` + strings.Repeat("x", MaxLine) + `"}`
	in := string(good[:20]) + "\n" + // a line cut short, then the writer restarted
		string(good) +
		"\n   \r\n" + // blank lines are not counted
		"not json\n" +
		"[1,2]\n" +
		"null\n" +
		`{"ev":"sample"}` + "\n" + // no t
		`{"t":3}` + "\n" + // no ev
		`{"t":-1,"ev":"x"}` + "\n" +
		`{"t":3,"ev":"sample","have":-1}` + "\n" + // wrong type
		`{"t":3,"ev":"sample"} trailing` + "\n" +
		long + "\n" +
		`{"t":4,"ev":"exit","from":{},"in":{"DATA":1}}` + "\r\n" +
		`{"t":5,"ev":"sam`
	recs, st, err := Read(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]Record(nil), sampleRecords[:2]...), Record{T: 4, Ev: EvExit, In: map[string]uint64{"DATA": 1}})
	if !reflect.DeepEqual(recs, want) {
		t.Errorf("records\n%+v\nwant\n%+v", recs, want)
	}
	if want := (Stats{Lines: 14, Malformed: 10, TooLong: 1, Truncated: true}); st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
	if st.Lines != len(recs)+st.Skipped() {
		t.Errorf("lines %d != %d records + %d skipped", st.Lines, len(recs), st.Skipped())
	}
}

func TestReadLineAtLimit(t *testing.T) {
	pad := func(n int) string {
		head := `{"t":1,"ev":"x","err":"`
		return head + strings.Repeat("y", n-len(head)-2) + `"}`
	}
	for _, c := range []struct {
		in   string
		recs int
	}{
		{pad(MaxLine) + "\n" + `{"t":2,"ev":"y"}`, 2},
		{`{"t":2,"ev":"y"}` + "\n" + pad(MaxLine), 2},
		{pad(MaxLine+1) + "\n" + `{"t":2,"ev":"y"}`, 1},
		{`{"t":2,"ev":"y"}` + "\n" + pad(MaxLine+1), 1},
	} {
		recs, st, err := Read(strings.NewReader(c.in))
		if err != nil || len(recs) != c.recs || st.TooLong != 2-c.recs {
			t.Errorf("%d records, %+v, err %v; want %d records", len(recs), st, err, c.recs)
		}
	}
}

type errReader struct{ data []byte }

func (e *errReader) Read(b []byte) (int, error) {
	if len(e.data) == 0 {
		return 0, errors.New("device gone")
	}
	n := copy(b, e.data)
	e.data = e.data[n:]
	return n, nil
}

func TestReadError(t *testing.T) {
	recs, _, err := Read(&errReader{data: writeAll(t, sampleRecords[:1])})
	if err == nil || !strings.Contains(err.Error(), "device gone") || len(recs) != 1 {
		t.Errorf("%d records, err %v", len(recs), err)
	}
}
