package policy

import (
	"fmt"
	"unicode/utf8"
)

// MaxPolicyBytes is the largest task sequence policy a client processes:
// 32 MB counted in UTF-16 (reduce-task-sequence-policy-size.md; each child
// task sequence has its own budget).
const MaxPolicyBytes = 32 << 20

// UTF16Bytes is the size of s in UTF-16, as the client counts a policy.
func UTF16Bytes(s string) int64 {
	var n int64
	for _, r := range s {
		if r >= 0x10000 {
			n += 4
		} else {
			n += 2
		}
	}
	return n
}

// utf16Units counts the UTF-16 code units of b (UTF-8).
func utf16Units(b []byte) int64 {
	var n int64
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func mb(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}
