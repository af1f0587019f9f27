package query

import (
	"strings"
	"testing"
)

// TestParseFilterInt64Literal: 10L, the Int64 literal that OData clients
// write, is the integer 10; a suffix that is not one is refused.
func TestParseFilterInt64Literal(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want any
	}{
		{"Duration gt 10L", int64(10)},
		{"Duration gt 10l", int64(10)},
		{"Duration gt -9223372036854775808L", int64(-9223372036854775808)},
		{"Duration gt 10", int64(10)},
	} {
		e, err := ParseFilter(tc.src)
		if err != nil {
			t.Errorf("%s: %v", tc.src, err)
			continue
		}
		c, ok := e.(*Compare)
		if !ok {
			t.Errorf("%s: %T", tc.src, e)
			continue
		}
		if lit, ok := c.Right.(*Literal); !ok || lit.Value != tc.want {
			t.Errorf("%s: right side %#v, want %v", tc.src, c.Right, tc.want)
		}
	}
	for src, want := range map[string]string{
		"Duration gt 1.5L":                  "not an Int64",
		"Duration gt 99999999999999999999L": "not an Int64",
		"Duration gt 10Lx":                  "",
	} {
		if _, err := ParseFilter(src); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", src, err, want)
		}
	}
}
