package taskseq

import "strings"

// lowerSet is a set of property paths that are the same when
// strings.ToLower makes them the same: the properties a step's variables
// have bound or written. A step has a handful, so they are kept in a list
// and compared without lowering (and allocating) each one; a set grown
// beyond lowerSetList moves to a map of lowered names.
type lowerSet struct {
	list []string
	m    map[string]bool
}

const lowerSetList = 32

func (s *lowerSet) add(name string) {
	if s.m != nil {
		s.m[strings.ToLower(name)] = true
		return
	}
	if s.list == nil {
		s.list = make([]string, 0, 8) // room for most steps' at once
	}
	s.list = append(s.list, name)
	if len(s.list) > lowerSetList {
		s.m = make(map[string]bool, 2*lowerSetList)
		for _, n := range s.list {
			s.m[strings.ToLower(n)] = true
		}
		s.list = nil
	}
}

func (s *lowerSet) has(name string) bool {
	if s.m != nil {
		return s.m[strings.ToLower(name)]
	}
	for _, n := range s.list {
		if sameLowered(n, name) {
			return true
		}
	}
	return false
}

// sameLowered reports strings.ToLower(a) == strings.ToLower(b), without
// lowering when both are ASCII.
func sameLowered(a, b string) bool {
	if len(a) != len(b) {
		if isASCII(a) && isASCII(b) {
			return false
		}
		return strings.ToLower(a) == strings.ToLower(b)
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 0x80 || y >= 0x80 {
			return strings.ToLower(a) == strings.ToLower(b)
		}
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false // the lowered strings differ at this same offset
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
