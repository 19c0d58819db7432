package dht

import (
	"bytes"
	"errors"
	"math"
	"strconv"
)

// Limits of the bencode decoder. A KRPC message is at most three levels
// deep (message, "a"/"r" dictionary, "values" list); maxDepth leaves a
// little room for extensions without allowing stack growth.
const (
	maxDepth  = 6
	maxPacket = 1500 // largest datagram accepted
)

var (
	errSyntax    = errors.New("bencode: syntax error")
	errTrailing  = errors.New("bencode: trailing data")
	errDepth     = errors.New("bencode: nesting too deep")
	errKeyOrder  = errors.New("bencode: dictionary keys not sorted or duplicated")
	errTooLarge  = errors.New("bencode: input too large")
	errIntFormat = errors.New("bencode: malformed integer")
)

// Kinds of bencode values.
const (
	kindInt  = 'i'
	kindStr  = 's'
	kindList = 'l'
	kindDict = 'd'
)

// value is a decoded bencode value. Strings alias the decoded input: a
// value is valid only as long as the input buffer is.
type value struct {
	kind byte
	i    int64
	s    []byte  // kindStr
	list []value // kindList; for kindDict, alternating key, value
}

// decodeValue decodes exactly one bencode value that must span all of b.
func decodeValue(b []byte) (value, error) {
	if len(b) > maxPacket {
		return value{}, errTooLarge
	}
	d := decoder{b: b}
	v, err := d.value(0)
	if err != nil {
		return value{}, err
	}
	if d.p != len(b) {
		return value{}, errTrailing
	}
	return v, nil
}

type decoder struct {
	b []byte
	p int
}

func (d *decoder) value(depth int) (value, error) {
	if d.p >= len(d.b) {
		return value{}, errSyntax
	}
	switch c := d.b[d.p]; {
	case c == 'i':
		d.p++
		n, err := d.integer('e')
		return value{kind: kindInt, i: n}, err
	case c >= '0' && c <= '9':
		s, err := d.str()
		return value{kind: kindStr, s: s}, err
	case c == 'l' || c == 'd':
		if depth >= maxDepth {
			return value{}, errDepth
		}
		d.p++
		v := value{kind: kindList}
		if c == 'd' {
			v.kind = kindDict
		}
		var prev []byte
		for {
			if d.p >= len(d.b) {
				return value{}, errSyntax
			}
			if d.b[d.p] == 'e' {
				d.p++
				return v, nil
			}
			if c == 'd' {
				if d.b[d.p] < '0' || d.b[d.p] > '9' {
					return value{}, errSyntax
				}
				k, err := d.str()
				if err != nil {
					return value{}, err
				}
				if len(v.list) > 0 && bytes.Compare(prev, k) >= 0 {
					return value{}, errKeyOrder
				}
				prev = k
				v.list = append(v.list, value{kind: kindStr, s: k})
			}
			e, err := d.value(depth + 1)
			if err != nil {
				return value{}, err
			}
			v.list = append(v.list, e)
		}
	default:
		return value{}, errSyntax
	}
}

// integer parses a decimal integer terminated by end. It rejects leading
// zeros, "-0", empty digits and values that do not fit in an int64.
func (d *decoder) integer(end byte) (int64, error) {
	neg := false
	if d.p < len(d.b) && d.b[d.p] == '-' {
		if end == ':' {
			return 0, errIntFormat
		}
		neg = true
		d.p++
	}
	digits := d.p
	var n uint64
	for d.p < len(d.b) && d.b[d.p] >= '0' && d.b[d.p] <= '9' {
		if d.p-digits >= 19 {
			return 0, errIntFormat
		}
		n = n*10 + uint64(d.b[d.p]-'0')
		d.p++
	}
	nd := d.p - digits
	if nd == 0 || d.p >= len(d.b) || d.b[d.p] != end {
		return 0, errIntFormat
	}
	if d.b[digits] == '0' && (nd > 1 || neg) {
		return 0, errIntFormat
	}
	if n > math.MaxInt64 {
		return 0, errIntFormat // also rejects math.MinInt64, which is fine for KRPC
	}
	d.p++
	if neg {
		return -int64(n), nil
	}
	return int64(n), nil
}

func (d *decoder) str() ([]byte, error) {
	n, err := d.integer(':')
	if err != nil {
		return nil, err
	}
	if n > int64(len(d.b)-d.p) {
		return nil, errSyntax
	}
	s := d.b[d.p : d.p+int(n) : d.p+int(n)]
	d.p += int(n)
	return s, nil
}

// get returns the value of key in dictionary v.
func (v value) get(key string) (value, bool) {
	if v.kind != kindDict {
		return value{}, false
	}
	for i := 0; i+1 < len(v.list); i += 2 {
		if string(v.list[i].s) == key {
			return v.list[i+1], true
		}
	}
	return value{}, false
}

// str returns the string value of key in dictionary v.
func (v value) str(key string) ([]byte, bool) {
	e, ok := v.get(key)
	if !ok || e.kind != kindStr {
		return nil, false
	}
	return e.s, true
}

// appendValue appends the canonical encoding of v to b.
func appendValue(b []byte, v value) []byte {
	switch v.kind {
	case kindInt:
		return appendInt(b, v.i)
	case kindStr:
		return appendStr(b, v.s)
	case kindList, kindDict:
		b = append(b, v.kind)
		for _, e := range v.list {
			b = appendValue(b, e)
		}
		return append(b, 'e')
	}
	return b
}

func appendInt(b []byte, i int64) []byte {
	b = append(b, 'i')
	b = strconv.AppendInt(b, i, 10)
	return append(b, 'e')
}

func appendStr(b []byte, s []byte) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	return append(b, s...)
}

func appendString(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	return append(b, s...)
}
