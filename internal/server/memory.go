package server

import (
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// DefaultMemoryLimit is the server's memory budget when none is
// configured: the Go runtime's soft limit (as GOMEMLIMIT sets it), under
// which the garbage collector keeps the heap by collecting more often.
const DefaultMemoryLimit = 512 << 20

// applyMemoryLimit sets the Go runtime's soft memory limit: limit bytes
// (0: DefaultMemoryLimit, unless the GOMEMLIMIT environment variable
// already set one; below 0: none). It returns the limit in force, -1 for
// none.
func applyMemoryLimit(limit int64, log *slog.Logger) int64 {
	switch {
	case limit < 0:
		debug.SetMemoryLimit(noMemoryLimit)
		return -1
	case limit == 0 && os.Getenv("GOMEMLIMIT") != "":
		got := debug.SetMemoryLimit(-1) // reads the limit without changing it
		log.Info("memory limit from GOMEMLIMIT", "bytes", got)
		return got
	case limit == 0:
		limit = DefaultMemoryLimit
	}
	debug.SetMemoryLimit(limit)
	return limit
}

// noMemoryLimit is the runtime's value for "no limit" (math.MaxInt64).
const noMemoryLimit = 1<<63 - 1

// ParseByteSize reads a size such as 512MiB, 1GiB, 64M or 1048576 (plain
// bytes). K, M, G and T are binary (KiB, MiB, GiB, TiB), as GOMEMLIMIT
// reads them; "off" and -1 mean no limit (-1).
func ParseByteSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if strings.EqualFold(t, "off") || t == "-1" {
		return -1, nil
	}
	units := []struct {
		suffix string
		shift  uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"T", 40}, {"G", 30}, {"M", 20}, {"K", 10}, {"B", 0}}
	shift := uint(0)
	for _, u := range units {
		if len(t) > len(u.suffix) && strings.EqualFold(t[len(t)-len(u.suffix):], u.suffix) {
			t, shift = strings.TrimSpace(t[:len(t)-len(u.suffix)]), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)>>shift {
		return 0, fmt.Errorf("%q is not a size: write bytes or a number with KiB, MiB or GiB (for example 512MiB), or off", s)
	}
	return n << shift, nil
}
