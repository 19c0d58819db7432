package events

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzRead reads arbitrary input, checks the counts add up, writes the
// records back and checks they read back the same, with nothing skipped.
func FuzzRead(f *testing.F) {
	good := writeAll(f, sampleRecords)
	f.Add(good)
	f.Add(good[:len(good)-7])
	f.Add([]byte("{\"t\":1,\"ev\":\"x\",\"from\":{}}\r\n\n\nnull\n[]\n{\"t\":2,\"ev\":\"\"}\n{\"t\":1e3,\"ev\":\"x\"}"))
	f.Add([]byte("{\"t\":3,\"ev\":\"x\",\"in\":{\"A\":1,\"A\":2},\"err\":\"\\ud800\\xff\"}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, st, err := Read(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if st.Lines != len(recs)+st.Skipped() {
			t.Fatalf("lines %d != %d records + %d skipped", st.Lines, len(recs), st.Skipped())
		}
		var buf bytes.Buffer
		w := NewWriter(&buf)
		for _, r := range recs {
			if err := w.Write(r); err != nil {
				t.Fatalf("write back %+v: %v", r, err)
			}
		}
		again, st2, err := Read(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if st2.Skipped() != 0 || !reflect.DeepEqual(again, recs) {
			t.Fatalf("read back %+v (%+v)\nwant %+v", again, st2, recs)
		}
	})
}
