package cim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DateTimeValue is a CIM DateTime: a point in time, written in DMTF form
// yyyymmddHHMMSS.mmmmmm+UUU (UUU = minutes east of UTC). DMTF allows the
// offset "***" (local time of an unknown zone); such values keep that mark
// and are treated as UTC when a zone is needed.
type DateTimeValue struct {
	Time          time.Time
	UnknownOffset bool
}

// ParseDMTF reads a DMTF DateTime.
func ParseDMTF(s string) (DateTimeValue, error) {
	if len(s) != 25 || s[14] != '.' || (s[21] != '+' && s[21] != '-') {
		return DateTimeValue{}, fmt.Errorf("%q is not a DMTF DateTime (yyyymmddHHMMSS.mmmmmm+UUU)", s)
	}
	var parts [7]int
	spans := [][2]int{{0, 4}, {4, 6}, {6, 8}, {8, 10}, {10, 12}, {12, 14}, {15, 21}}
	for i, sp := range spans {
		n, err := strconv.Atoi(s[sp[0]:sp[1]])
		if err != nil {
			return DateTimeValue{}, fmt.Errorf("%q is not a DMTF DateTime: %w", s, err)
		}
		parts[i] = n
	}
	loc := time.UTC
	unknown := false
	if s[22:] == "***" {
		unknown = true
	} else {
		off, err := strconv.Atoi(s[22:])
		if err != nil {
			return DateTimeValue{}, fmt.Errorf("%q is not a DMTF DateTime: bad offset", s)
		}
		if s[21] == '-' {
			off = -off
		}
		if off != 0 {
			loc = time.FixedZone("", off*60)
		}
	}
	t := time.Date(parts[0], time.Month(parts[1]), parts[2], parts[3], parts[4], parts[5], parts[6]*1000, loc)
	if t.Month() != time.Month(parts[1]) || t.Day() != parts[2] || parts[3] > 23 || parts[4] > 59 || parts[5] > 59 {
		return DateTimeValue{}, fmt.Errorf("%q is not a valid date and time", s)
	}
	return DateTimeValue{Time: t, UnknownOffset: unknown}, nil
}

// DMTF formats d in DMTF form.
func (d DateTimeValue) DMTF() string {
	t := d.Time
	prefix := fmt.Sprintf("%04d%02d%02d%02d%02d%02d.%06d", t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond()/1000)
	if d.UnknownOffset {
		return prefix + "+***"
	}
	_, off := t.Zone()
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%s%c%03d", prefix, sign, off/60)
}

// isoLayout is the Edm.DateTimeOffset form tsprov writes.
const isoLayout = "2006-01-02T15:04:05.999999Z07:00"

// ISO formats d as ISO 8601 (Edm.DateTimeOffset).
func (d DateTimeValue) ISO() string { return d.Time.Format(isoLayout) }

// ParseDateTime reads either ISO 8601 (RFC 3339) or DMTF form.
func ParseDateTime(s string) (DateTimeValue, error) {
	if len(s) == 25 && s[14] == '.' {
		return ParseDMTF(s)
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		// seconds are optional in ISO 8601 and OData's DateTimeOffset
		t, err = time.Parse("2006-01-02T15:04Z07:00", strings.TrimSpace(s))
	}
	if err != nil {
		return DateTimeValue{}, fmt.Errorf("%q is neither an ISO 8601 date-time with offset nor a DMTF DateTime", s)
	}
	return DateTimeValue{Time: t.Truncate(time.Microsecond)}, nil
}

// Now returns the current time as a DateTime, to the microsecond, in UTC.
func Now() DateTimeValue { return DateTimeValue{Time: time.Now().UTC().Truncate(time.Microsecond)} }

// Equal reports whether two DateTimes denote the same instant and mark.
func (d DateTimeValue) Equal(o DateTimeValue) bool {
	return d.Time.Equal(o.Time) && d.UnknownOffset == o.UnknownOffset
}
