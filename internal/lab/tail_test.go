package lab

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nextshare/nextshare/internal/events"
)

// TestTailSkipsSamples checks that a poll decodes every record but the
// samples, of which it takes the last, and that it keeps a line cut short
// for the next poll.
func TestTailSkipsSamples(t *testing.T) {
	p := filepath.Join(t.TempDir(), "events.jsonl")
	write := func(s string) {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	tl := tail{path: p}
	var got []string
	poll := func() {
		tl.poll(func(r events.Record) { got = append(got, r.Ev) })
	}
	write(`{"t":1,"ev":"start","role":"get"}` + "\n" +
		`{"t":2,"ev":"sample","have":1}` + "\n" +
		`{"t":3,"ev":"sample","have":2}` + "\n" +
		`{"t":4,"ev":"sample","ha`)
	poll()
	if want := []string{"start", "sample"}; !slices.Equal(got, want) || tl.have != 2 {
		t.Fatalf("first poll: records %v, have %d; want %v, have 2", got, tl.have, want)
	}
	got = nil
	write(`ve":3}` + "\n" +
		`{"t":5,"ev":"sample","have":4}` + "\n" +
		`{"t":6,"ev":"complete","have":5}` + "\n" +
		`{"t":7,"ev":"sample","have":5}` + "\n")
	poll()
	if want := []string{"sample", "complete", "sample"}; !slices.Equal(got, want) || tl.have != 5 {
		t.Fatalf("second poll: records %v, have %d; want %v, have 5", got, tl.have, want)
	}
}
