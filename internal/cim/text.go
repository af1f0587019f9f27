package cim

import (
	"strings"
	"unicode/utf8"

	"github.com/tsprov/tsprov/internal/errs"
)

// CheckText checks that s is text every store keeps alike, as a value or
// as a constant a query compares with: valid UTF-8 without a NUL
// character. SQLite would keep either; PostgreSQL refuses both, so a store
// that took them could not be copied into the other, and a query could
// answer on one what it refuses on the other. Outcomes: nil; an error of
// kind errs.Invalid saying what s holds and at which byte.
func CheckText(s string) error {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return errs.E(errs.Invalid, "a string may not hold a NUL character (U+0000); this one does at byte %d", i)
	}
	if !utf8.ValidString(s) {
		return errs.E(errs.Invalid, "a string must be valid UTF-8; this one is not at byte %d", invalidAt(s))
	}
	return nil
}

// invalidAt returns the offset of the first byte of s that does not start
// a valid UTF-8 sequence.
func invalidAt(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return i
			}
		}
	}
	return len(s)
}
