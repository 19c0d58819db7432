package dht

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
)

// KRPC error codes (BEP 5).
const (
	errGeneric  = 201
	errServer   = 202
	errProtocol = 203
	errMethod   = 204
)

// Per-message caps on what is taken from a remote's answer.
const (
	maxNodesPerMsg  = 16  // entries of "nodes" / "nodes6"
	maxValuesPerMsg = 200 // entries of "values"
	maxTIDLen       = 16
)

// Method names.
const (
	mPing     = "ping"
	mFindNode = "find_node"
	mGetPeers = "get_peers"
	mAnnounce = "announce_peer"
	mGet      = "get" // BEP 44
	mPut      = "put" // BEP 44
)

var errKRPC = errors.New("krpc: malformed message")

// nodeInfo is a node's contact: its ID and UDP address.
type nodeInfo struct {
	ID   ID
	Addr netip.AddrPort
}

// Presence flags of optional fields of msg.
const (
	hasID = 1 << iota
	hasTarget
	hasInfoHash
	hasToken
	hasPort
	hasNodes
	hasNodes6
	hasValues
	hasV    // BEP 44 item fields
	hasK    //
	hasSig  //
	hasSeq  //
	hasSalt // non-empty salt
	hasCAS  //
)

// msg is a decoded KRPC message. Byte-slice fields alias the decoded
// datagram.
type msg struct {
	T    []byte // transaction ID
	Y    byte   // 'q', 'r' or 'e'
	Q    string // method of a query
	V    []byte // client version, if any
	RO   bool   // BEP 43 read-only flag
	IP   netip.AddrPort
	Has  uint16
	ID   ID // querying or responding node
	Tgt  ID // find_node target
	IH   ID // get_peers / announce_peer info-hash
	Tok  []byte
	Port int
	Impl bool // implied_port
	// BEP 44 item fields (queries: put, and seq of get; responses: get).
	Val  []byte // "v": the raw bencoded value, a copy
	K    [32]byte
	Sig  [64]byte
	Seq  int64
	Salt []byte // non-empty, or nil
	CAS  int64
	// Response fields.
	Nodes  []nodeInfo
	Nodes6 []nodeInfo
	Values []netip.AddrPort
	// Error fields.
	ECode int
	EMsg  []byte
}

// decodeMsg parses a KRPC datagram. It returns an error for anything that
// is not a well-formed query, response or error; unknown keys are ignored.
func decodeMsg(b []byte) (msg, error) {
	var m msg
	v, err := decodeValue(b)
	if err != nil {
		return m, err
	}
	if v.kind != kindDict {
		return m, errKRPC
	}
	t, ok := v.str("t")
	if !ok || len(t) == 0 || len(t) > maxTIDLen {
		return m, errKRPC
	}
	m.T = t
	y, ok := v.str("y")
	if !ok || len(y) != 1 {
		return m, errKRPC
	}
	m.Y = y[0]
	if vv, ok := v.get("v"); ok && vv.kind == kindStr {
		m.V = vv.s
	}
	if ro, ok := v.get("ro"); ok && ro.kind == kindInt && ro.i == 1 {
		m.RO = true
	}
	if ip, ok := v.str("ip"); ok {
		m.IP = parseCompactAddr(ip)
	}
	switch m.Y {
	case 'q':
		q, ok := v.str("q")
		if !ok || len(q) == 0 || len(q) > 32 {
			return m, errKRPC
		}
		m.Q = string(q)
		a, ok := v.get("a")
		if !ok || a.kind != kindDict {
			return m, errKRPC
		}
		if err := m.decodeArgs(a); err != nil {
			return m, err
		}
	case 'r':
		r, ok := v.get("r")
		if !ok || r.kind != kindDict {
			return m, errKRPC
		}
		if err := m.decodeResp(r); err != nil {
			return m, err
		}
	case 'e':
		e, ok := v.get("e")
		if !ok || e.kind != kindList || len(e.list) < 2 || e.list[0].kind != kindInt || e.list[1].kind != kindStr {
			return m, errKRPC
		}
		if e.list[0].i < 0 || e.list[0].i > 999 {
			return m, errKRPC
		}
		m.ECode = int(e.list[0].i)
		m.EMsg = e.list[1].s
	default:
		return m, errKRPC
	}
	return m, nil
}

func id20(v value, key string, dst *ID) (bool, error) {
	s, ok := v.get(key)
	if !ok {
		return false, nil
	}
	if s.kind != kindStr || len(s.s) != 20 {
		return false, errKRPC
	}
	copy(dst[:], s.s)
	return true, nil
}

