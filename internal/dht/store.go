package dht

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"net/netip"
	"time"
)

// Token secrets and the peer store (the server side of get_peers and
// announce_peer), and the per-source query rate limiter.

const (
	tokenRotate = 5 * time.Minute
	tokenLen    = 8

	peerTTL         = 30 * time.Minute
	maxPeersPerHash = 200
	maxPeersTotal   = 20000
	maxHashes       = 5000
	maxValuesReply  = 50 // peers returned in one get_peers answer
)

// tokens issues and checks announce tokens: a keyed hash of the
// requester's IP under a secret rotated every tokenRotate. Tokens made
// with the current or the previous secret are accepted.
type tokens struct {
	cur, prev [32]byte
	rotated   time.Time
}

func newTokens(now time.Time) *tokens {
	t := &tokens{rotated: now}
	rand.Read(t.cur[:])
	rand.Read(t.prev[:])
	return t
}

func (t *tokens) maybeRotate(now time.Time) {
	for i := 0; i < 2 && now.Sub(t.rotated) >= tokenRotate; i++ {
		t.prev = t.cur
		rand.Read(t.cur[:])
		t.rotated = t.rotated.Add(tokenRotate)
	}
	if now.Sub(t.rotated) >= tokenRotate {
		t.rotated = now
	}
}

func tokenFor(secret *[32]byte, ip netip.Addr) []byte {
	h := hmac.New(sha256.New, secret[:])
	b := ip.Unmap().AsSlice()
	h.Write(b)
	return h.Sum(nil)[:tokenLen]
}

func (t *tokens) issue(ip netip.Addr, now time.Time) []byte {
	t.maybeRotate(now)
	return tokenFor(&t.cur, ip)
}

func (t *tokens) valid(tok []byte, ip netip.Addr, now time.Time) bool {
	t.maybeRotate(now)
	return hmac.Equal(tok, tokenFor(&t.cur, ip)) || hmac.Equal(tok, tokenFor(&t.prev, ip))
}

// peerStore keeps announced peers per info-hash with bounded memory.
type peerStore struct {
	m     map[ID]map[netip.AddrPort]time.Time // expiry per peer
	total int
	full  uint64 // announces dropped because a cap was reached

	maxTotal, maxPerHash, maxHashes int
}

func newPeerStore() *peerStore {
	return &peerStore{m: make(map[ID]map[netip.AddrPort]time.Time),
		maxTotal: maxPeersTotal, maxPerHash: maxPeersPerHash, maxHashes: maxHashes}
}

// add stores peer for ih; it reports false if the store is full.
func (s *peerStore) add(ih ID, peer netip.AddrPort, now time.Time) bool {
	set := s.m[ih]
	if set == nil {
		if len(s.m) >= s.maxHashes || s.total >= s.maxTotal {
			s.expire(now)
			if len(s.m) >= s.maxHashes || s.total >= s.maxTotal {
				s.full++
				return false
			}
		}
		set = make(map[netip.AddrPort]time.Time)
		s.m[ih] = set
	}
	if _, ok := set[peer]; ok {
		set[peer] = now.Add(peerTTL)
		return true
	}
	if len(set) >= s.maxPerHash {
		// Replace the entry that expires first.
		var oldest netip.AddrPort
		var ot time.Time
		for p, t := range set {
			if ot.IsZero() || t.Before(ot) {
				oldest, ot = p, t
			}
		}
		delete(set, oldest)
		s.total--
	} else if s.total >= s.maxTotal {
		s.expire(now)
		if s.total >= s.maxTotal {
			s.full++
			return false
		}
	}
	set[peer] = now.Add(peerTTL)
	s.total++
	return true
}

// get returns up to n live peers of ih.
func (s *peerStore) get(ih ID, n int, now time.Time) []netip.AddrPort {
	var out []netip.AddrPort
	for p, exp := range s.m[ih] {
		if len(out) >= n {
			break
		}
		if now.Before(exp) {
			out = append(out, p)
		}
	}
	return out
}

// expire drops expired peers.
func (s *peerStore) expire(now time.Time) {
	for ih, set := range s.m {
		for p, exp := range set {
			if !now.Before(exp) {
				delete(set, p)
				s.total--
			}
		}
		if len(set) == 0 {
			delete(s.m, ih)
		}
	}
}

// limiter is a per-source-IP token bucket for incoming queries, with a
// bounded number of tracked sources and a global bucket on top.
type limiter struct {
	rate, burst float64
	m           map[netip.Addr]*tbucket
	global      tbucket
	maxSources  int
}

type tbucket struct {
	tokens float64
	last   time.Time
}

func (b *tbucket) take(now time.Time, rate, burst float64) bool {
	if b.last.IsZero() {
		b.tokens = burst
	} else if d := now.Sub(b.last).Seconds(); d > 0 {
		b.tokens = min(burst, b.tokens+d*rate)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

func newLimiter(rate, burst float64) *limiter {
	return &limiter{rate: rate, burst: burst, m: make(map[netip.Addr]*tbucket), maxSources: 4096}
}

// allow reports whether a query from ip may be answered now.
func (l *limiter) allow(ip netip.Addr, now time.Time) bool {
	if l.rate <= 0 {
		return true
	}
	b := l.m[ip]
	if b == nil {
		if len(l.m) >= l.maxSources {
			// Forget sources whose bucket has refilled; if none has,
			// refuse new sources until some do.
			full := time.Duration(l.burst / l.rate * float64(time.Second))
			for a, o := range l.m {
				if now.Sub(o.last) >= full {
					delete(l.m, a)
				}
			}
			if len(l.m) >= l.maxSources {
				return false
			}
		}
		b = &tbucket{}
		l.m[ip] = b
	}
	if !b.take(now, l.rate, l.burst) {
		return false
	}
	return l.global.take(now, l.rate*100, l.burst*100)
}
