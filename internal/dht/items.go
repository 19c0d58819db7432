package dht

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha1"
	"errors"
	"strconv"
	"time"
)

// BEP 44 limits and the item store's caps.
const (
	maxItemV     = 1000 // bencoded size of v
	maxItemSalt  = 64
	itemTTL      = 2 * time.Hour
	maxItems     = 4000
	maxItemBytes = 4 << 20 // accounted as len(v)+len(salt)+itemOverhead per item
	itemOverhead = 160     // key, signature, map entry, bookkeeping
)

// KRPC error codes of BEP 44.
const (
	errVTooBig     = 205
	errBadSig      = 206
	errSaltTooBig  = 207
	errCASMismatch = 301
	errSeqTooLow   = 302
)

// Item is a BEP 44 value as stored.
type Item struct {
	V []byte // the bencoded value

	// Mutable items only.
	K    [32]byte // ed25519 public key
	Sig  [64]byte // signature of SignedBuffer(Salt, Seq, V)
	Seq  int64
	Salt []byte

	Mutable bool
}

// Target is the item's DHT key: ImmutableTarget(V) or MutableTarget(K, Salt).
func (it *Item) Target() ID {
	if it.Mutable {
		return MutableTarget(it.K[:], it.Salt)
	}
	return ImmutableTarget(it.V)
}

// Verify checks a mutable item's signature; immutable items are
// self-certifying through their target and always pass.
func (it *Item) Verify() bool {
	if !it.Mutable {
		return true
	}
	return ed25519.Verify(it.K[:], SignedBuffer(it.Salt, it.Seq, it.V), it.Sig[:])
}

// ImmutableTarget is the target of an immutable item: the SHA-1 of the
// bencoded value.
func ImmutableTarget(v []byte) ID { return sha1.Sum(v) }

// MutableTarget is the target of a mutable item: the SHA-1 of the public
// key followed by the salt.
func MutableTarget(pub ed25519.PublicKey, salt []byte) ID {
	h := sha1.New()
	h.Write(pub)
	h.Write(salt)
	return ID(h.Sum(nil))
}

// SignedBuffer is what a mutable item's signature covers:
// "4:salt<len>:<salt>3:seqi<seq>e1:v<v>", without the salt part when the
// salt is empty (BEP 44).
func SignedBuffer(salt []byte, seq int64, v []byte) []byte {
	b := make([]byte, 0, len(salt)+len(v)+40)
	if len(salt) > 0 {
		b = append(b, "4:salt"...)
		b = appendStr(b, salt)
	}
	b = append(b, "3:seqi"...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, "e1:v"...)
	return append(b, v...)
}

var errBadValue = errors.New("dht: v is not a bencoded value that fits in a message")

// checkValue reports whether v is a single canonical bencoded value of at
// most maxItemV bytes that our decoder accepts where it sits in a message
// (two levels deep).
func checkValue(v []byte) error {
	if len(v) == 0 || len(v) > maxItemV {
		return errBadValue
	}
	d := decoder{b: v}
	if _, err := d.value(2); err != nil || d.p != len(v) {
		return errBadValue
	}
	return nil
}

// itemStore keeps BEP 44 items with bounded count and bytes; items expire
// itemTTL after their last put.
type itemStore struct {
	m     map[ID]*storedItem
	bytes int
	full  uint64 // puts refused because a cap was reached

	maxItems, maxBytes int
}

type storedItem struct {
	Item
	expires time.Time
}

func newItemStore() *itemStore {
	return &itemStore{m: make(map[ID]*storedItem), maxItems: maxItems, maxBytes: maxItemBytes}
}

func itemSize(it *Item) int { return len(it.V) + len(it.Salt) + itemOverhead }

// get returns the live item stored under target, or nil.
func (s *itemStore) get(target ID, now time.Time) *storedItem {
	it := s.m[target]
	if it == nil || !now.Before(it.expires) {
		return nil
	}
	return it
}

// put stores it (already validated) under target, replacing what is there;
// it reports false if the store is full. it's slices are copied.
func (s *itemStore) put(target ID, it *Item, now time.Time) bool {
	old := s.m[target]
	size := itemSize(it)
	grow := size
	if old != nil {
		grow -= itemSize(&old.Item)
	}
	if (old == nil && len(s.m) >= s.maxItems) || s.bytes+grow > s.maxBytes {
		s.expire(now)
		old = s.m[target]
		grow = size
		if old != nil {
			grow -= itemSize(&old.Item)
		}
		if (old == nil && len(s.m) >= s.maxItems) || s.bytes+grow > s.maxBytes {
			s.full++
			return false
		}
	}
	cp := *it
	cp.V = bytes.Clone(it.V)
	cp.Salt = bytes.Clone(it.Salt)
	s.m[target] = &storedItem{Item: cp, expires: now.Add(itemTTL)}
	s.bytes += grow
	return true
}

// expire drops expired items.
func (s *itemStore) expire(now time.Time) {
	for t, it := range s.m {
		if !now.Before(it.expires) {
			s.bytes -= itemSize(&it.Item)
			delete(s.m, t)
		}
	}
}