func (m *msg) decodeArgs(a value) error {
	for _, f := range []struct {
		key string
		dst *ID
		bit uint16
	}{{"id", &m.ID, hasID}, {"target", &m.Tgt, hasTarget}, {"info_hash", &m.IH, hasInfoHash}} {
		ok, err := id20(a, f.key, f.dst)
		if err != nil {
			return err
		}
		if ok {
			m.Has |= f.bit
		}
	}
	if m.Has&hasID == 0 {
		return errKRPC
	}
	if tok, ok := a.get("token"); ok {
		if tok.kind != kindStr || len(tok.s) > 64 {
			return errKRPC
		}
		m.Tok = tok.s
		m.Has |= hasToken
	}
	if p, ok := a.get("port"); ok {
		if p.kind != kindInt || p.i < 0 || p.i > 65535 {
			return errKRPC
		}
		m.Port = int(p.i)
		m.Has |= hasPort
	}
	if ip, ok := a.get("implied_port"); ok {
		if ip.kind != kindInt {
			return errKRPC
		}
		m.Impl = ip.i == 1
	}
	if s, ok := a.get("salt"); ok {
		if s.kind != kindStr {
			return errKRPC
		}
		if len(s.s) > 0 {
			m.Salt = s.s
			m.Has |= hasSalt
		}
	}
	if c, ok := a.get("cas"); ok {
		if c.kind != kindInt {
			return errKRPC
		}
		m.CAS = c.i
		m.Has |= hasCAS
	}
	return m.decodeItem(a)
}

// decodeItem reads the BEP 44 fields shared by put queries and get
// responses: v, k, sig and seq.
func (m *msg) decodeItem(d value) error {
	if v, ok := d.get("v"); ok {
		m.Val = appendValue(nil, v) // canonical, so the original bytes
		m.Has |= hasV
	}
	for _, f := range []struct {
		key string
		dst []byte
		bit uint16
	}{{"k", m.K[:], hasK}, {"sig", m.Sig[:], hasSig}} {
		s, ok := d.get(f.key)
		if !ok {
			continue
		}
		if s.kind != kindStr || len(s.s) != len(f.dst) {
			return errKRPC
		}
		copy(f.dst, s.s)
		m.Has |= f.bit
	}
	if s, ok := d.get("seq"); ok {
		if s.kind != kindInt {
			return errKRPC
		}
		m.Seq = s.i
		m.Has |= hasSeq
	}
	return nil
}

func (m *msg) decodeResp(r value) error {
	ok, err := id20(r, "id", &m.ID)
	if err != nil || !ok {
		return errKRPC
	}
	m.Has |= hasID
	if tok, ok := r.get("token"); ok {
		if tok.kind != kindStr || len(tok.s) > 64 {
			return errKRPC
		}
		m.Tok = tok.s
		m.Has |= hasToken
	}
	for _, f := range []struct {
		key  string
		size int
		dst  *[]nodeInfo
		bit  uint16
	}{{"nodes", 26, &m.Nodes, hasNodes}, {"nodes6", 38, &m.Nodes6, hasNodes6}} {
		s, ok := r.get(f.key)
		if !ok {
			continue
		}
		if s.kind != kindStr || len(s.s)%f.size != 0 {
			return errKRPC
		}
		m.Has |= f.bit
		n := min(len(s.s)/f.size, maxNodesPerMsg)
		if n > 0 {
			*f.dst = make([]nodeInfo, 0, n)
		}
		for i := range n {
			e := s.s[i*f.size : (i+1)*f.size]
			var ni nodeInfo
			copy(ni.ID[:], e[:20])
			ni.Addr = parseCompactAddr(e[20:])
			*f.dst = append(*f.dst, ni)
		}
	}
	if vs, ok := r.get("values"); ok {
		if vs.kind != kindList {
			return errKRPC
		}
		m.Has |= hasValues
		for _, e := range vs.list {
			if len(m.Values) >= maxValuesPerMsg {
				break
			}
			if e.kind != kindStr {
				continue
			}
			if a := parseCompactAddr(e.s); a.IsValid() {
				m.Values = append(m.Values, a)
			}
		}
	}
	return m.decodeItem(r)
}

// parseCompactAddr parses a 6-byte (IPv4) or 18-byte (IPv6) compact
// address; anything else gives the zero AddrPort.
func parseCompactAddr(b []byte) netip.AddrPort {
	switch len(b) {
	case 6:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[:4])), binary.BigEndian.Uint16(b[4:]))
	case 18:
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[:16])), binary.BigEndian.Uint16(b[16:]))
	}
	return netip.AddrPort{}
}

func appendCompactAddr(b []byte, a netip.AddrPort) []byte {
	ip := a.Addr()
	if ip.Is4() {
		v := ip.As4()
		b = append(b, v[:]...)
	} else {
		v := ip.As16()
		b = append(b, v[:]...)
	}
	return binary.BigEndian.AppendUint16(b, a.Port())
}

// compactLen is the size of a's compact form: 6 for IPv4, 18 for IPv6, 0
// for an invalid address.
func compactLen(a netip.AddrPort) int {
	switch {
	case a.Addr().Is4():
		return 6
	case a.Addr().Is6():
		return 18
	}
	return 0
}

func appendKey(b []byte, k string) []byte { return appendString(b, k) }

