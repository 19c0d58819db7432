package wire

import (
	"errors"
	"testing"
)

// libswiftOptions are the options libswift sends for static content
// (LIBSWIFT.md): version 1, min version 1, [swarm ID], Merkle, SHA-1,
// 32-bit chunk ranges.
func libswiftOptions(swarmID []byte) Options {
	var o Options
	o.SetVersion(1)
	o.SetMinVersion(1)
	if swarmID != nil {
		o.SetSwarmID(swarmID)
	}
	o.SetIntegrityMethod(IntegrityMerkle)
	o.SetHashFunc(HashSHA1)
	o.SetChunkAddr(ChunkRange32)
	return o
}

func TestHandshake(t *testing.T) {
	root := unhex(t, "7b72db4d084873f536c5972c0276f45fae2dd3fc")

	live := Options{}
	live.SetVersion(1)
	live.SetMinVersion(1)
	live.SetIntegrityMethod(IntegrityUnifiedMerkle)
	live.SetLiveSigAlg(SigECDSAP256SHA256)
	live.SetChunkAddr(ChunkRange32)
	live.SetLiveDiscardWindow(0xffffffff)

	// Option 7 is 64 bits under a 64-bit method.
	live64 := live
	live64.SetChunkAddr(ChunkRange64)
	live64.SetLiveDiscardWindow(0x0102030405060708)

	// Option 7 with no option 6 takes its width from the channel's Params.
	var window Options
	window.SetLiveDiscardWindow(1000)

	var all Options
	all.SetVersion(1)
	all.SetMinVersion(1)
	all.SetSwarmID([]byte{0xab, 0xcd})
	all.SetIntegrityMethod(IntegritySignAll)
	all.SetHashFunc(HashSHA256)
	all.SetLiveSigAlg(SigEd25519)
	all.SetChunkAddr(Bin32)
	all.SetLiveDiscardWindow(512)
	all.SetSupportedMsgs(TypeHandshake, TypeData, TypeAck, TypeHave, TypeIntegrity, TypePexResV4, TypePexReq,
		TypeSignedIntegrity, TypeRequest, TypeCancel, TypeChoke, TypeUnchoke, TypePexResV6, TypePexResCert)
	all.SetChunkSize(8192)

	testHex(t, []hexCase{
		// vod-4097 frame 1: the leecher's opening handshake.
		{"libswift initiator", pCR32, Handshake{0xe3813f80, libswiftOptions(root)},
			"00 e3813f80 | 00 01 | 01 01 | 02 0014 7b72db4d084873f536c5972c0276f45fae2dd3fc | 03 01 | 04 00 | 06 02 | ff"},
		// vod-4097 frame 2: the seeder's reply omits the swarm ID.
		{"libswift reply", pCR32, Handshake{0xe37f9bbe, libswiftOptions(nil)},
			"00 e37f9bbe | 00 01 | 01 01 | 03 01 | 04 00 | 06 02 | ff"},
		// vod-4097 frame 32: explicit close.
		{"close", pCR32, Handshake{}, "00 00000000 ff"},
		// live frame 2: UMT, ECDSA P-256, 32-bit discard window.
		{"libswift live reply", pCR32, Handshake{0xf19b2c9a, live},
			"00 f19b2c9a | 00 01 | 01 01 | 03 03 | 05 0d | 06 02 | 07 ffffffff | ff"},
		{"live 64-bit window", pCR32, Handshake{1, live64},
			"00 00000001 | 00 01 | 01 01 | 03 03 | 05 0d | 06 04 | 07 0102030405060708 | ff"},
		{"window width from params bin32", pBin32, Handshake{1, window}, "00 00000001 | 07 000003e8 | ff"},
		{"window width from params bin64", pBin64, Handshake{1, window}, "00 00000001 | 07 00000000000003e8 | ff"},
		{"window width from params byterange64", pBR64, Handshake{1, window}, "00 00000001 | 07 00000000000003e8 | ff"},
		// Every option; option 8 is the bitmap of probes P3 (types 0..13).
		{"all options", pCR32, Handshake{0x11223344, all},
			"00 11223344 | 00 01 | 01 01 | 02 0002 abcd | 03 02 | 04 02 | 05 0f | 06 00 | 07 00000200 | 08 02 fffc | 09 00002000 | ff"},
	})
}

func TestOptionsAnyOrder(t *testing.T) {
	// probes P11: CAM before CIPM, swarm ID last; libswift accepts it.
	b := unhex(t, "00000000 00 11223344 0001 0101 0602 0301 0400 0200147b72db4d084873f536c5972c0276f45fae2dd3fc ff")
	_, msgs, ps, err := readAll(b, pCR32)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("%d messages, err %v", len(msgs), err)
	}
	h := msgs[0].(Handshake)
	want := Handshake{0x11223344, libswiftOptions(unhex(t, "7b72db4d084873f536c5972c0276f45fae2dd3fc"))}
	if !sameMessage(h, want) {
		t.Errorf("got %+v\nwant %+v", h, want)
	}
	// Re-encoding puts the options in ascending order, as libswift sends them.
	got := reencode(0, msgs, ps)
	if exp := unhex(t, "00000000 00 11223344 0001 0101 0200147b72db4d084873f536c5972c0276f45fae2dd3fc 0301 0400 0602 ff"); string(got) != string(exp) {
		t.Errorf("re-encoded %x\n      want %x", got, exp)
	}
}

