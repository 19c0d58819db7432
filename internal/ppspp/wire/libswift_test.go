package wire

import (
	"bytes"
	"testing"
)

// Real datagrams captured from libswift (internal test vectors
// vod-4097-payloads.tsv and live-payloads.tsv). DATA payloads follow the
// vectors' content rule, so they are built with content() rather than
// spelled out; the headers are literal hex.

const (
	vodRoot = "7b72db4d084873f536c5972c0276f45fae2dd3fc"
	liveID  = "0d3161b7ee865dfda7b3f3446b930a14c79b609fa6fc83870742a2684103aaa7c8557513ff2cd7221755c7207f911aab23d07be59bbb597133f16b14ee57c8d8d7"
)

type capture struct {
	name    string
	hex     string // datagram without its DATA payload
	payload []byte // DATA payload appended to hex, if any
	channel uint32
	want    []Message
}

func (c capture) bytes(t testing.TB) []byte { return append(unhex(t, c.hex), c.payload...) }

func libswiftCaptures(t testing.TB) []capture {
	root := unhex(t, vodRoot)
	id := unhex(t, liveID)

	var liveInit, liveReply Options
	for _, o := range []*Options{&liveInit, &liveReply} {
		o.SetVersion(1)
		o.SetMinVersion(1)
		o.SetIntegrityMethod(IntegrityUnifiedMerkle)
		o.SetLiveSigAlg(SigECDSAP256SHA256)
		o.SetChunkAddr(ChunkRange32)
		o.SetLiveDiscardWindow(0xffffffff)
	}
	liveInit.SetSwarmID(id)

	sig4 := unhex(t, "41f71acffce2bfcb58f47fc6cfe084f52c7b305c37804c00964e3c1a3ae415bd15f14b2e44e820b7d08fbaf70d990cac7977b5157776826a812ed5a0465fb22b")
	sig86 := unhex(t, "e4306cda7156f0cbd2304a9d46b97b5d7dbc4c0fcc1bad5105c5d54c5e0868cab0e7356375d846f7bb5dd41e172860411d7fb123fadf676e87e1cc45afad72e8")

	return []capture{
		{"vod frame 1 (leecher opens)",
			"00000000 | 00 e3813f80 00 01 01 01 02 0014 " + vodRoot + " 03 01 04 00 06 02 ff",
			nil, 0, []Message{Handshake{0xe3813f80, libswiftOptions(root)}}},
		{"vod frame 2 (seeder replies with HAVEs)",
			"e3813f80 | 00 e37f9bbe 00 01 01 01 03 01 04 00 06 02 ff | 03 00000000 00000003 | 03 00000004 00000004",
			nil, 0xe3813f80, []Message{Handshake{0xe37f9bbe, libswiftOptions(nil)}, Have{rng(0, 3)}, Have{rng(4, 4)}}},
		{"vod frame 3 (REQUEST + PEX_REQ)",
			"e37f9bbe | 08 00000000 00000000 | 06",
			nil, 0xe37f9bbe, []Message{Request{rng(0, 0)}, PexReq{}}},
		{"vod frame 4 (peaks, uncles, DATA)",
			"e3813f80" +
				"| 04 00000000 00000003 cc89c5a85f8261195c9f19d331555dac64436f46" +
				"| 04 00000004 00000004 21606782c65e44cac7afbb90977d8b6f82140e76" +
				"| 04 00000002 00000003 0dd6faa73ed8153598cb3bb30b3df9cf9ab2b438" +
				"| 04 00000001 00000001 15971f3fcabafe8867e5ccaa8b15cf33eae6fa7c" +
				"| 01 00000000 00000000 000660ebe38141f3",
			content(0, 1024), 0xe3813f80, []Message{
				Integrity{rng(0, 3), unhex(t, "cc89c5a85f8261195c9f19d331555dac64436f46")},
				Integrity{rng(4, 4), unhex(t, "21606782c65e44cac7afbb90977d8b6f82140e76")},
				Integrity{rng(2, 3), unhex(t, "0dd6faa73ed8153598cb3bb30b3df9cf9ab2b438")},
				Integrity{rng(1, 1), unhex(t, "15971f3fcabafe8867e5ccaa8b15cf33eae6fa7c")},
				Data{rng(0, 0), 1795416110744051, content(0, 1024)},
			}},
		{"vod frame 5 (HAVE + ACK + REQUEST)",
			"e37f9bbe | 03 00000000 00000000 | 02 00000000 00000000 0000000000000010 | 08 00000004 00000004",
			nil, 0xe37f9bbe, []Message{Have{rng(0, 0)}, Ack{rng(0, 0), 16}, Request{rng(4, 4)}}},
		{"vod frame 6 (DATA of the 1-byte last chunk)",
			"e3813f80 | 01 00000004 00000004 000660ebe381428b 3d",
			nil, 0xe3813f80, []Message{Data{rng(4, 4), 1795416110744203, []byte{0x3d}}}},
		{"vod frame 7 (keep-alive)", "e3813f80", nil, 0xe3813f80, nil},
		{"vod frame 32 (explicit close)", "e37f9bbe | 00 00000000 ff", nil, 0xe37f9bbe, []Message{Handshake{}}},

		{"live frame 1 (viewer opens, 65-byte swarm ID)",
			"00000000 | 00 f1dfe3d8 00 01 01 01 02 0041 " + liveID + " 03 03 05 0d 06 02 07 ffffffff ff",
			nil, 0, []Message{Handshake{0xf1dfe3d8, liveInit}}},
		{"live frame 2 (source replies)",
			"f1dfe3d8 | 00 f19b2c9a 00 01 01 01 03 03 05 0d 06 02 07 ffffffff ff | 03 00000000 0000003f",
			nil, 0xf1dfe3d8, []Message{Handshake{0xf19b2c9a, liveReply}, Have{rng(0, 63)}}},
		{"live frame 4 (PEX_REQ, INTEGRITY, SIGNED_INTEGRITY)",
			"f1dfe3d8 | 06 | 04 00000020 0000003f ceaf04f295794719d65902aadcacf11fe4b7ef73" +
				"| 07 00000020 0000003f 000660ebf1ca9e3e " + sig4Hex,
			nil, 0xf1dfe3d8, []Message{
				PexReq{},
				Integrity{rng(32, 63), unhex(t, "ceaf04f295794719d65902aadcacf11fe4b7ef73")},
				SignedIntegrity{rng(32, 63), 1795416350432830, sig4},
			}},
		{"live frame 86 (new munro, uncles, DATA)",
			"f1dfe3d8" +
				"| 04 00000040 0000005f 1e4625ac52e974be6528faf793947f0108b8168a" +
				"| 07 00000040 0000005f 000660ebf1e961e0 " + sig86Hex +
				"| 04 00000050 0000005f ca6bee868266bc13c90b02a599106a5eba27bb45" +
				"| 04 00000048 0000004f bcfeb94ebb74ec99590865aa2553564463f88070" +
				"| 04 00000044 00000047 0d1f413aa94d564e5975f0d44fff25cefec2de90" +
				"| 04 00000042 00000043 a5edbd8ca1bc6f69393ee66b169eaf56d17b14ad" +
				"| 04 00000041 00000041 cffbb123d8c52673dc56ab02729e2a12d5eac3fb" +
				"| 01 00000040 00000040 000660ebf1eae0f6",
			content(64*1024, 1024), 0xf1dfe3d8, []Message{
				Integrity{rng(64, 95), unhex(t, "1e4625ac52e974be6528faf793947f0108b8168a")},
				SignedIntegrity{rng(64, 95), 0x000660ebf1e961e0, sig86},
				Integrity{rng(80, 95), unhex(t, "ca6bee868266bc13c90b02a599106a5eba27bb45")},
				Integrity{rng(72, 79), unhex(t, "bcfeb94ebb74ec99590865aa2553564463f88070")},
				Integrity{rng(68, 71), unhex(t, "0d1f413aa94d564e5975f0d44fff25cefec2de90")},
				Integrity{rng(66, 67), unhex(t, "a5edbd8ca1bc6f69393ee66b169eaf56d17b14ad")},
				Integrity{rng(65, 65), unhex(t, "cffbb123d8c52673dc56ab02729e2a12d5eac3fb")},
				Data{rng(64, 64), 0x000660ebf1eae0f6, content(64*1024, 1024)},
			}},
		{"live frame 272 (explicit close)", "f19b2c9a | 00 00000000 ff", nil, 0xf19b2c9a, []Message{Handshake{}}},
	}
}

