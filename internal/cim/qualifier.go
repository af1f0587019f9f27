package cim

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Qualifier is a MOF qualifier: a name, a value (true when none was
// written; otherwise int64, float64, string, bool or []any) and flavours.
type Qualifier struct {
	Name    string
	Value   any
	Flavors []string
}

// Qualifiers is an ordered qualifier list; lookups ignore case.
type Qualifiers []Qualifier

// Get returns the qualifier named name.
func (qs Qualifiers) Get(name string) (Qualifier, bool) {
	for _, q := range qs {
		if strings.EqualFold(q.Name, name) {
			return q, true
		}
	}
	return Qualifier{}, false
}

// Has reports whether the qualifier is present and not set to false.
func (qs Qualifiers) Has(name string) bool {
	q, ok := qs.Get(name)
	if !ok {
		return false
	}
	if b, isBool := q.Value.(bool); isBool {
		return b
	}
	return true
}

// String returns the qualifier's value as a string ("" when absent).
func (qs Qualifiers) String(name string) string {
	q, ok := qs.Get(name)
	if !ok {
		return ""
	}
	switch v := q.Value.(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return ""
}

// Strings returns an array-valued qualifier as strings; a scalar value is
// returned as a one-element list.
func (qs Qualifiers) Strings(name string) ([]string, bool) {
	q, ok := qs.Get(name)
	if !ok {
		return nil, false
	}
	switch v := q.Value.(type) {
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			out = append(out, fmt.Sprint(e))
		}
		return out, true
	case string:
		return []string{v}, true
	case int64:
		return []string{strconv.FormatInt(v, 10)}, true
	}
	return nil, false
}

// Int returns an integer-valued qualifier such as max(15).
func (qs Qualifiers) Int(name string) (int64, bool) {
	q, ok := qs.Get(name)
	if !ok {
		return 0, false
	}
	switch v := q.Value.(type) {
	case int64:
		return v, true
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// set replaces or appends q.
func (qs Qualifiers) set(q Qualifier) Qualifiers {
	for i := range qs {
		if strings.EqualFold(qs[i].Name, q.Name) {
			qs[i] = q
			return qs
		}
	}
	return append(qs, q)
}

// Bit is one named bit of a bit-field property.
type Bit struct {
	Name string
	Pos  uint
}

var bitPattern = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(\s*(\d+)\s*\)\s*$`)

// parseBits reads a bits qualifier's values ("NAME(n)").
func parseBits(values []string) ([]Bit, error) {
	bits := make([]Bit, 0, len(values))
	for _, v := range values {
		m := bitPattern.FindStringSubmatch(v)
		if m == nil {
			return nil, fmt.Errorf("bits value %q is not NAME(position)", v)
		}
		pos, err := strconv.ParseUint(m[2], 10, 8)
		if err != nil || pos > 63 {
			return nil, fmt.Errorf("bits value %q: position out of range", v)
		}
		bits = append(bits, Bit{Name: m[1], Pos: uint(pos)})
	}
	return bits, nil
}

// parseRange reads "low-high".
func parseRange(s string) (lo, hi int64, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		return n, n, err
	}
	if lo, err = strconv.ParseInt(strings.TrimSpace(a), 10, 64); err != nil {
		return 0, 0, err
	}
	if hi, err = strconv.ParseInt(strings.TrimSpace(b), 10, 64); err != nil {
		return 0, 0, err
	}
	if lo > hi {
		return 0, 0, fmt.Errorf("range %q: low above high", s)
	}
	return lo, hi, nil
}
