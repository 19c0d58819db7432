package wire

import (
	"net/netip"
	"testing"
)

func TestPex(t *testing.T) {
	testHex(t, []hexCase{
		// vod-4097 frame 3 and live frame 3: PEX_REQ has no body.
		{"pex_req", pCR32, PexReq{}, "06"},
		{"pex_resv4", pCR32, PexResV4{netip.MustParseAddrPort("127.0.0.1:20000")}, "05 7f000001 4e20"},
		{"pex_resv4 bin32", pBin32, PexResV4{netip.MustParseAddrPort("10.1.2.3:65535")}, "05 0a010203 ffff"},
		{"pex_resv6", pCR32, PexResV6{netip.MustParseAddrPort("[2001:db8::1]:7758")},
			"0c 20010db8000000000000000000000001 1e4e"},
		{"pex_resv6 loopback", pCR64, PexResV6{netip.MustParseAddrPort("[::1]:1")},
			"0c 00000000000000000000000000000001 0001"},
		{"pex_rescert", pCR32, PexResCert{[]byte("cert")}, "0d 0004 63657274"},
		{"pex_rescert empty", pCR32, PexResCert{}, "0d 0000"},
	})
}

func TestPexAddressForms(t *testing.T) {
	// An IPv4-mapped address goes out as IPv4 in PEX_RESv4.
	v4 := PexResV4{netip.MustParseAddrPort("[::ffff:192.0.2.7]:80")}.Append(nil, pCR32)
	if want := unhex(t, "05 c0000207 0050"); string(v4) != string(want) {
		t.Errorf("mapped v4 = %x, want %x", v4, want)
	}
	// An IPv6 address cannot: it is sent as 0.0.0.0 rather than misread.
	v6in4 := PexResV4{netip.MustParseAddrPort("[2001:db8::1]:80")}.Append(nil, pCR32)
	if want := unhex(t, "05 00000000 0050"); string(v6in4) != string(want) {
		t.Errorf("v6 in PEX_RESv4 = %x, want %x", v6in4, want)
	}
	// An IPv4 address in PEX_RESv6 is sent IPv4-mapped.
	v4in6 := PexResV6{netip.MustParseAddrPort("192.0.2.7:80")}.Append(nil, pCR32)
	if want := unhex(t, "0c 00000000000000000000ffffc0000207 0050"); string(v4in6) != string(want) {
		t.Errorf("v4 in PEX_RESv6 = %x, want %x", v4in6, want)
	}
}
