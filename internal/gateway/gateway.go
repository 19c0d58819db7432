// Package gateway serves the swarms of a node over HTTP, so that players
// and browsers can watch while the content downloads.
//
// Each swarm is at /<roothash>, optionally with a file extension
// (/<roothash>.mp4) that sets the Content-Type; without one the type comes
// from a hint the server was given or from sniffing the first verified
// bytes. GET and HEAD honour Range and If-Range (the root hash is a strong
// ETag: the bytes behind it never change). A read of bytes that are not
// verified yet blocks until they are — the gateway never returns anything
// that did not pass the Merkle check — and tells the swarm where each
// waiting reader is and how far its range goes, so what players need next
// is fetched first: every reader has an urgent range of its own (an MP4's
// index at the end of the file and its first frames at the start), the one
// that waited last first.
// A read that has to wait longer than StallAfter counts as a stall.
package gateway

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nextshare/nextshare/internal/bin"
	"github.com/nextshare/nextshare/internal/ppspp"
	"github.com/nextshare/nextshare/internal/store"
)

// Swarms finds a swarm by root hash; nil if the node has none.
type Swarms interface {
	Swarm(root []byte) *ppspp.Swarm
}

// Config configures a gateway.
type Config struct {
	Swarms Swarms
	Logger *slog.Logger
	// Types maps a root hash (hex) to a Content-Type hint, for requests
	// without an extension (from a link's type= hint, say).
	Types map[string]string
	// StallAfter is how long a read may wait for a chunk before the wait
	// counts as a stall (default 250 ms).
	StallAfter time.Duration
	// SizeTimeout bounds the wait for a swarm's exact size, which is known
	// only once its last chunk is verified (default 30 s); 503 after it.
	SizeTimeout time.Duration
}

// Stats are the gateway's counters.
type Stats struct {
	Requests    uint64 // requests for a swarm
	Active      int64  // responses being written now
	BytesServed uint64 // verified bytes handed to clients
	Waits       uint64 // reads that had to wait for chunks
	Stalls      uint64 // waits longer than StallAfter
	StallTime   time.Duration
	BadRequests uint64 // 400
	NotFound    uint64 // 404
}

// Server is an http.Handler serving swarms.
type Server struct {
	cfg Config
	log *slog.Logger

	requests, bytesServed, waits, stalls, stallNS, bad, notFound atomic.Uint64
	active                                                       atomic.Int64

	mu      sync.Mutex
	readers map[*ppspp.Swarm][]*reader // active readers, the latest to wait last
	rates   map[*ppspp.Swarm]*rateProbe
}

// rateProbe tracks the search for a swarm's bitrate in its MP4 header.
type rateProbe struct {
	next time.Time // no attempt before
	done bool      // found, or not an MP4 with a duration
}

// probeEvery spaces attempts to read an MP4's duration while the bytes it
// needs (the moov box, perhaps at the end) are not there yet.
const probeEvery = 250 * time.Millisecond

// New returns a gateway over cfg.Swarms.
func New(cfg Config) *Server {
	if cfg.StallAfter <= 0 {
		cfg.StallAfter = 250 * time.Millisecond
	}
	if cfg.SizeTimeout <= 0 {
		cfg.SizeTimeout = 30 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, log: log, readers: make(map[*ppspp.Swarm][]*reader), rates: make(map[*ppspp.Swarm]*rateProbe)}
}

// reaimStep is how far, in chunks, a reader may move forward from where
// the picker last heard of it before the picker hears again: playback
// moving on is frequent and the urgent range ahead of the reader covers
// far more than this.
const reaimStep = 16

// jumpAfter is how far, in chunks, a reader must move forward at once to
// count as a jump rather than playback moving on.
const jumpAfter = 1024

// aim tells the swarm where its readers wait, rd first: the reader that
// started waiting, or jumped, last is where a player is stuck (a seek
// moves the picker at once), while every reader keeps an urgent range of
// its own, so that a player reading an MP4's index at the end of the file
// and its first frames at the start gets both.
func (g *Server) aim(rd *reader) {
	g.mu.Lock()
	defer g.mu.Unlock()
	rs := g.readers[rd.s]
	known := rd.aimed && slices.Contains(rs, rd)
	if known && rd.pos >= rd.aimedAt && rd.pos < rd.aimedAt+reaimStep {
		return // playback moving on: the urgent range still covers it
	}
	if !known || rd.pos < rd.aimedAt || rd.pos >= rd.aimedAt+jumpAfter {
		// New, or a jump: this reader is where a player is stuck now.
		// Playback moving on keeps its rank instead: two readers
		// streaming side by side would otherwise swap places, and the
		// picker's window with them, at every step.
		rs = slices.DeleteFunc(rs, func(o *reader) bool { return o == rd })
		g.readers[rd.s] = append(rs, rd)
	}
	rd.aimed, rd.aimedAt = true, rd.pos
	g.tellLocked(rd.s)
}

