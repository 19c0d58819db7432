package events

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MaxLine bounds the length of a line Read accepts, newline excluded. A
// sample of a node with a thousand peers is about 60 KiB.
const MaxLine = 1 << 20

// Stats says how Read fared. Lines = records returned + Malformed + TooLong.
type Stats struct {
	Lines     int // non-blank lines
	Malformed int // lines that are not a Record (a JSON object with ev and a positive t), truncated ones included
	TooLong   int // lines longer than MaxLine
	// Truncated is set when the input ends inside a line that was skipped
	// (a writer killed while writing it).
	Truncated bool
}

// Skipped returns how many lines Read skipped.
func (s Stats) Skipped() int { return s.Malformed + s.TooLong }

// Read returns the records of an event log in order, skipping lines that
// do not hold one. The error is non-nil only if reading r failed; the
// records before the failure are returned with it.
func Read(r io.Reader) ([]Record, Stats, error) {
	var (
		recs []Record
		st   Stats
		line []byte
		long bool // the current line passed MaxLine and is being skipped
	)
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		frag, err := br.ReadSlice('\n')
		if !long {
			n := len(line) + len(frag)
			if err == nil {
				n-- // the newline
			}
			if n > MaxLine {
				long, line = true, line[:0]
			} else {
				line = append(line, frag...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return recs, st, fmt.Errorf("events: read: %w", err)
		}
		ended := err == nil // else the input ends here
		switch {
		case long:
			st.Lines++
			st.TooLong++
			st.Truncated = !ended
		case len(bytes.TrimSpace(line)) > 0:
			st.Lines++
			if rec, ok := parse(line); ok {
				recs = append(recs, rec)
			} else {
				st.Malformed++
				st.Truncated = !ended
			}
		}
		if !ended {
			return recs, st, nil
		}
		line, long = line[:0], false
	}
}

// parse decodes one line: a JSON object with ev set and t positive.
// Empty maps are returned as nil, as the Writer leaves them out.
func parse(line []byte) (Record, bool) {
	var rec Record
	if json.Unmarshal(line, &rec) != nil || rec.Ev == "" || rec.T <= 0 {
		return Record{}, false
	}
	for _, m := range []*map[string]uint64{&rec.From, &rec.To, &rec.In, &rec.Out} {
		if len(*m) == 0 {
			*m = nil
		}
	}
	return rec, true
}
