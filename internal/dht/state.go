package dht

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
)

// state is the persisted part of a node: its ID and routing-table contacts.
type state struct {
	id    ID
	nodes []nodeInfo
}

type stateFile struct {
	ID    string   `json:"id"`
	Nodes []string `json:"nodes"` // "<40 hex digits>@<ip:port>"
}

const maxStateNodes = 160 * bucketK

// loadState reads a state file; a missing file gives nil, nil.
func loadState(path string) (*state, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var f stateFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	st := &state{}
	if f.ID != "" {
		if st.id, err = ParseID(f.ID); err != nil {
			return nil, err
		}
	}
	for _, s := range f.Nodes {
		if len(st.nodes) >= maxStateNodes {
			break
		}
		if len(s) < 42 || s[40] != '@' {
			continue
		}
		id, err := ParseID(s[:40])
		if err != nil {
			continue
		}
		ap, err := netip.ParseAddrPort(s[41:])
		if err != nil || ap.Port() == 0 || ap.Addr().IsUnspecified() {
			continue
		}
		st.nodes = append(st.nodes, nodeInfo{id, ap})
	}
	return st, nil
}

// saveState writes st to path atomically (temporary file and rename).
func saveState(path string, st *state) error {
	f := stateFile{ID: st.id.String()}
	for _, ni := range st.nodes {
		f.Nodes = append(f.Nodes, ni.ID.String()+"@"+ni.Addr.String())
	}
	b, err := json.MarshalIndent(&f, "", "\t")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(append(b, '\n'))
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
	}
	return werr
}
