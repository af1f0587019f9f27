package query

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Case folding: the one rule by which tsprov compares strings without
// regard to case, in every store and in memory. Two strings are equal
// without regard to case exactly when strings.EqualFold says so (Unicode
// simple case folding: é and É are one letter, and so are k, K and the
// Kelvin sign K); Fold maps each letter to one chosen form of its case
// orbit, so that comparing folded strings byte by byte orders them
// without regard to case too.

// Fold returns s with every letter replaced by its folded form.
func Fold(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return strings.Map(FoldRune, s)
		}
		if 'A' <= c && c <= 'Z' {
			return strings.Map(FoldRune, s)
		}
	}
	return s
}

// FoldRune is the folded form of r: the lower-case form of the smallest
// member of r's case orbit when that is in the orbit (as it is for every
// cased letter), otherwise the smallest member.
func FoldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	lo := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < lo {
			lo = f
		}
	}
	if l := unicode.ToLower(lo); l != lo && inOrbit(lo, l) {
		return l
	}
	return lo
}

// inOrbit reports whether b is a case form of a.
func inOrbit(a, b rune) bool {
	for f := unicode.SimpleFold(a); f != a; f = unicode.SimpleFold(f) {
		if f == b {
			return true
		}
	}
	return false
}

// CompareFold orders a and b without regard to case: as Fold(a) and
// Fold(b) compare byte by byte, without building them for ASCII text.
func CompareFold(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		x, y := a[i], b[i]
		if x >= utf8.RuneSelf || y >= utf8.RuneSelf {
			return strings.Compare(Fold(a[i:]), Fold(b[i:]))
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

// hasFoldable reports whether s holds a character that folds other than
// as an ASCII letter does: a LIKE on such a pattern is compiled on folded
// text (see like), because SQL LIKE folds ASCII letters only. That is
// every non-ASCII character, and the ASCII letters that share their case
// orbit with a non-ASCII one (k and the Kelvin sign, s and the long s),
// which SQL LIKE would not match against that other form.
func hasFoldable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf || asciiFoldsWide[s[i]] {
			return true
		}
	}
	return false
}

// asciiFoldsWide marks the ASCII letters whose case orbit holds a
// non-ASCII character.
var asciiFoldsWide = func() (m [utf8.RuneSelf]bool) {
	for c := rune(0); c < utf8.RuneSelf; c++ {
		for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
			if f >= utf8.RuneSelf {
				m[c] = true
			}
		}
	}
	return m
}()
