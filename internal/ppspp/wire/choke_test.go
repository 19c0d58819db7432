package wire

import "testing"

func TestChoke(t *testing.T) {
	var cases []hexCase
	for _, p := range allParams {
		// No body, whatever the addressing method.
		cases = append(cases,
			hexCase{"choke " + p.Addr.String(), p, Choke{}, "0a"},
			hexCase{"unchoke " + p.Addr.String(), p, Unchoke{}, "0b"},
		)
	}
	testHex(t, cases)
}