func TestOptionsWindowBeforeCAM(t *testing.T) {
	// Option 7 before option 6: its width follows the channel's method.
	b := unhex(t, "00 00000001 07 00000010 06 00 ff")
	h, n, err := parseHandshake(b[1:], pCR32)
	if err != nil || n != len(b)-1 || h.Options.LiveDiscardWindow != 16 || h.Options.ChunkAddr != Bin32 {
		t.Fatalf("got %+v n %d err %v", h, n, err)
	}
	// An option 6 that would change the width after the fact is refused.
	b = unhex(t, "00 00000001 07 00000010 06 04 ff")
	if _, _, err := parseHandshake(b[1:], pCR32); !errors.Is(err, ErrBadOption) {
		t.Errorf("width change: err %v, want ErrBadOption", err)
	}
}

func TestOptionsWindowSaturates(t *testing.T) {
	var o Options
	o.SetChunkAddr(ChunkRange32)
	o.SetLiveDiscardWindow(1 << 40)
	got := Handshake{1, o}.Append(nil, pCR32)
	if want := unhex(t, "00 00000001 06 02 07 ffffffff ff"); string(got) != string(want) {
		t.Errorf("got %x, want %x", got, want)
	}
}

func TestOptionsSupports(t *testing.T) {
	var o Options
	if !o.Supports(TypePexResCert) {
		t.Error("without option 8 every type is supported")
	}
	o.SetSupportedMsgs(TypeHandshake, TypeHave, TypeUnchoke)
	if string(o.SupportedMsgs) != "\x90\x10" {
		t.Errorf("bitmap %x, want 9010", o.SupportedMsgs)
	}
	for ty := range MsgType(16) {
		want := ty == TypeHandshake || ty == TypeHave || ty == TypeUnchoke
		if o.Supports(ty) != want {
			t.Errorf("Supports(%v) = %v", ty, !want)
		}
	}
}

func TestOptionsParams(t *testing.T) {
	// live frame 1's options: UMT, ECDSA P-256, chunk ranges, no hash function.
	liveID := unhex(t, "0d3161b7ee865dfda7b3f3446b930a14c79b609fa6fc83870742a2684103aaa7c8557513ff2cd7221755c7207f911aab23d07be59bbb597133f16b14ee57c8d8d7")
	var live Options
	live.SetSwarmID(liveID)
	live.SetLiveSigAlg(SigECDSAP256SHA256)
	live.SetChunkAddr(ChunkRange32)
	base := Params{Addr: Bin64, HashSize: 20, SigSize: 1, ChunkSize: 1024}
	p, err := live.Params(base)
	if err != nil || p != (Params{Addr: ChunkRange32, HashSize: 20, SigSize: 64, ChunkSize: 1024}) {
		t.Errorf("live: %+v %v", p, err)
	}

	var o Options
	o.SetHashFunc(HashSHA512)
	o.SetLiveSigAlg(SigECDSAP384SHA384)
	o.SetChunkAddr(ByteRange64)
	o.SetChunkSize(4096)
	p, err = o.Params(DefaultParams)
	if err != nil || p != (Params{Addr: ByteRange64, HashSize: 64, SigSize: 96, ChunkSize: 4096}) {
		t.Errorf("got %+v %v", p, err)
	}

	// RFC 3110 RSA key: exponent length 3, exponent 65537, 256-byte modulus.
	rsaID := append([]byte{SigRSASHA256, 3, 1, 0, 1}, make([]byte, 256)...)
	var rsa Options
	rsa.SetSwarmID(rsaID)
	rsa.SetLiveSigAlg(SigRSASHA256)
	if p, err := rsa.Params(DefaultParams); err != nil || p.SigSize != 256 {
		t.Errorf("rsa: %+v %v", p, err)
	}
	rsa.Present &^= 1 << OptSwarmID // a reply: size stays the channel's
	if p, err := rsa.Params(DefaultParams); err != nil || p.SigSize != 64 {
		t.Errorf("rsa without swarm ID: %+v %v", p, err)
	}
	if n := SignatureSize(SigRSASHA1, append([]byte{SigRSASHA1, 0, 0, 1, 3}, make([]byte, 128)...)); n != 128 {
		t.Errorf("RSA with 16-bit exponent length: %d", n)
	}

	bad := []func(*Options){
		func(o *Options) { o.SetChunkAddr(5) },
		func(o *Options) { o.SetHashFunc(5) },
		func(o *Options) { o.SetLiveSigAlg(99) },
		func(o *Options) { o.SetChunkSize(0) },
		func(o *Options) { o.SetChunkAddr(ByteRange64); o.SetChunkSize(VariableChunkSize) },
	}
	for i, f := range bad {
		var o Options
		f(&o)
		if p, err := o.Params(DefaultParams); !errors.Is(err, ErrBadOption) || p != DefaultParams {
			t.Errorf("bad %d: %+v %v, want ErrBadOption and base params", i, p, err)
		}
	}
	var v Options
	v.SetChunkSize(VariableChunkSize)
	if p, err := v.Params(DefaultParams); err != nil || p != DefaultParams {
		t.Errorf("variable chunk size with chunk ranges: %+v %v", p, err)
	}
}
