package events

import (
	"encoding/hex"
	"errors"
	"net/netip"
	"sync"
	"time"

	"github.com/nextshare/nextshare/internal/ppspp"
)

// DefaultEvery is the default interval between samples.
const DefaultEvery = 250 * time.Millisecond

// Source is what a Sampler records: a node's engine and the swarm its log
// follows.
type Source struct {
	Role   string // "seed" or "get"
	Engine *ppspp.Engine
	Swarm  *ppspp.Swarm // nil: the log has the node's counters only
}

// Sampler writes a node's event log: start, a sample every interval,
// complete, and exit. Its goroutine is the only writer between Start and
// Stop, so records are in time order.
type Sampler struct {
	w     *Writer
	src   Source
	every time.Duration
	t0    time.Time
	quit  chan struct{}
	done  chan struct{}
	once  sync.Once

	// Fields below are owned by the sampling goroutine until done is
	// closed, then by Stop.
	last      ppspp.Info // the swarm's latest info, kept for after the engine closes
	completed bool
	err       error // first error writing the log
}

// Start writes the start record to w and samples src every interval
// (DefaultEvery if every <= 0) until Stop. The Sampler takes w over: Stop
// closes it.
func Start(w *Writer, src Source, every time.Duration) (*Sampler, error) {
	if src.Engine == nil {
		return nil, errors.New("events: no engine to sample")
	}
	if every <= 0 {
		every = DefaultEvery
	}
	s := &Sampler{w: w, src: src, every: every, t0: time.Now(), quit: make(chan struct{}), done: make(chan struct{})}
	r := s.record(EvStart)
	r.Role = src.Role
	r.Addr = src.Engine.LocalAddr().String()
	if src.Swarm != nil {
		r.Root = hex.EncodeToString(src.Swarm.Root())
	}
	if err := w.Write(r); err != nil {
		w.Close()
		return nil, err
	}
	go s.run()
	return s, nil
}

func (s *Sampler) run() {
	defer close(s.done)
	tick := time.NewTicker(s.every)
	defer tick.Stop()
	var complete <-chan struct{}
	if s.src.Swarm != nil {
		complete = s.src.Swarm.Done()
	}
	for {
		select {
		case <-s.quit:
			return
		case <-complete:
			complete = nil
			s.completed = true
			s.write(s.record(EvComplete))
		case <-tick.C:
			s.write(s.record(EvSample))
		}
	}
}

// Stop stops sampling and writes the last records: complete, if the swarm
// completed and the sampler had not written it yet, then exit, with cause
// as its err (nil for a clean exit). It closes the log and returns the
// first error writing it. Call it before closing the engine, so that the
// exit record has the final counters; later calls return the same error.
func (s *Sampler) Stop(cause error) error {
	s.once.Do(func() {
		close(s.quit)
		<-s.done
		if !s.completed && s.src.Swarm != nil {
			select {
			case <-s.src.Swarm.Done():
				s.completed = true
				s.write(s.record(EvComplete))
			default:
			}
		}
		r := s.record(EvExit)
		if cause != nil {
			r.Err = cause.Error()
		}
		s.write(r)
		if err := s.w.Close(); err != nil && s.err == nil {
			s.err = err
		}
	})
	return s.err
}

func (s *Sampler) write(r Record) {
	if err := s.w.Write(r); err != nil && s.err == nil {
		s.err = err
	}
}

// record returns a record of kind ev with the current counters.
func (s *Sampler) record(ev string) Record {
	var info ppspp.Info
	if s.src.Swarm != nil {
		info = s.src.Swarm.Info()
		if info.Root == nil {
			info = s.last // the engine has closed
		}
		s.last = info
	}
	st := s.src.Engine.Stats().Snapshot()
	r := Record{
		T:        s.t0.UnixMilli() + time.Since(s.t0).Milliseconds(),
		Ev:       ev,
		Chunks:   info.NumChunks,
		Have:     info.HaveChunks,
		From:     addrCounts(info.BytesFrom),
		To:       addrCounts(info.BytesTo),
		In:       st.MsgsIn.ByName(),
		Out:      st.MsgsOut.ByName(),
		BytesIn:  st.BytesIn,
		BytesOut: st.BytesOut,
		Losses:   st.Losses,
		Retx:     st.Retransmits,
		Cwnd:     st.UplinkWindow,
		Inflight: st.UplinkInflight,
		QDelay:   st.UplinkQueueDelay.Microseconds(),
	}
	if info.Size > 0 {
		r.Size = info.Size
	}
	return r
}

// addrCounts returns the non-zero counts of m keyed by "ip:port", or nil.
func addrCounts(m map[netip.AddrPort]uint64) map[string]uint64 {
	var out map[string]uint64
	for a, n := range m {
		if n == 0 {
			continue
		}
		if out == nil {
			out = make(map[string]uint64, len(m))
		}
		out[a.String()] = n
	}
	return out
}
