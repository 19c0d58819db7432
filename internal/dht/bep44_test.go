package dht

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBEP44Vectors checks the signed buffer and the targets against the
// test vectors of BEP 44. The vectors give the key pair in libtorrent's
// expanded form, from which the seed cannot be recovered, so the published
// signatures are verified over our buffer rather than recomputed.
func TestBEP44Vectors(t *testing.T) {
	pub := ed25519.PublicKey(unhex(t, "77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548"))
	v := []byte("12:Hello World!")
	for _, tc := range []struct {
		salt, buf, sig, target string
	}{
		{"", "3:seqi1e1:v12:Hello World!",
			"305ac8aeb6c9c151fa120f120ea2cfb923564e11552d06a5d856091e5e853cff1260d3f39e4999684aa92eb73ffd136e6f4f3ecbfda0ce53a1608ecd7ae21f01",
			"4a533d47ec9c7d95b1ad75f576cffc641853b750"},
		{"foobar", "4:salt6:foobar3:seqi1e1:v12:Hello World!",
			"6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17ddf9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08",
			"411eba73b6f087ca51a3795d9c8c938d365e32c1"},
	} {
		buf := SignedBuffer([]byte(tc.salt), 1, v)
		if string(buf) != tc.buf {
			t.Errorf("salt %q: signed buffer %q, want %q", tc.salt, buf, tc.buf)
		}
		if !ed25519.Verify(pub, buf, unhex(t, tc.sig)) {
			t.Errorf("salt %q: the BEP's signature does not verify", tc.salt)
		}
		if got := MutableTarget(pub, []byte(tc.salt)); got.String() != tc.target {
			t.Errorf("salt %q: target %s, want %s", tc.salt, got, tc.target)
		}
		it := Item{V: v, Seq: 1, Salt: []byte(tc.salt), Mutable: true}
		copy(it.K[:], pub)
		copy(it.Sig[:], unhex(t, tc.sig))
		if !it.Verify() || it.Target().String() != tc.target {
			t.Errorf("salt %q: Item.Verify/Target wrong", tc.salt)
		}
		it.Seq = 2
		if it.Verify() {
			t.Errorf("salt %q: signature verifies with another seq", tc.salt)
		}
	}
	if got := ImmutableTarget(v); got.String() != "e5f96f6f38320f0f33959cb4d3d656452117aadb" {
		t.Errorf("immutable target %s", got)
	}
}

func TestCheckValue(t *testing.T) {
	for _, tc := range []struct {
		v  string
		ok bool
	}{
		{"12:Hello World!", true}, {"i42e", true}, {"d1:ai1ee", true}, {"llllleeeee", false /* too deep inside a message */},
		{"lllleeee", true}, {"", false}, {"3:ab", false}, {"i01e", false}, {"1:a1:b", false},
		{"1000:" + strings.Repeat("x", 1000), false}, {"995:" + strings.Repeat("x", 995), true},
	} {
		if err := checkValue([]byte(tc.v)); (err == nil) != tc.ok {
			t.Errorf("checkValue(%.20q) = %v, want ok %v", tc.v, err, tc.ok)
		}
	}
}

