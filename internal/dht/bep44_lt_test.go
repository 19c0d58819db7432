package dht

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"testing"
	"time"
)

// waitLibtorrentJoined waits until every libtorrent session has nodes.
func waitLibtorrentJoined(t *testing.T, lt *ltPeers) {
	t.Helper()
	for try := 0; ; try++ {
		n := lt.do(t, "nodes")["nodes"].([]any)
		if n[0].(float64) > 0 && n[len(n)-1].(float64) > 0 {
			return
		}
		if try == 40 {
			t.Fatalf("libtorrent sessions did not join our DHT: %v", n)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestLibtorrentBEP44 exchanges BEP 44 items with Debian's libtorrent in a
// private DHT on loopback: libtorrent reads what we put (mutable with a
// salt, and immutable), and we read what libtorrent put.
func TestLibtorrentBEP44(t *testing.T) {
	ours := loopbackNodes(t, 4)
	lt := startLibtorrent(t, ours[0].Addr(), freeUDPPorts(t, 3))
	waitLibtorrentJoined(t, lt)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Ours -> libtorrent, mutable with a salt.
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x42}, 32))
	pub := key.Public().(ed25519.PublicKey)
	salt := []byte("nextshare")
	if _, res, err := ours[1].PutMutable(ctx, key, salt, []byte("13:hello from go"), 7, nil); err != nil {
		t.Fatalf("put mutable: %v", err)
	} else {
		t.Logf("our mutable put: stored on %d nodes", res.Stored)
	}
	var ev map[string]any
	for try := 0; try < 5; try++ {
		ev = lt.do(t, fmt.Sprintf("get_mutable %x %s", []byte(pub), salt))
		if ev["found"] == true {
			break
		}
	}
	if ev["value"] != "hello from go" || ev["seq"] != float64(7) {
		t.Errorf("libtorrent read our mutable item as %v", ev)
	}

	// Ours -> libtorrent, immutable.
	target, _, err := ours[2].PutImmutable(ctx, []byte("7:go item"))
	if err != nil {
		t.Fatalf("put immutable: %v", err)
	}
	for try := 0; try < 5; try++ {
		ev = lt.do(t, "get_immutable "+target.String())
		if ev["found"] == true {
			break
		}
	}
	if ev["value"] != "go item" {
		t.Errorf("libtorrent read our immutable item as %v", ev)
	}

	// libtorrent -> ours, mutable with a salt.
	seed := bytes.Repeat([]byte{0x17}, 32)
	ltPub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	ltSalt := []byte("lt-salt")
	ev = lt.do(t, fmt.Sprintf("put_mutable %x %s hello from libtorrent", seed, ltSalt))
	if ev["public_key"] != hex.EncodeToString(ltPub) {
		t.Fatalf("libtorrent derived public key %v, want %x", ev["public_key"], []byte(ltPub))
	}
	if ev["num_success"].(float64) == 0 {
		t.Fatalf("libtorrent's mutable put stored nowhere: %v", ev)
	}
	it, l, err := ours[3].Get(ctx, MutableTarget(ltPub, ltSalt), true, ltSalt, ltPub)
	if err != nil || string(it.V) != "21:hello from libtorrent" || it.Seq != int64(ev["seq"].(float64)) {
		t.Fatalf("our get of libtorrent's mutable item: %v, %q seq %d", err, it.V, it.Seq)
	}
	t.Logf("we read libtorrent's mutable item: seq %d, %d queries, %v", it.Seq, l.Queries, l.Duration)

	// libtorrent -> ours, immutable.
	ev = lt.do(t, "put_immutable libtorrent item")
	ltTarget, err := ParseID(ev["target"].(string))
	if err != nil {
		t.Fatalf("libtorrent's immutable put: %v (%v)", ev, err)
	}
	it, _, err = ours[1].Get(ctx, ltTarget, false, nil, nil)
	if err != nil || string(it.V) != "15:libtorrent item" || ltTarget != ImmutableTarget([]byte("15:libtorrent item")) {
		t.Fatalf("our get of libtorrent's immutable item: %v, %q", err, it.V)
	}
}
