// Package daemon is the HTTP face of a long-running node: a small JSON API
// to add, list and remove swarms, and the gateway that streams them, on one
// port.
//
//	GET    /api/swarms          list: [{root, uri, path, size, chunks, have, complete, peers, bytes_from}]
//	POST   /api/swarms          {"uri": LINK, "path": FILE} downloads LINK (path optional);
//	                            {"seed": FILE} seeds FILE; answers 201 with the swarm
//	GET    /api/swarms/ROOT     one swarm
//	DELETE /api/swarms/ROOT     stops the swarm (its file stays); 204
//	GET    /ROOT[.ext]          the stream (package gateway)
//
// Errors are JSON {"error": "..."} with 400, 404, 405 or 500.
package daemon

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nextshare/nextshare/internal/gateway"
	"github.com/nextshare/nextshare/internal/merkle"
	"github.com/nextshare/nextshare/internal/node"
	"github.com/nextshare/nextshare/internal/ppspp"
	"github.com/nextshare/nextshare/internal/uri"
)

// Config configures the API.
type Config struct {
	Node *node.Node
	// Dir is where downloads go when a request names no path.
	Dir string
	// Gateway serves everything outside /api/.
	Gateway *gateway.Server
}

// Swarm is the JSON view of a swarm.
type Swarm struct {
	Root      string            `json:"root"`
	URI       string            `json:"uri"`
	Path      string            `json:"path"`
	Size      int64             `json:"size"`
	Chunks    uint64            `json:"chunks"`
	Have      uint64            `json:"have"`
	Complete  bool              `json:"complete"`
	Peers     int               `json:"peers"`
	BytesFrom map[string]uint64 `json:"bytes_from"`
	Error     string            `json:"error,omitempty"`
}

// maxBody bounds a request body.
const maxBody = 64 << 10

type api struct{ cfg Config }

// New returns the daemon's handler.
func New(cfg Config) http.Handler {
	a := &api{cfg: cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/swarms", a.swarms)
	mux.HandleFunc("/api/swarms/{root}", a.swarm)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		fail(w, http.StatusNotFound, errors.New("no such API path"))
	})
	mux.Handle("/", cfg.Gateway)
	return mux
}

func (a *api) swarms(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		out := []Swarm{}
		for s, path := range a.cfg.Node.Swarms() {
			out = append(out, view(s, path))
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Root < out[j].Root })
		reply(w, http.StatusOK, out)
	case http.MethodPost:
		var req struct {
			URI  string `json:"uri"`
			Path string `json:"path"`
			Seed string `json:"seed"`
		}
		dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			fail(w, http.StatusBadRequest, fmt.Errorf("body: %w", err))
			return
		}
		var (
			s    *ppspp.Swarm
			path string
			err  error
		)
		switch {
		case req.Seed != "" && req.URI == "":
			path = req.Seed
			if _, serr := os.Stat(path); serr != nil {
				fail(w, http.StatusBadRequest, serr)
				return
			}
			s, err = a.cfg.Node.Seed(path, merkle.SHA1)
		case req.URI != "" && req.Seed == "":
			u, perr := uri.Parse(req.URI)
			if perr != nil {
				fail(w, http.StatusBadRequest, perr)
				return
			}
			path = req.Path
			if path == "" {
				path = filepath.Join(a.cfg.Dir, hex.EncodeToString(u.Root))
			}
			s, err = a.cfg.Node.Get(u, path, nil)
		default:
			fail(w, http.StatusBadRequest, errors.New(`want {"uri": LINK[, "path": FILE]} or {"seed": FILE}`))
			return
		}
		if err != nil {
			fail(w, http.StatusInternalServerError, err)
			return
		}
		reply(w, http.StatusCreated, view(s, path))
	default:
		w.Header().Set("Allow", "GET, POST")
		fail(w, http.StatusMethodNotAllowed, errors.New("method not allowed"))
	}
}

func (a *api) swarm(w http.ResponseWriter, r *http.Request) {
	root, err := hex.DecodeString(r.PathValue("root"))
	if err != nil || len(root) < 20 {
		fail(w, http.StatusBadRequest, errors.New("root hash is not hex"))
		return
	}
	var found *ppspp.Swarm
	var path string
	for s, p := range a.cfg.Node.Swarms() {
		if string(s.Root()) == string(root) {
			found, path = s, p
		}
	}
	if found == nil {
		fail(w, http.StatusNotFound, errors.New("no such swarm"))
		return
	}
	switch r.Method {
	case http.MethodGet:
		reply(w, http.StatusOK, view(found, path))
	case http.MethodDelete:
		if err := a.cfg.Node.Remove(found); err != nil {
			fail(w, http.StatusInternalServerError, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, DELETE")
		fail(w, http.StatusMethodNotAllowed, errors.New("method not allowed"))
	}
}

func view(s *ppspp.Swarm, path string) Swarm {
	in := s.Info()
	v := Swarm{
		Root: hex.EncodeToString(in.Root), Path: path, Size: in.Size, Chunks: in.NumChunks,
		Have: in.HaveChunks, Complete: in.Complete, Peers: len(in.Peers), BytesFrom: map[string]uint64{},
	}
	v.URI = uri.URI{Root: in.Root, Func: s.Content().Tree.Func(), Size: in.Size}.String()
	for a, b := range in.BytesFrom {
		v.BytesFrom[a.String()] = b
	}
	if err := s.Err(); err != nil {
		v.Error = err.Error()
	}
	return v
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, code int, err error) {
	reply(w, code, map[string]string{"error": strings.TrimSpace(err.Error())})
}
