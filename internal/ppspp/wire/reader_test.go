package wire

import (
	"errors"
	"strings"
	"testing"
)

func TestKeepAlive(t *testing.T) {
	// vod-4097 frame 7: a bare channel ID.
	ch, msgs, _, err := readAll(unhex(t, "e3813f80"), pCR32)
	if ch != 0xe3813f80 || len(msgs) != 0 || err != nil {
		t.Errorf("channel %#x, %d messages, err %v", ch, len(msgs), err)
	}
	if got := AppendChannel(nil, 0xe3813f80); string(got) != string(unhex(t, "e3813f80")) {
		t.Errorf("AppendChannel = %x", got)
	}
}

func TestReaderErrors(t *testing.T) {
	cases := []struct {
		name   string
		p      Params
		hex    string
		kind   error
		prefix string // start of the error text
		before int    // messages decoded before the error
	}{
		{"short datagram", pCR32, "e381 3f", ErrTruncated, "wire: datagram of 3 bytes", 0},
		{"truncated HAVE", pCR32, "00000001 03 00000000 00000000 | 03 00000001 000000", ErrTruncated,
			"wire: HAVE at offset 13: truncated: chunk specification needs 8 bytes, 7 left", 1},
		{"truncated DATA", pCR32, "00000001 01 00000000 00000000 000660eb", ErrTruncated, "wire: DATA at offset 4: truncated", 0},
		{"truncated ACK", pCR32, "00000001 02 00000000 00000000 0000", ErrTruncated, "wire: ACK at offset 4: truncated", 0},
		{"truncated INTEGRITY", pCR32, "00000001 04 00000000 00000000 cc89", ErrTruncated, "wire: INTEGRITY at offset 4: truncated", 0},
		{"truncated SIGNED_INTEGRITY", pCR32, "00000001 07 00000000 00000000 0000000000000001 41f7", ErrTruncated,
			"wire: SIGNED_INTEGRITY at offset 4: truncated", 0},
		{"truncated PEX_RESv4", pCR32, "00000001 05 7f000001", ErrTruncated, "wire: PEX_RESv4 at offset 4: truncated", 0},
		{"truncated PEX_RESv6", pCR32, "00000001 0c 00000000", ErrTruncated, "wire: PEX_RESv6 at offset 4: truncated", 0},
		{"truncated PEX_REScert length", pCR32, "00000001 0d 00", ErrTruncated, "wire: PEX_REScert at offset 4: truncated", 0},
		{"truncated PEX_REScert", pCR32, "00000001 0d 0005 6365", ErrTruncated, "wire: PEX_REScert at offset 4: truncated", 0},
		{"truncated source channel", pCR32, "00000000 00 e381", ErrTruncated, "wire: HANDSHAKE at offset 4: truncated", 0},
		{"no end option", pCR32, "00000000 00 e3813f80 0001 0101", ErrTruncated,
			"wire: HANDSHAKE at offset 4: truncated: options end after 4 bytes without end option 255", 0},
		{"truncated swarm ID", pCR32, "00000000 00 e3813f80 02 0014 7b72", ErrTruncated, "wire: HANDSHAKE at offset 4: truncated: option 2", 0},
		{"truncated option 7", pCR32, "00000000 00 e3813f80 07 ffff", ErrTruncated, "wire: HANDSHAKE at offset 4: truncated: option 7", 0},
		{"unknown message", pCR32, "00000001 06 | 0e 00", ErrUnknownMessage,
			"wire: MsgType(14) at offset 5: unknown message type: type byte 0x0e", 1},
		{"type 255", pCR32, "00000001 ff", ErrUnknownMessage, "wire: MsgType(255) at offset 4: unknown message type", 0},
		// probes P2: option 9 is known to the RFC but not to libswift; 10 is known to no one.
		{"unknown option", pCR32, "00000000 00 11223344 0001 0a 00 ff", ErrUnknownOption,
			"wire: HANDSHAKE at offset 4: unknown handshake option: option code 10", 0},
		{"repeated option", pCR32, "00000000 00 11223344 0001 0002 ff", ErrBadOption,
			"wire: HANDSHAKE at offset 4: bad handshake option: option 0 repeated", 0},
		{"unknown CAM", pCR32, "00000000 00 11223344 0605 ff", ErrBadOption, "wire: HANDSHAKE at offset 4: bad handshake option: chunk addressing method 5 unknown", 0},
		{"unknown hash function", pCR32, "00000000 00 11223344 0409 ff", ErrBadOption, "wire: HANDSHAKE at offset 4: bad handshake option: Merkle hash function 9 unknown", 0},
		{"unknown signature algorithm", pCR32, "00000000 00 11223344 0563 ff", ErrBadOption, "wire: HANDSHAKE at offset 4: bad handshake option: live signature algorithm 99", 0},
		{"chunk size 0", pCR32, "00000000 00 11223344 0900000000 ff", ErrBadOption, "wire: HANDSHAKE at offset 4: bad handshake option: chunk size 0", 0},
		{"bin32 None", pBin32, "00000001 03 ffffffff", ErrBadRange, "wire: HAVE at offset 4: bad chunk range: 32-bit bin 0xffffffff is bin None", 0},
		{"bin64 None", pBin64, "00000001 08 ffffffffffffffff", ErrBadRange, "wire: REQUEST at offset 4: bad chunk range", 0},
		{"bin64 beyond 2^32", pBin64, "00000001 03 0000000200000000", ErrBadRange, "wire: HAVE at offset 4: bad chunk range: bin 8589934592 covers chunks 4294967296..4294967296", 0},
		{"bin64 layer 32+", pBin64, "00000001 03 00000001ffffffff", ErrBadRange, "wire: HAVE at offset 4: bad chunk range", 0},
		{"chunkrange32 end before start", pCR32, "00000001 09 00000004 00000003", ErrBadRange,
			"wire: CANCEL at offset 4: bad chunk range: chunk range 4..3 ends before it starts", 0},
		{"chunkrange64 end before start", pCR64, "00000001 03 0000000000000004 0000000000000003", ErrBadRange, "wire: HAVE at offset 4: bad chunk range", 0},
		{"chunkrange64 beyond 2^32", pCR64, "00000001 03 0000000000000000 0000000100000000", ErrBadRange,
			"wire: HAVE at offset 4: bad chunk range: chunk range 0..4294967296 reaches beyond 2^32 chunks", 0},
		{"byterange64 unaligned", pBR64, "00000001 03 0000000000000001 00000000000003ff", ErrBadRange,
			"wire: HAVE at offset 4: bad chunk range: byte range 1..1023 does not start on a 1024-byte chunk boundary", 0},
		{"byterange64 end before start", pBR64, "00000001 03 0000000000000400 00000000000003ff", ErrBadRange, "wire: HAVE at offset 4: bad chunk range", 0},
		{"byterange64 beyond 2^32", pBR64, "00000001 03 0000000000000000 0000040000000000", ErrBadRange, "wire: HAVE at offset 4: bad chunk range", 0},
		{"bad range in DATA", pCR32, "00000001 01 00000002 00000001 0000000000000000 aa", ErrBadRange, "wire: DATA at offset 4: bad chunk range", 0},
		{"bad range in ACK", pCR32, "00000001 02 00000002 00000001 0000000000000000", ErrBadRange, "wire: ACK at offset 4: bad chunk range", 0},
		{"bad range in INTEGRITY", pBin32, "00000001 04 ffffffff cc89c5a85f8261195c9f19d331555dac64436f46", ErrBadRange, "wire: INTEGRITY at offset 4: bad chunk range", 0},
		{"bad range in SIGNED_INTEGRITY", pBin32, "00000001 07 ffffffff 0000000000000000" + strings.Repeat("00", 64), ErrBadRange,
			"wire: SIGNED_INTEGRITY at offset 4: bad chunk range", 0},
		{"bad params", Params{Addr: 7, HashSize: 20, SigSize: 64}, "00000001 03 00000000", ErrBadParams, "wire: chunk addressing method 7", 0},
		{"bad params hash", Params{Addr: Bin32, SigSize: 64}, "00000001", ErrBadParams, "wire: hash size 0", 0},
		{"bad params signature", Params{Addr: Bin32, HashSize: 20}, "00000001", ErrBadParams, "wire: signature size 0", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, msgs, _, err := readAll(unhex(t, c.hex), c.p)
			if !errors.Is(err, c.kind) {
				t.Fatalf("err = %v, want %v", err, c.kind)
			}
			if !strings.HasPrefix(err.Error(), c.prefix) {
				t.Errorf("error text %q\n     want prefix %q", err, c.prefix)
			}
			if len(msgs) != c.before {
				t.Errorf("%d messages before the error, want %d", len(msgs), c.before)
			}
			var pe *ParseError
			if errors.As(err, &pe) && !strings.HasPrefix(c.prefix, "wire: "+pe.Type.String()+" at offset") {
				t.Errorf("ParseError type %v offset %d do not match %q", pe.Type, pe.Offset, c.prefix)
			}
		})
	}
}

