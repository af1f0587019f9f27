package byterange

import "testing"

func TestSatisfiable(t *testing.T) {
	for _, tt := range []struct {
		header string
		size   int64
		want   bool
	}{
		{"bytes=0-0", 10, true},
		{"bytes=9-", 10, true},
		{"bytes=10-", 10, false}, // starts after the last byte
		{"bytes=5-20", 10, true}, // a last byte past the end is cut to it
		{"bytes=-3", 10, true},   // the last 3
		{"bytes=-0", 10, false},  // no byte
		{"bytes=-3", 0, false},   // an empty file has no last byte
		{"bytes=20-30, 2-4", 10, true},
		{"bytes=20-30, 40-", 10, false},
		{"bytes=4-2", 10, false}, // last before first
		{"items=0-1", 10, false}, // another unit
		{"bytes=a-b", 10, false},
		{"bytes=0", 10, false},
	} {
		if got := Satisfiable(tt.header, tt.size); got != tt.want {
			t.Errorf("Satisfiable(%q, %d) = %v, want %v", tt.header, tt.size, got, tt.want)
		}
	}
}