func appendID(b []byte, k string, id ID) []byte {
	b = appendKey(b, k)
	b = append(b, "20:"...)
	return append(b, id[:]...)
}

// appendCompactNodes appends key and a compact node list of entry size
// 26 (IPv4) or 38 (IPv6); nodes of the other family are skipped.
func appendCompactNodes(b []byte, key string, nodes []nodeInfo, size int) []byte {
	n := 0
	for _, ni := range nodes {
		if compactLen(ni.Addr)+20 == size {
			n++
		}
	}
	b = appendKey(b, key)
	b = strconv.AppendInt(b, int64(n*size), 10)
	b = append(b, ':')
	for _, ni := range nodes {
		if compactLen(ni.Addr)+20 == size {
			b = append(b, ni.ID[:]...)
			b = appendCompactAddr(b, ni.Addr)
		}
	}
	return b
}

func appendCompactStr(b []byte, a netip.AddrPort) []byte {
	b = strconv.AppendInt(b, int64(compactLen(a)), 10)
	b = append(b, ':')
	return appendCompactAddr(b, a)
}

// encodeMsg appends the bencoding of m to b. Keys are written in sorted
// order at every level.
func encodeMsg(b []byte, m *msg) []byte {
	b = append(b, 'd')
	if m.Y == 'q' {
		b = appendKey(b, "a")
		b = append(b, 'd')
		if m.Has&hasCAS != 0 {
			b = appendKey(b, "cas")
			b = appendInt(b, m.CAS)
		}
		b = appendID(b, "id", m.ID)
		if m.Impl {
			b = appendKey(b, "implied_port")
			b = appendInt(b, 1)
		}
		if m.Has&hasInfoHash != 0 {
			b = appendID(b, "info_hash", m.IH)
		}
		if m.Has&hasK != 0 {
			b = appendKey(b, "k")
			b = appendStr(b, m.K[:])
		}
		if m.Has&hasPort != 0 {
			b = appendKey(b, "port")
			b = appendInt(b, int64(m.Port))
		}
		if m.Has&hasSalt != 0 {
			b = appendKey(b, "salt")
			b = appendStr(b, m.Salt)
		}
		b = appendSeqSig(b, m)
		if m.Has&hasTarget != 0 {
			b = appendID(b, "target", m.Tgt)
		}
		if m.Has&hasToken != 0 {
			b = appendKey(b, "token")
			b = appendStr(b, m.Tok)
		}
		if m.Has&hasV != 0 {
			b = appendKey(b, "v")
			b = append(b, m.Val...)
		}
		b = append(b, 'e')
	}
	if m.Y == 'e' {
		b = appendKey(b, "e")
		b = append(b, 'l')
		b = appendInt(b, int64(m.ECode))
		b = appendStr(b, m.EMsg)
		b = append(b, 'e')
	}
	if m.IP.IsValid() {
		b = appendKey(b, "ip")
		b = appendCompactStr(b, m.IP)
	}
	if m.Y == 'q' {
		b = appendKey(b, "q")
		b = appendString(b, m.Q)
	}
	if m.Y == 'r' {
		b = appendKey(b, "r")
		b = append(b, 'd')
		b = appendID(b, "id", m.ID)
		if m.Has&hasK != 0 {
			b = appendKey(b, "k")
			b = appendStr(b, m.K[:])
		}
		if m.Has&hasNodes != 0 {
			b = appendCompactNodes(b, "nodes", m.Nodes, 26)
		}
		if m.Has&hasNodes6 != 0 {
			b = appendCompactNodes(b, "nodes6", m.Nodes6, 38)
		}
		b = appendSeqSig(b, m)
		if m.Has&hasToken != 0 {
			b = appendKey(b, "token")
			b = appendStr(b, m.Tok)
		}
		if m.Has&hasV != 0 {
			b = appendKey(b, "v")
			b = append(b, m.Val...)
		}
		if m.Has&hasValues != 0 {
			b = appendKey(b, "values")
			b = append(b, 'l')
			for _, v := range m.Values {
				b = appendCompactStr(b, v)
			}
			b = append(b, 'e')
		}
		b = append(b, 'e')
	}
	if m.RO {
		b = appendKey(b, "ro")
		b = appendInt(b, 1)
	}
	b = appendKey(b, "t")
	b = appendStr(b, m.T)
	if m.V != nil {
		b = appendKey(b, "v")
		b = appendStr(b, m.V)
	}
	b = appendKey(b, "y")
	b = append(b, "1:"...)
	b = append(b, m.Y)
	return append(b, 'e')
}

// appendSeqSig appends the "seq" and "sig" keys of m that are present.
func appendSeqSig(b []byte, m *msg) []byte {
	if m.Has&hasSeq != 0 {
		b = appendKey(b, "seq")
		b = appendInt(b, m.Seq)
	}
	if m.Has&hasSig != 0 {
		b = appendKey(b, "sig")
		b = appendStr(b, m.Sig[:])
	}
	return b
}