const (
	sig4Hex  = "41f71acffce2bfcb58f47fc6cfe084f52c7b305c37804c00964e3c1a3ae415bd15f14b2e44e820b7d08fbaf70d990cac7977b5157776826a812ed5a0465fb22b"
	sig86Hex = "e4306cda7156f0cbd2304a9d46b97b5d7dbc4c0fcc1bad5105c5d54c5e0868cab0e7356375d846f7bb5dd41e172860411d7fb123fadf676e87e1cc45afad72e8"
)

func TestLibswiftDatagrams(t *testing.T) {
	for _, c := range libswiftCaptures(t) {
		t.Run(c.name, func(t *testing.T) {
			b := c.bytes(t)
			ch, msgs, ps, err := readAll(b, DefaultParams)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if ch != c.channel {
				t.Errorf("channel %#x, want %#x", ch, c.channel)
			}
			if len(msgs) != len(c.want) {
				t.Fatalf("%d messages, want %d: %+v", len(msgs), len(c.want), msgs)
			}
			for i := range msgs {
				if !sameMessage(msgs[i], c.want[i]) {
					t.Errorf("message %d:\n got %+v\nwant %+v", i, msgs[i], c.want[i])
				}
			}
			// Re-encoding reproduces libswift's bytes exactly.
			if got := reencode(ch, msgs, ps); !bytes.Equal(got, b) {
				t.Errorf("re-encoded\n %x\nwant\n %x", got, b)
			}
			// And so does encoding the expected messages.
			if got := AppendMessages(AppendChannel(nil, c.channel), DefaultParams, c.want...); !bytes.Equal(got, b) {
				t.Errorf("encoded\n %x\nwant\n %x", got, b)
			}
		})
	}
}