// leave forgets rd when its response ends (or its client went away): the
// picker follows the remaining readers, the one that waited last first,
// or, with none left, goes back to the start of the content.
func (g *Server) leave(rd *reader) {
	g.mu.Lock()
	defer g.mu.Unlock()
	rs := g.readers[rd.s]
	if !slices.Contains(rs, rd) {
		return
	}
	rs = slices.DeleteFunc(rs, func(o *reader) bool { return o == rd })
	if len(rs) > 0 {
		g.readers[rd.s] = rs
	} else {
		delete(g.readers, rd.s)
		delete(g.rates, rd.s)
	}
	g.tellLocked(rd.s)
}

// learnBitrate gives the swarm its stream's bitrate, the content's size
// over the duration in its MP4 movie header, once the header's bytes are
// verified, so that readers' urgent ranges cover the right number of
// seconds. It reads only verified bytes and never waits.
func (g *Server) learnBitrate(rd *reader, now time.Time) {
	g.mu.Lock()
	p := g.rates[rd.s]
	if p == nil {
		p = &rateProbe{}
		g.rates[rd.s] = p
	}
	if p.done || now.Before(p.next) {
		g.mu.Unlock()
		return
	}
	p.next = now.Add(probeEvery)
	g.mu.Unlock()

	d, err := mp4Duration(rd.st, rd.size)
	if errors.Is(err, store.ErrNotPresent) {
		return // try again once more has arrived
	}
	g.mu.Lock()
	p.done = true
	g.mu.Unlock()
	if err != nil || d < time.Second {
		return
	}
	rate := int64(float64(rd.size) / d.Seconds())
	g.log.Debug("stream bitrate", "bytes_per_second", rate, "duration", d)
	rd.s.SetBitrate(rate)
}

// tellLocked hands the swarm its readers' chunk ranges, the one that
// waited last first. Holding g.mu keeps the swarm's view in the order the
// readers moved.
func (g *Server) tellLocked(s *ppspp.Swarm) {
	rs := g.readers[s]
	ranges := make([]bin.Range, 0, len(rs))
	for k := len(rs) - 1; k >= 0; k-- {
		ranges = append(ranges, bin.Range{Start: rs[k].pos, End: max(rs[k].pos, rs[k].last)})
	}
	s.SetReaders(ranges)
}

// Readers returns how many readers of any swarm are registered (those that
// waited for chunks and have not finished).
func (g *Server) Readers() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, rs := range g.readers {
		n += len(rs)
	}
	return n
}

// Stats returns the counters.
func (g *Server) Stats() Stats {
	return Stats{
		Requests: g.requests.Load(), Active: g.active.Load(), BytesServed: g.bytesServed.Load(),
		Waits: g.waits.Load(), Stalls: g.stalls.Load(), StallTime: time.Duration(g.stallNS.Load()),
		BadRequests: g.bad.Load(), NotFound: g.notFound.Load(),
	}
}

// parsePath splits "/<hex root>[.ext]" into the root hash and extension.
func parsePath(p string) (root []byte, ext string, err error) {
	name, ok := strings.CutPrefix(p, "/")
	if !ok || strings.Contains(name, "/") {
		return nil, "", errors.New("want /<root hash>[.ext]")
	}
	hexRoot, ext, _ := strings.Cut(name, ".")
	if n := len(hexRoot); n != 40 && n != 56 && n != 64 && n != 96 && n != 128 {
		return nil, "", fmt.Errorf("root hash of %d hex digits", n)
	}
	root, err = hex.DecodeString(hexRoot)
	if err != nil {
		return nil, "", errors.New("root hash is not hex")
	}
	if len(ext) > 10 || strings.ContainsFunc(ext, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		return nil, "", errors.New("bad extension")
	}
	return root, ext, nil
}

