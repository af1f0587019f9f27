// Package byterange reads the HTTP Range header (RFC 9110 §14.2) of the
// routes that serve files: the site's content library and the DP agents'
// content URLs, which answer a range outside the file with 416 and the
// OData error envelope before net/http's ServeContent sees it.
package byterange

import (
	"strconv"
	"strings"
)

// Satisfiable reports whether a Range header (bytes=a-b, a-, -n, several
// separated by commas) asks for at least one byte of a file of size
// bytes; a header that does not parse asks for none.
func Satisfiable(header string, size int64) bool {
	spec, ok := strings.CutPrefix(header, "bytes=")
	if !ok {
		return false
	}
	for _, part := range strings.Split(spec, ",") {
		first, last, ok := strings.Cut(strings.TrimSpace(part), "-")
		if !ok {
			return false
		}
		if first == "" {
			n, err := strconv.ParseInt(last, 10, 64)
			if err != nil || n < 0 {
				return false
			}
			if n > 0 && size > 0 {
				return true
			}
			continue
		}
		a, err := strconv.ParseInt(first, 10, 64)
		if err != nil || a < 0 {
			return false
		}
		if last != "" {
			if b, err := strconv.ParseInt(last, 10, 64); err != nil || b < a {
				return false
			}
		}
		if a < size {
			return true
		}
	}
	return false
}