// The fields the live handshake is known for, checked one by one.
func TestLibswiftLiveHandshakeFields(t *testing.T) {
	c := libswiftCaptures(t)[8]
	var r Reader
	var m Msg
	if ch, err := r.Reset(c.bytes(t), DefaultParams); ch != 0 || err != nil {
		t.Fatalf("Reset: %d %v", ch, err)
	}
	if !r.Next(&m) || m.Type != TypeHandshake {
		t.Fatalf("first message %v, err %v", m.Type, r.Err())
	}
	o := &m.Handshake.Options
	switch {
	case m.Handshake.SrcChannel != 0xf1dfe3d8:
		t.Errorf("source channel %#x", m.Handshake.SrcChannel)
	case len(o.SwarmID) != 65 || o.SwarmID[0] != SigECDSAP256SHA256:
		t.Errorf("swarm ID %x", o.SwarmID)
	case o.IntegrityMethod != IntegrityUnifiedMerkle:
		t.Errorf("CIPM %d", o.IntegrityMethod)
	case o.Has(OptHashFunc):
		t.Errorf("libswift sends no option 4 for live swarms")
	case o.LiveSigAlg != SigECDSAP256SHA256:
		t.Errorf("signature algorithm %d", o.LiveSigAlg)
	case o.ChunkAddr != ChunkRange32:
		t.Errorf("CAM %v", o.ChunkAddr)
	case o.LiveDiscardWindow != 0xffffffff:
		t.Errorf("discard window %#x", o.LiveDiscardWindow)
	case o.Present != 1<<0|1<<1|1<<2|1<<3|1<<5|1<<6|1<<7:
		t.Errorf("present %b", o.Present)
	}
	if r.Next(&m) || r.Err() != nil {
		t.Errorf("trailing message %v, err %v", m.Type, r.Err())
	}
	if p := r.Params(); p.SigSize != 64 || p.HashSize != 20 || p.Addr != ChunkRange32 {
		t.Errorf("params after live handshake %+v", p)
	}
}
