package server

import (
	"runtime/debug"
	"testing"
)

func TestParseByteSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"512MiB", 512 << 20, true},
		{"1GiB", 1 << 30, true},
		{"1g", 1 << 30, true},
		{"64M", 64 << 20, true},
		{"300 KiB", 300 << 10, true},
		{"1048576", 1 << 20, true},
		{"2048B", 2048, true},
		{"off", -1, true},
		{"-1", -1, true},
		{"", 0, false},
		{"lots", 0, false},
		{"-5MiB", 0, false},
		{"1.5GiB", 0, false},
		{"99999999999TiB", 0, false},
	} {
		got, err := ParseByteSize(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d (ok %v)", c.in, got, err, c.want, c.ok)
		}
	}
}

// A started server has the Go runtime's soft memory limit it was
// configured with, the default one when none was given.
func TestServerSetsItsMemoryLimit(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	was := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(was) })

	startSecureServer(t, func(c *Config) { c.MemoryLimit = 300 << 20 })
	if got := debug.SetMemoryLimit(-1); got != 300<<20 {
		t.Errorf("memory limit %d after a start with 300 MiB", got)
	}
	startSecureServer(t, nil)
	if got := debug.SetMemoryLimit(-1); got != DefaultMemoryLimit {
		t.Errorf("memory limit %d after a start with none given, want the default %d", got, DefaultMemoryLimit)
	}
}