// Once Next has failed it keeps failing, and m is left zero.
func TestReaderStopsAtError(t *testing.T) {
	var r Reader
	var m Msg
	r.Reset(unhex(t, "00000001 0e 06 06"), pCR32)
	m.Type = TypeHave
	for i := 0; i < 3; i++ {
		if r.Next(&m) {
			t.Fatal("Next after an unknown type")
		}
		if m.Type != 0 || r.Err() == nil {
			t.Fatalf("m %+v, err %v", m, r.Err())
		}
	}
	// The zero Reader holds nothing.
	var z Reader
	if z.Next(&m) || z.Err() != nil {
		t.Error("zero Reader")
	}
}

// After a HANDSHAKE the rest of the datagram uses the parameters it
// announces; a Reset returns to the channel's.
func TestReaderAdoptsHandshakeParams(t *testing.T) {
	var o Options
	o.SetHashFunc(HashSHA256)
	o.SetChunkAddr(Bin32)
	b := AppendChannel(nil, 5)
	b = Have{rng(0, 0)}.Append(b, pCR32)
	b = Handshake{7, o}.Append(b, pCR32)
	p2 := Params{Addr: Bin32, HashSize: 32, SigSize: 64, ChunkSize: 1024}
	b = Have{rng(4, 7)}.Append(b, p2)
	b = Integrity{rng(4, 7), make([]byte, 32)}.Append(b, p2)
	want := "00000005 03 00000000 00000000 | 00 00000007 0402 0600 ff | 03 0000000b | 04 0000000b" + strings.Repeat("00", 32)
	if string(b) != string(unhex(t, want)) {
		t.Fatalf("datagram %x\n    want %s", b, want)
	}

	var r Reader
	var m Msg
	r.Reset(b, pCR32)
	var got []Message
	for r.Next(&m) {
		got = append(got, m.Message())
	}
	if r.Err() != nil || len(got) != 4 {
		t.Fatalf("%d messages, err %v", len(got), r.Err())
	}
	if r.Params() != p2 {
		t.Errorf("Params after handshake %+v, want %+v", r.Params(), p2)
	}
	if !sameMessage(got[2], Have{rng(4, 7)}) || len(got[3].(Integrity).Hash) != 32 {
		t.Errorf("after handshake: %+v %+v", got[2], got[3])
	}
	r.Reset(unhex(t, "00000005"), pCR32)
	if r.Params() != pCR32 {
		t.Errorf("Reset kept the previous datagram's params")
	}
}