func TestCodecBEP44(t *testing.T) {
	idA := mustID("abcdefghij0123456789")
	var k [32]byte
	var sig [64]byte
	copy(k[:], strings.Repeat("k", 32))
	copy(sig[:], strings.Repeat("s", 64))
	for _, m := range []msg{
		{T: []byte("aa"), Y: 'q', Q: mGet, ID: idA, Tgt: idA, Seq: 4, Has: hasID | hasTarget | hasSeq},
		{T: []byte("aa"), Y: 'q', Q: mPut, ID: idA, Tok: []byte("tok"), Val: []byte("d1:xli1eee"), Has: hasID | hasToken | hasV},
		{T: []byte("aa"), Y: 'q', Q: mPut, ID: idA, Tok: []byte("tok"), Val: []byte("2:hi"), K: k, Sig: sig, Seq: 7, Salt: []byte("salt"), CAS: 6,
			Has: hasID | hasToken | hasV | hasK | hasSig | hasSeq | hasSalt | hasCAS},
		{T: []byte("aa"), Y: 'r', ID: idA, Tok: []byte("tok"), Val: []byte("2:hi"), K: k, Sig: sig, Seq: 7,
			Nodes: []nodeInfo{{idA, netip.MustParseAddrPort("1.2.3.4:5")}}, Has: hasID | hasToken | hasV | hasK | hasSig | hasSeq | hasNodes},
	} {
		enc := encodeMsg(nil, &m)
		got, err := decodeMsg(enc)
		if err != nil {
			t.Fatalf("decode %q: %v", enc, err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("round trip of %q:\n got %+v\nwant %+v", enc, got, m)
		}
	}
	// Keys in sorted order, as a strict decoder (ours) demands.
	wire := "d1:ad3:casi6e2:id20:abcdefghij01234567891:k32:" + strings.Repeat("k", 32) + "4:salt4:salt3:seqi7e3:sig64:" + strings.Repeat("s", 64) +
		"5:token3:tok1:v2:hie1:q3:put1:t2:aa1:y1:qe"
	if _, err := decodeMsg([]byte(wire)); err != nil {
		t.Fatalf("BEP 44 put: %v", err)
	}
	for _, bad := range []string{
		"d1:ad2:id20:abcdefghij01234567891:k3:abce1:q3:put1:t2:aa1:y1:qe",   // short key
		"d1:ad2:id20:abcdefghij01234567893:sig3:abce1:q3:put1:t2:aa1:y1:qe", // short signature
		"d1:ad2:id20:abcdefghij01234567893:seq1:xe1:q3:put1:t2:aa1:y1:qe",   // seq not an int
		"d1:ad3:cas1:x2:id20:abcdefghij0123456789e1:q3:put1:t2:aa1:y1:qe",   // cas not an int
		"d1:ad2:id20:abcdefghij01234567894:salti1ee1:q3:put1:t2:aa1:y1:qe",  // salt not a string
	} {
		if _, err := decodeMsg([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestItemStoreBounds(t *testing.T) {
	now := time.Now()
	s := newItemStore()
	s.maxItems, s.maxBytes = 3, 3*(itemOverhead+10)
	put := func(i byte, n int, at time.Time) bool {
		it := Item{V: bytes.Repeat([]byte{'x'}, n)}
		return s.put(ID{i}, &it, at)
	}
	if !put(1, 10, now) || !put(2, 10, now) || !put(3, 10, now) {
		t.Fatal("puts within the caps refused")
	}
	if put(4, 1, now) {
		t.Fatal("count cap not enforced")
	}
	if !put(3, 5, now) || put(3, 11, now.Add(time.Minute)) && s.bytes > s.maxBytes {
		t.Fatalf("replacement accounting wrong: %d bytes", s.bytes)
	}
	if s.get(ID{1}, now.Add(itemTTL)) != nil {
		t.Fatal("item not expired after itemTTL")
	}
	if !put(5, 10, now.Add(itemTTL+time.Minute)) {
		t.Fatal("expired items not dropped to make room")
	}
	s.expire(now.Add(3 * itemTTL))
	if len(s.m) != 0 || s.bytes != 0 {
		t.Fatalf("after expiry: %d items, %d bytes", len(s.m), s.bytes)
	}
	if s.full == 0 {
		t.Fatal("refusals not counted")
	}
}

func remoteCode(err error) int {
	var ke *krpcError
	if errors.As(err, &ke) {
		return ke.Code
	}
	return 0
}

// TestSimBEP44 stores and retrieves items in a simulated DHT of 50 nodes
// and checks the refusals of BEP 44.
func TestSimBEP44(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newSimCluster(t, 44)
		defer c.close()
		c.build(50, 4)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		putter, getter := c.nodes[10], c.nodes[40]

		// Immutable.
		v := []byte("12:Hello World!")
		target, res, err := putter.PutImmutable(ctx, v)
		if err != nil {
			t.Fatalf("put immutable: %v", err)
		}
		if target.String() != "e5f96f6f38320f0f33959cb4d3d656452117aadb" {
			t.Fatalf("immutable target %s", target)
		}
		t.Logf("put immutable: stored on %d nodes, %d queries, %v", res.Stored, res.Queries, res.Duration)
		if res.Stored < 4 {
			t.Errorf("immutable item stored on only %d nodes", res.Stored)
		}
		it, l, err := getter.Get(ctx, target, false, nil, nil)
		if err != nil || !bytes.Equal(it.V, v) || it.Mutable {
			t.Fatalf("get immutable: %v, %+v", err, it)
		}
		t.Logf("get immutable: %d queries, %v", l.Queries, l.Duration)
		if _, _, err := getter.Get(ctx, ImmutableTarget([]byte("3:abc")), false, nil, nil); !errors.Is(err, ErrNotFound) {
			t.Fatalf("get of a missing item: %v", err)
		}

		// Mutable: seq 1, then 2.
		key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
		pub := key.Public().(ed25519.PublicKey)
		salt := []byte("foobar")
		mt, res, err := putter.PutMutable(ctx, key, salt, []byte("5:first"), 1, nil)
		if err != nil || mt != MutableTarget(pub, salt) {
			t.Fatalf("put mutable seq 1: %v (target %s)", err, mt)
		}
		t.Logf("put mutable: stored on %d nodes", res.Stored)
		one := int64(1)
		if _, res, err = c.nodes[20].PutMutable(ctx, key, salt, []byte("6:second"), 2, &one); err != nil {
			t.Fatalf("put mutable seq 2 with cas 1: %v", err)
		}
		t.Logf("put mutable seq 2: stored on %d nodes", res.Stored)
		it, l, err = getter.Get(ctx, mt, true, salt, pub)
		if err != nil || it.Seq != 2 || string(it.V) != "6:second" || !it.Mutable || !bytes.Equal(it.Salt, salt) || !it.Verify() {
			t.Fatalf("get mutable: %v, %+v", err, it)
		}
		t.Logf("get mutable: seq %d, %d queries, %v", it.Seq, l.Queries, l.Duration)
		// The wrong public key or salt finds nothing.
		other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, 32)).Public().(ed25519.PublicKey)
		if _, _, err := getter.Get(ctx, mt, true, salt, other); !errors.Is(err, ErrNotFound) {
			t.Fatalf("get with another key: %v", err)
		}

		// Refusals, by a node that holds seq 2.
		var server *Node
		for _, n := range c.nodes {
			n.mu.Lock()
			si := n.items.get(mt, time.Now())
			n.mu.Unlock()
			if si != nil && si.Seq == 2 && n != putter {
				server = n
				break
			}
		}
		if server == nil {
			t.Fatal("no node holds seq 2")
		}
		tok := func() []byte {
			r, err := queryRetry(ctx, putter, server.Addr(), &msg{Q: mGet, Tgt: mt, Has: hasTarget})
			if err != nil || len(r.Tok) == 0 {
				t.Fatalf("get for a token: %v", err)
			}
			return r.Tok
		}
		signed := func(salt []byte, seq int64, v []byte) *msg {
			q := &msg{Q: mPut, Tok: tok(), Val: v, Seq: seq, Has: hasToken | hasV | hasK | hasSig | hasSeq}
			copy(q.K[:], pub)
			copy(q.Sig[:], ed25519.Sign(key, SignedBuffer(salt, seq, v)))
			if len(salt) > 0 {
				q.Salt, q.Has = salt, q.Has|hasSalt
			}
			return q
		}
		q := signed(salt, 3, []byte("5:third"))
		q.CAS, q.Has = 1, q.Has|hasCAS
		if _, err := queryRetry(ctx, putter, server.Addr(), q); remoteCode(err) != errCASMismatch {
			t.Fatalf("put with a stale cas: %v, want error %d", err, errCASMismatch)
		}
		if _, err := queryRetry(ctx, putter, server.Addr(), signed(salt, 1, []byte("3:old"))); remoteCode(err) != errSeqTooLow {
			t.Fatalf("put with a lower seq: %v, want error %d", err, errSeqTooLow)
		}
		if _, err := queryRetry(ctx, putter, server.Addr(), signed(salt, 2, []byte("3:new"))); remoteCode(err) != errSeqTooLow {
			t.Fatalf("put of another value with the same seq: %v, want error %d", err, errSeqTooLow)
		}
		if _, err := queryRetry(ctx, putter, server.Addr(), signed(salt, 2, []byte("6:second"))); err != nil {
			t.Fatalf("re-put of the same item: %v", err)
		}
		// Through PutMutable: nodes holding seq 2 refuse, so the error is
		// the remote one unless some node lacked the item.
		_, res, err = putter.PutMutable(ctx, key, salt, []byte("3:old"), 1, nil)
		t.Logf("PutMutable with a lower seq: stored %d, err %v", res.Stored, err)
		if err != nil && remoteCode(err) != errSeqTooLow {
			t.Fatalf("put with a lower seq: %v", err)
		}
		it, _, err = getter.Get(ctx, mt, true, salt, pub)
		if err != nil || it.Seq != 2 {
			t.Fatalf("after refused puts: %v, seq %d", err, it.Seq)
		}

		q = signed(salt, 5, []byte("4:evil"))
		q.Sig[0] ^= 1
		if _, err := queryRetry(ctx, putter, server.Addr(), q); remoteCode(err) != errBadSig {
			t.Fatalf("put with a bad signature: %v, want error %d", err, errBadSig)
		}
		big := []byte("1100:" + strings.Repeat("x", 1100))
		q = &msg{Q: mPut, Tok: tok(), Val: big, Has: hasToken | hasV}
		if _, err := queryRetry(ctx, putter, server.Addr(), q); remoteCode(err) != errVTooBig {
			t.Fatalf("put of %d bytes: %v, want error %d", len(big), err, errVTooBig)
		}
		if _, _, err := putter.PutImmutable(ctx, big); err == nil {
			t.Fatal("PutImmutable accepted an oversized value")
		}
		q = signed(bytes.Repeat([]byte("s"), 65), 1, []byte("1:x"))
		if _, err := queryRetry(ctx, putter, server.Addr(), q); remoteCode(err) != errSaltTooBig {
			t.Fatalf("put with a 65-byte salt: %v, want error %d", err, errSaltTooBig)
		}
		q = signed(nil, 1, []byte("1:x"))
		q.Tok = []byte("nonsense")
		if _, err := queryRetry(ctx, putter, server.Addr(), q); remoteCode(err) != errProtocol {
			t.Fatalf("put with a bad token: %v, want error %d", err, errProtocol)
		}
		// Get with seq: v only if newer.
		r, err := queryRetry(ctx, putter, server.Addr(), &msg{Q: mGet, Tgt: mt, Seq: 2, Has: hasTarget | hasSeq})
		if err == nil && r.Has&hasV != 0 {
			t.Fatalf("get with seq 2 returned v: %+v", r)
		}
		if s := server.Stats(); s.Put.ErrorsSent < 4 || s.Get.ResponsesSent == 0 {
			t.Errorf("server stats: put %+v, get %+v", s.Put, s.Get)
		}
	})
}

// queryRetry sends q to addr until an answer or an error other than a
// timeout comes back (the simulated links lose datagrams), at most 5 times.
func queryRetry(ctx context.Context, n *Node, addr netip.AddrPort, q *msg) (msg, error) {
	var (
		r   msg
		err error
	)
	for range 5 {
		if r, err = n.query(ctx, addr, q); !errors.Is(err, errTimeout) {
			break
		}
	}
	return r, err
}
