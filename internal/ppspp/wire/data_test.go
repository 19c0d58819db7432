package wire

import (
	"bytes"
	"testing"
)

func TestData(t *testing.T) {
	testHex(t, []hexCase{
		// vod-4097 frame 6: the 1-byte last chunk, byte 4096 of the content is 0x3d.
		{"chunkrange32 libswift", pCR32, Data{rng(4, 4), 0x000660ebe381428b, []byte{0x3d}},
			"01 00000004 00000004 000660ebe381428b 3d"},
		{"bin32", pBin32, Data{rng(4, 4), 7, []byte{1, 2, 3}}, "01 00000008 0000000000000007 010203"},
		{"bin64", pBin64, Data{rng(4, 4), 7, []byte{1, 2, 3}}, "01 0000000000000008 0000000000000007 010203"},
		{"chunkrange64", pCR64, Data{rng(4, 4), 7, []byte{1, 2, 3}},
			"01 0000000000000004 0000000000000004 0000000000000007 010203"},
		{"byterange64", pBR64, Data{rng(4, 4), 7, []byte{1, 2, 3}},
			"01 0000000000001000 00000000000013ff 0000000000000007 010203"},
		// An empty payload is legal on the wire; what it means is the engine's business.
		{"empty payload", pCR32, Data{rng(0, 0), 1, nil}, "01 00000000 00000000 0000000000000001"},
	})
}

// DATA has no length: its payload is everything after the timestamp, so a
// following message would be read as payload.
func TestDataIsLast(t *testing.T) {
	b := AppendChannel(nil, 9)
	b = Data{rng(0, 0), 5, []byte("ab")}.Append(b, pCR32)
	b = Have{rng(1, 1)}.Append(b, pCR32)
	_, msgs, _, err := readAll(b, pCR32)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("got %d messages, err %v", len(msgs), err)
	}
	d := msgs[0].(Data)
	want := append([]byte("ab"), unhex(t, "03 00000001 00000001")...)
	if !bytes.Equal(d.Payload, want) {
		t.Errorf("payload %x, want %x", d.Payload, want)
	}
}

func TestDataAppendHeader(t *testing.T) {
	m := Data{rng(3, 3), 0x0102030405060708, content(3072, 1024)}
	h := m.AppendHeader(nil, pCR32)
	if len(h) != m.HeaderLen(pCR32) || len(h) != 17 {
		t.Fatalf("header %d bytes, HeaderLen %d", len(h), m.HeaderLen(pCR32))
	}
	if full := m.Append(nil, pCR32); !bytes.Equal(full, append(h, m.Payload...)) {
		t.Errorf("Append is not AppendHeader + payload")
	}
}

// The payload aliases the datagram and cannot be grown into the bytes that
// follow it.
func TestDataAliases(t *testing.T) {
	b := unhex(t, "00000001 01 00000000 00000000 0000000000000001 aabb")
	var r Reader
	var m Msg
	r.Reset(b, pCR32)
	if !r.Next(&m) {
		t.Fatal(r.Err())
	}
	b[len(b)-1] = 0xcc
	if m.Payload[1] != 0xcc {
		t.Errorf("payload does not alias the datagram")
	}
	if cap(m.Payload) != len(m.Payload) {
		t.Errorf("payload capacity %d reaches past its length %d", cap(m.Payload), len(m.Payload))
	}
}