// A handshake with a bad option value stops the datagram: what follows
// cannot be laid out.
func TestReaderBadHandshakeStops(t *testing.T) {
	b := unhex(t, "00000000 00 00000007 0407 ff | 03 00000000 00000000")
	_, msgs, _, err := readAll(b, pCR32)
	if len(msgs) != 0 || !errors.Is(err, ErrBadOption) {
		t.Errorf("%d messages, err %v", len(msgs), err)
	}
}

func TestMsgTypeString(t *testing.T) {
	for ty, name := range map[MsgType]string{
		TypeHandshake: "HANDSHAKE", TypeData: "DATA", TypeAck: "ACK", TypeHave: "HAVE", TypeIntegrity: "INTEGRITY",
		TypePexResV4: "PEX_RESv4", TypePexReq: "PEX_REQ", TypeSignedIntegrity: "SIGNED_INTEGRITY",
		TypeRequest: "REQUEST", TypeCancel: "CANCEL", TypeChoke: "CHOKE", TypeUnchoke: "UNCHOKE",
		TypePexResV6: "PEX_RESv6", TypePexResCert: "PEX_REScert", 14: "MsgType(14)",
	} {
		if ty.String() != name {
			t.Errorf("%d: %q, want %q", uint8(ty), ty.String(), name)
		}
	}
	var m Msg
	m.Type = 200
	if m.Message() != nil {
		t.Error("Message of an unknown type")
	}
}

func TestAppendMessages(t *testing.T) {
	// vod-4097 frame 5: HAVE + ACK + REQUEST.
	b := AppendMessages(AppendChannel(nil, 0xe37f9bbe), pCR32, Have{rng(0, 0)}, Ack{rng(0, 0), 16}, Request{rng(4, 4)})
	want := unhex(t, "e37f9bbe | 03 00000000 00000000 | 02 00000000 00000000 0000000000000010 | 08 00000004 00000004")
	if string(b) != string(want) {
		t.Errorf("got %x\nwant %x", b, want)
	}
}
