package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// Event names, the ev field of a Record.
const (
	EvStart    = "start"
	EvSample   = "sample"
	EvComplete = "complete"
	EvExit     = "exit"
)

var errClosed = errors.New("events: writer closed")

// Record is one line of an event log; the package documentation describes
// the fields.
type Record struct {
	T        int64             `json:"t"`
	Ev       string            `json:"ev"`
	Role     string            `json:"role,omitempty"`
	Addr     string            `json:"addr,omitempty"`
	Root     string            `json:"root,omitempty"`
	Size     int64             `json:"size,omitempty"`
	Chunks   uint64            `json:"chunks,omitempty"`
	Have     uint64            `json:"have"`
	From     map[string]uint64 `json:"from,omitempty"`
	To       map[string]uint64 `json:"to,omitempty"`
	In       map[string]uint64 `json:"in,omitempty"`
	Out      map[string]uint64 `json:"out,omitempty"`
	BytesIn  uint64            `json:"bin,omitempty"`
	BytesOut uint64            `json:"bout,omitempty"`
	Losses   uint64            `json:"loss,omitempty"`
	Retx     uint64            `json:"retx,omitempty"`
	Cwnd     int64             `json:"cwnd,omitempty"`
	Inflight int64             `json:"infl,omitempty"`
	QDelay   int64             `json:"qd,omitempty"`
	Err      string            `json:"err,omitempty"`
}

// Writer writes records to an event log. It is safe for concurrent use.
type Writer struct {
	mu  sync.Mutex // guards the fields below
	w   io.Writer
	buf []byte
	err error // first write error; later writes return it
}

// Create opens the event log at path for appending, creating it if needed:
// a process restarted with the same log continues it after a new start
// record.
func Create(path string) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	return NewWriter(f), nil
}

// NewWriter returns a Writer on w. Close closes w if it is an io.Closer.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write appends r as one line, in one call to the underlying writer.
func (w *Writer) Write(r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("events: encode %s record: %w", r.Ev, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.buf = append(append(w.buf[:0], b...), '\n')
	if _, err := w.w.Write(w.buf); err != nil {
		w.err = fmt.Errorf("events: write: %w", err)
		return w.err
	}
	return nil
}

// Close closes the underlying writer if it is an io.Closer. Writes after
// Close fail.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == errClosed {
		return nil
	}
	w.err = errClosed
	if c, ok := w.w.(io.Closer); ok {
		if err := c.Close(); err != nil {
			return fmt.Errorf("events: close: %w", err)
		}
	}
	return nil
}