func (g *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	root, ext, err := parsePath(r.URL.Path)
	if err != nil {
		g.bad.Add(1)
		http.Error(w, "bad path: "+err.Error(), http.StatusBadRequest)
		return
	}
	s := g.cfg.Swarms.Swarm(root)
	if s == nil {
		g.notFound.Add(1)
		http.Error(w, "no such swarm", http.StatusNotFound)
		return
	}
	g.requests.Add(1)
	g.active.Add(1)
	defer g.active.Add(-1)

	rd := &reader{g: g, s: s, st: s.Content().Store, ctx: r.Context()}
	defer g.leave(rd)
	size, err := g.waitSize(rd)
	if err != nil {
		http.Error(w, "content size not known yet: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	h := w.Header()
	switch t := mime.TypeByExtension("." + ext); {
	case ext != "" && t != "":
		h.Set("Content-Type", t)
	case g.cfg.Types[hex.EncodeToString(root)] != "":
		h.Set("Content-Type", g.cfg.Types[hex.EncodeToString(root)])
	}
	h.Set("ETag", `"`+hex.EncodeToString(root)+`"`)
	h.Set("Accept-Ranges", "bytes")
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	rd.size = size
	rd.last = uint64(lastByte(r.Header.Get("Range"), size) / int64(s.Content().Tree.ChunkSize()))
	http.ServeContent(w, r, "", time.Time{}, rd)
}

// lastByte returns the last byte a request's Range header asks for: the
// end of a single "bytes=a-b" range, else (no header, "bytes=a-", a
// suffix or several ranges) the content's last byte. A player reading an
// MP4's index at the end of the file names it this way; the reader's
// urgent range then stops where the player stops.
func lastByte(h string, size int64) int64 {
	spec, ok := strings.CutPrefix(h, "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return size - 1
	}
	start, end, ok := strings.Cut(spec, "-")
	if !ok || strings.TrimSpace(start) == "" || end == "" {
		return size - 1
	}
	n, err := strconv.ParseInt(strings.TrimSpace(end), 10, 64)
	if err != nil || n < 0 || n >= size {
		return size - 1
	}
	return n
}

// waitSize returns the swarm's size: the exact one, or the link's hint once
// the peak hashes confirm its chunk count; without either it waits, with
// the picker aimed at the last chunk, which fixes the size.
func (g *Server) waitSize(rd *reader) (int64, error) {
	ctx, cancel := context.WithTimeout(rd.ctx, g.cfg.SizeTimeout)
	defer cancel()
	s := rd.s
	aimed := false
	var waited time.Time
	for {
		changed := s.Changed()
		in := s.Info()
		size := in.Size
		if size < 0 && in.NumChunks > 0 && in.SizeHint > 0 {
			// The link's size, if it fits the tree: the last chunk will
			// prove it, and until then only verified bytes are served.
			if cs := int64(s.Content().Tree.ChunkSize()); uint64((in.SizeHint+cs-1)/cs) == in.NumChunks {
				size = in.SizeHint
			}
		}
		if size >= 0 {
			if !waited.IsZero() {
				g.noteWait(time.Since(waited))
			}
			return size, nil
		}
		if waited.IsZero() {
			waited = time.Now()
		}
		if in.NumChunks > 0 && !aimed {
			rd.pos, rd.last = in.NumChunks-1, in.NumChunks-1
			g.aim(rd)
			aimed = true
		}
		select {
		case <-changed:
		case <-s.Failed():
			return 0, s.Err()
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// reader is an io.ReadSeeker over a swarm's verified bytes that blocks on
// the others.
type reader struct {
	g    *Server
	s    *ppspp.Swarm
	st   *store.Store
	size int64
	off  int64
	ctx  context.Context
	pos  uint64 // chunk this reader last waited for
	last uint64 // last chunk of the byte range the client asked for

	// Guarded by Server.mu: where the picker last heard this reader was.
	aimed   bool
	aimedAt uint64
}

func (rd *reader) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += rd.off
	case io.SeekEnd:
		off += rd.size
	default:
		return 0, errors.New("gateway: bad whence")
	}
	if off < 0 {
		return 0, errors.New("gateway: negative position")
	}
	rd.off = off
	return off, nil
}

func (rd *reader) Read(p []byte) (int, error) {
	if rd.off >= rd.size {
		return 0, io.EOF
	}
	if int64(len(p)) > rd.size-rd.off {
		p = p[:rd.size-rd.off]
	}
	var waited time.Time
	for {
		changed := rd.s.Changed()
		n, err := rd.st.ReadAt(p, rd.off)
		if n > 0 || err == nil || errors.Is(err, io.EOF) {
			if !waited.IsZero() {
				rd.g.noteWait(time.Since(waited))
			}
			rd.off += int64(n)
			rd.g.bytesServed.Add(uint64(n))
			if n > 0 {
				rd.g.learnBitrate(rd, time.Now())
				return n, nil
			}
			return 0, io.EOF
		}
		if !errors.Is(err, store.ErrNotPresent) {
			return 0, err
		}
		if waited.IsZero() {
			waited = time.Now()
			rd.pos = uint64(rd.off / int64(rd.st.Meta().ChunkSize))
			rd.g.aim(rd)
		}
		select {
		case <-changed:
		case <-rd.s.Failed():
			return 0, rd.s.Err()
		case <-rd.ctx.Done():
			rd.g.noteWait(time.Since(waited))
			return 0, rd.ctx.Err()
		}
	}
}

func (g *Server) noteWait(d time.Duration) {
	g.waits.Add(1)
	if d >= g.cfg.StallAfter {
		g.stalls.Add(1)
		g.stallNS.Add(uint64(d))
	}
}
