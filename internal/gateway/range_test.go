package gateway

import "testing"

func TestLastByte(t *testing.T) {
	const size = 1000
	for _, tc := range []struct {
		h    string
		want int64
	}{
		{"", 999},
		{"bytes=0-", 999},
		{"bytes=0-99", 99},
		{"bytes=900-999", 999},
		{"bytes=900-5000", 999},
		{"bytes=-100", 999}, // the last 100 bytes
		{"bytes=0-9,20-29", 999},
		{"bytes=5-x", 999},
		{"items=0-9", 999},
	} {
		if got := lastByte(tc.h, size); got != tc.want {
			t.Errorf("lastByte(%q) = %d, want %d", tc.h, got, tc.want)
		}
	}
}
