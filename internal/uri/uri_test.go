package uri

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"

	"github.com/nextshare/nextshare/internal/merkle"
)

func TestParse(t *testing.T) {
	u, err := Parse("ppsp://7b72db4d084873f536c5972c0276f45fae2dd3fc?size=4097&peer=127.0.0.1:7574&peer=[::1]:9&type=video/mp4")
	if err != nil {
		t.Fatal(err)
	}
	if u.Func != merkle.SHA1 || u.Size != 4097 || u.ContentType != "video/mp4" || len(u.Peers) != 2 ||
		u.Peers[0] != netip.MustParseAddrPort("127.0.0.1:7574") {
		t.Fatalf("%+v", u)
	}
	v, err := Parse(u.String())
	if err != nil || !bytes.Equal(v.Root, u.Root) || v.Size != u.Size || len(v.Peers) != 2 {
		t.Fatalf("round trip %q: %+v %v", u.String(), v, err)
	}
	if u, err := Parse("7b72db4d084873f536c5972c0276f45fae2dd3fc"); err != nil || len(u.Root) != 20 {
		t.Errorf("bare hash: %v", err)
	}
	if u, err := Parse("ppsp://" + string(bytes.Repeat([]byte("ab"), 32))); err != nil || u.Func != merkle.SHA256 {
		t.Errorf("sha256: %v", err)
	}
	for _, bad := range []string{
		"", "http://7b72db4d084873f536c5972c0276f45fae2dd3fc", "ppsp://7b72", "ppsp://zz72db4d084873f536c5972c0276f45fae2dd3fc",
		"ppsp://7b72db4d084873f536c5972c0276f45fae2dd3fc?size=-1", "ppsp://7b72db4d084873f536c5972c0276f45fae2dd3fc?peer=nope",
		"ppsp://7b72db4d084873f536c5972c0276f45fae2dd3fc?%zz",
	} {
		if _, err := Parse(bad); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) = %v, want ErrSyntax", bad, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("ppsp://7b72db4d084873f536c5972c0276f45fae2dd3fc?size=4097&peer=127.0.0.1:7574&type=video/mp4")
	f.Add("7b72db4d084873f536c5972c0276f45fae2dd3fc")
	f.Add("ppsp://abab?peer=[::1]:1")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := Parse(s)
		if err != nil {
			return
		}
		v, err := Parse(u.String())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", u.String(), err)
		}
		if !bytes.Equal(u.Root, v.Root) || u.Size != v.Size || u.ContentType != v.ContentType || len(u.Peers) != len(v.Peers) {
			t.Fatalf("round trip differs: %+v vs %+v", u, v)
		}
	})
}
