package uri

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/nextshare/nextshare/internal/merkle"
)

// Scheme is the URI scheme of NextShare links.
const Scheme = "ppsp"

// maxLen bounds the length of a link we parse.
const maxLen = 4096

// maxPeers bounds the peer hints we keep.
const maxPeers = 32

// ErrSyntax is wrapped by every parse error.
var ErrSyntax = errors.New("malformed ppsp link")

// URI is a parsed link.
type URI struct {
	Root        []byte
	Func        merkle.Func
	Size        int64 // -1 if not hinted
	ContentType string
	Peers       []netip.AddrPort
}

// Parse parses a ppsp:// link. A bare root hash in hex is accepted too.
func Parse(s string) (URI, error) {
	u := URI{Size: -1}
	if len(s) > maxLen {
		return u, fmt.Errorf("%w: longer than %d bytes", ErrSyntax, maxLen)
	}
	rest := s
	if i := strings.Index(s, "://"); i >= 0 {
		if !strings.EqualFold(s[:i], Scheme) {
			return u, fmt.Errorf("%w: scheme %q is not %s", ErrSyntax, s[:i], Scheme)
		}
		rest = s[i+3:]
	}
	hash, query, _ := strings.Cut(rest, "?")
	hash = strings.TrimSuffix(hash, "/")
	switch len(hash) {
	case 40:
		u.Func = merkle.SHA1
	case 64:
		u.Func = merkle.SHA256
	default:
		return u, fmt.Errorf("%w: root hash %q must be 40 or 64 hex digits", ErrSyntax, clip(hash))
	}
	root, err := hex.DecodeString(hash)
	if err != nil {
		return u, fmt.Errorf("%w: root hash %q is not hex", ErrSyntax, clip(hash))
	}
	u.Root = root
	if query == "" {
		return u, nil
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return u, fmt.Errorf("%w: query: %v", ErrSyntax, err)
	}
	if v := q.Get("size"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return u, fmt.Errorf("%w: size %q", ErrSyntax, clip(v))
		}
		u.Size = n
	}
	if v := q.Get("type"); v != "" {
		if len(v) > 128 || strings.ContainsAny(v, "\r\n") {
			return u, fmt.Errorf("%w: content type %q", ErrSyntax, clip(v))
		}
		u.ContentType = v
	}
	for _, p := range q["peer"] {
		if len(u.Peers) >= maxPeers {
			break
		}
		ap, err := netip.ParseAddrPort(p)
		if err != nil {
			return u, fmt.Errorf("%w: peer %q: %v", ErrSyntax, clip(p), err)
		}
		u.Peers = append(u.Peers, ap)
	}
	return u, nil
}

// String formats u as a link.
func (u URI) String() string {
	s := Scheme + "://" + hex.EncodeToString(u.Root)
	q := url.Values{}
	if u.Size > 0 {
		q.Set("size", strconv.FormatInt(u.Size, 10))
	}
	if u.ContentType != "" {
		q.Set("type", u.ContentType)
	}
	for _, p := range u.Peers {
		q.Add("peer", p.String())
	}
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
