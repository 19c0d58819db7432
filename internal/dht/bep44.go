package dht

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"
)

// BEP 44: storing arbitrary data in the DHT. The server side answers get
// and put from a bounded itemStore; the client side runs a get lookup and,
// for a put, stores the item on the closest nodes that gave a token.

// ErrNotFound is returned by Get when no node returned a valid item.
var ErrNotFound = errors.New("dht: item not found")

// PutResult describes a put.
type PutResult struct {
	Stored   int // nodes that acknowledged the put
	Queries  int // get and put queries sent
	Duration time.Duration
}

// serveGetLocked answers a get query into r.
func (n *Node) serveGetLocked(q, r *msg, from netip.AddrPort, now time.Time) (int, string) {
	if q.Has&hasTarget == 0 {
		return errProtocol, "missing target"
	}
	r.Tok = n.tok.issue(from.Addr(), now)
	r.Has |= hasToken
	if it := n.items.get(q.Tgt, now); it != nil {
		if it.Mutable {
			r.Seq, r.Has = it.Seq, r.Has|hasSeq
		}
		if !it.Mutable || q.Has&hasSeq == 0 || it.Seq > q.Seq {
			r.Val, r.Has = it.V, r.Has|hasV
			if it.Mutable {
				r.K, r.Sig, r.Has = it.K, it.Sig, r.Has|hasK|hasSig
			}
		}
	}
	n.setReplyNodes(r, q.Tgt, from)
	return 0, ""
}

// itemReplySize is how much the item in a get answer adds to it; the
// amplification limit applies to the rest.
func itemReplySize(r *msg) int {
	if r.Has&hasV == 0 {
		return 0
	}
	return len(r.Val) + 3 + 64 + 7 + 32 + 5 + 24 // v, sig, k, seq with their keys
}

// servePutLocked stores the item of a put query.
func (n *Node) servePutLocked(q *msg, from netip.AddrPort, now time.Time) (int, string) {
	switch {
	case q.Has&hasToken == 0 || q.Has&hasV == 0:
		return errProtocol, "missing argument"
	case len(q.Val) > maxItemV:
		return errVTooBig, "message (v field) too big"
	case !n.tok.valid(q.Tok, from.Addr(), now):
		return errProtocol, "bad token"
	}
	it := Item{V: q.Val}
	var target ID
	if q.Has&hasK == 0 {
		target = ImmutableTarget(q.Val)
	} else {
		switch {
		case q.Has&hasSig == 0 || q.Has&hasSeq == 0:
			return errProtocol, "missing argument"
		case len(q.Salt) > maxItemSalt:
			return errSaltTooBig, "salt (salt field) too big"
		}
		it.Mutable, it.K, it.Sig, it.Seq, it.Salt = true, q.K, q.Sig, q.Seq, q.Salt
		if !it.Verify() {
			return errBadSig, "invalid signature"
		}
		target = it.Target()
		if old := n.items.get(target, now); old != nil {
			switch {
			case q.Has&hasCAS != 0 && q.CAS != old.Seq:
				return errCASMismatch, "CAS mismatch"
			case q.Seq < old.Seq:
				return errSeqTooLow, "sequence number less than current"
			case q.Seq == old.Seq && !bytes.Equal(q.Val, old.V):
				return errSeqTooLow, "sequence number not newer"
			}
		}
	}
	if !n.items.put(target, &it, now) {
		return errServer, "item store full"
	}
	return 0, ""
}

