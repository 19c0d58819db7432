package wire

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"

	"github.com/nextshare/nextshare/internal/bin"
)

// unhex decodes hex written for people: spaces and '|' separate fields the
// way the RFC's figures and the annotated captures do.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	s = strings.NewReplacer(" ", "", "|", "", "\n", "", "\t", "").Replace(s)
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad test hex %q: %v", s, err)
	}
	return b
}

// content returns n bytes of the test vectors' content from stream offset
// off: byte i is (i*7+3) mod 251.
func content(off, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(((off+i)*7 + 3) % 251)
	}
	return b
}

func rng(s, e uint64) bin.Range { return bin.Range{Start: s, End: e} }

// canon replaces nil byte slices with empty ones, so that a message built
// by hand compares equal to one decoded from the wire.
func canon(m Message) Message {
	nz := func(b []byte) []byte {
		if b == nil {
			return []byte{}
		}
		return b
	}
	switch x := m.(type) {
	case Handshake:
		x.Options.SwarmID = nz(x.Options.SwarmID)
		x.Options.SupportedMsgs = nz(x.Options.SupportedMsgs)
		// Fields of absent options are not on the wire.
		o := &x.Options
		if !o.Has(OptVersion) {
			o.Version = 0
		}
		if !o.Has(OptMinVersion) {
			o.MinVersion = 0
		}
		if !o.Has(OptSwarmID) {
			o.SwarmID = []byte{}
		}
		if !o.Has(OptIntegrity) {
			o.IntegrityMethod = 0
		}
		if !o.Has(OptHashFunc) {
			o.HashFunc = 0
		}
		if !o.Has(OptLiveSigAlg) {
			o.LiveSigAlg = 0
		}
		if !o.Has(OptChunkAddr) {
			o.ChunkAddr = 0
		}
		if !o.Has(OptLiveDiscardWindow) {
			o.LiveDiscardWindow = 0
		}
		if !o.Has(OptSupportedMsgs) {
			o.SupportedMsgs = []byte{}
		}
		if !o.Has(OptChunkSize) {
			o.ChunkSize = 0
		}
		return x
	case Data:
		x.Payload = nz(x.Payload)
		return x
	case Integrity:
		x.Hash = nz(x.Hash)
		return x
	case SignedIntegrity:
		x.Signature = nz(x.Signature)
		return x
	case PexResCert:
		x.Cert = nz(x.Cert)
		return x
	}
	return m
}

func sameMessage(a, b Message) bool { return reflect.DeepEqual(canon(a), canon(b)) }

// readAll decodes a whole datagram and returns its channel, its messages
// as typed structs, the Params in force before each message, and the error
// that stopped the Reader.
func readAll(b []byte, p Params) (uint32, []Message, []Params, error) {
	var r Reader
	ch, err := r.Reset(b, p)
	if err != nil {
		return 0, nil, nil, err
	}
	var msgs []Message
	var ps []Params
	var m Msg
	for {
		before := r.Params()
		if !r.Next(&m) {
			break
		}
		msgs = append(msgs, m.Message())
		ps = append(ps, before)
	}
	return ch, msgs, ps, r.Err()
}

// reencode lays out msgs again, each with the Params that were in force
// when it was decoded.
func reencode(ch uint32, msgs []Message, ps []Params) []byte {
	b := AppendChannel(nil, ch)
	for i, m := range msgs {
		b = m.Append(b, ps[i])
	}
	return b
}

// hexCase is one message and its wire form under p.
type hexCase struct {
	name string
	p    Params
	msg  Message
	hex  string
}

// testHex checks both directions for each case: encoding gives exactly the
// hex (and Len agrees), and decoding the hex inside a datagram gives back
// the message and consumes it exactly.
func testHex(t *testing.T, cases []hexCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := unhex(t, c.hex)
			prefix := []byte{0xaa, 0xbb}
			got := c.msg.Append(append([]byte(nil), prefix...), c.p)
			if !bytes.Equal(got[:2], prefix) {
				t.Fatalf("Append overwrote the bytes before it")
			}
			if !bytes.Equal(got[2:], want) {
				t.Errorf("Append = %x\n          want %x", got[2:], want)
			}
			if n := c.msg.Len(c.p); n != len(want) {
				t.Errorf("Len = %d, want %d", n, len(want))
			}
			if c.msg.Type() != MsgType(want[0]) {
				t.Errorf("Type = %v, wire type byte %d", c.msg.Type(), want[0])
			}

			dgram := append(unhex(t, "00000001"), want...)
			ch, msgs, _, err := readAll(dgram, c.p)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if ch != 1 || len(msgs) != 1 {
				t.Fatalf("decode: channel %d, %d messages %+v", ch, len(msgs), msgs)
			}
			if !sameMessage(msgs[0], c.msg) {
				t.Errorf("decode = %+v\n   want %+v", msgs[0], c.msg)
			}
		})
	}
}
