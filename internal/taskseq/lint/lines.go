package lint

import "bytes"

// stepLines returns the 1-based line of each <step>, <group> and
// <subtasksequence> start tag of src, in document order: the order in
// which the object model lists steps depth first. Escaped XML (a Set
// Dynamic Variables value, an entity-escaped file) holds no literal tags
// and adds none. The caller uses the lines only when there are as many as
// steps.
func stepLines(src []byte) []int {
	if len(src) == 0 {
		return nil
	}
	var lines []int
	line := 1
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case '\n':
			line++
		case '<':
			rest := src[i+1:]
			for _, name := range [][]byte{[]byte("step"), []byte("group"), []byte("subtasksequence")} {
				if bytes.HasPrefix(rest, name) && len(rest) > len(name) && isTagEnd(rest[len(name)]) {
					lines = append(lines, line)
					break
				}
			}
		}
	}
	return lines
}

func isTagEnd(c byte) bool {
	return c == ' ' || c == '>' || c == '/' || c == '\t' || c == '\r' || c == '\n'
}