// Get looks up the item stored under target. For an immutable item the
// value must hash to target; for a mutable one the signature must verify,
// the key must hash with salt to target and, if pub is given, be pub. Of
// the mutable items found, the one with the highest seq is returned.
// A lookup for an immutable item ends at the first valid answer.
func (n *Node) Get(ctx context.Context, target ID, mutable bool, salt []byte, pub ed25519.PublicKey) (Item, Lookup, error) {
	start := time.Now()
	var best Item
	found := false
	check := func(m *msg) bool {
		if m.Has&hasV == 0 {
			return false
		}
		if !mutable {
			if m.Has&hasK != 0 || ImmutableTarget(m.Val) != target {
				return false
			}
			best, found = Item{V: m.Val}, true
			return true
		}
		if m.Has&(hasK|hasSig|hasSeq) != hasK|hasSig|hasSeq || (pub != nil && !bytes.Equal(pub, m.K[:])) {
			return false
		}
		it := Item{V: m.Val, K: m.K, Sig: m.Sig, Seq: m.Seq, Salt: salt, Mutable: true}
		if (found && it.Seq <= best.Seq) || it.Target() != target || !it.Verify() {
			return false
		}
		best, found = it, true
		return false
	}
	r := n.iterate(ctx, target, mGet, n.seedRouters(), check)
	l := Lookup{Queries: r.queries, Duration: time.Since(start)}
	if found {
		best.Salt = bytes.Clone(best.Salt)
		return best, l, nil
	}
	if r.answered == 0 {
		if err := ctx.Err(); err != nil {
			return best, l, err
		}
		return best, l, errors.New("dht: get: no node answered")
	}
	return best, l, ErrNotFound
}

// PutImmutable stores the bencoded value v under ImmutableTarget(v).
func (n *Node) PutImmutable(ctx context.Context, v []byte) (ID, PutResult, error) {
	if err := checkValue(v); err != nil {
		return ID{}, PutResult{}, err
	}
	target := ImmutableTarget(v)
	res, err := n.put(ctx, target, func(q *msg) {
		q.Val, q.Has = v, q.Has|hasV
	})
	return target, res, err
}

// PutMutable signs and stores the bencoded value v with sequence number
// seq under MutableTarget(key's public key, salt). If cas is not nil,
// nodes store it only if their current seq is *cas.
func (n *Node) PutMutable(ctx context.Context, key ed25519.PrivateKey, salt, v []byte, seq int64, cas *int64) (ID, PutResult, error) {
	if len(key) != ed25519.PrivateKeySize {
		return ID{}, PutResult{}, errors.New("dht: bad ed25519 private key")
	}
	if len(salt) > maxItemSalt {
		return ID{}, PutResult{}, fmt.Errorf("dht: salt longer than %d bytes", maxItemSalt)
	}
	if err := checkValue(v); err != nil {
		return ID{}, PutResult{}, err
	}
	pub := key.Public().(ed25519.PublicKey)
	target := MutableTarget(pub, salt)
	sig := ed25519.Sign(key, SignedBuffer(salt, seq, v))
	res, err := n.put(ctx, target, func(q *msg) {
		q.Val, q.Seq, q.Has = v, seq, q.Has|hasV|hasK|hasSig|hasSeq
		copy(q.K[:], pub)
		copy(q.Sig[:], sig)
		if len(salt) > 0 {
			q.Salt, q.Has = salt, q.Has|hasSalt
		}
		if cas != nil {
			q.CAS, q.Has = *cas, q.Has|hasCAS
		}
	})
	return target, res, err
}

// put runs a get lookup for target and sends put queries, built by fill,
// to the closest bucketK nodes that gave a token. If no node stored the
// item, the error is the first remote error if there was one.
func (n *Node) put(ctx context.Context, target ID, fill func(*msg)) (PutResult, error) {
	start := time.Now()
	r := n.iterate(ctx, target, mGet, n.seedRouters())
	res := PutResult{Queries: r.queries}
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
		sent     int
	)
	for _, c := range r.closest {
		if len(c.token) == 0 {
			continue
		}
		if sent++; sent > bucketK {
			break
		}
		q := &msg{Q: mPut, Tok: c.token, Has: hasToken}
		fill(q)
		res.Queries++
		wg.Go(func() {
			_, err := n.query(ctx, c.ni.Addr, q)
			mu.Lock()
			defer mu.Unlock()
			var ke *krpcError
			switch {
			case err == nil:
				res.Stored++
			case errors.As(err, &ke) && firstErr == nil:
				firstErr = err
			}
		})
	}
	wg.Wait()
	res.Duration = time.Since(start)
	if res.Stored > 0 {
		return res, nil
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if firstErr != nil {
		return res, firstErr
	}
	if r.answered == 0 {
		return res, errors.New("dht: put: no node answered")
	}
	return res, errors.New("dht: put: no node stored the item")
}
