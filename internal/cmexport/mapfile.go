package cmexport

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tsprov/tsprov/internal/errs"
)

// ParseMap reads a map file: which package of the target site each
// package of the source site becomes. Either a JSON object
// {"SRC00001": "DST00042", …}, or lines "SRC00001 DST00042" (a space,
// tab, "=" or "," between the two; blank lines and lines starting with
// # are skipped). A line without two ids, or a source given twice, is
// errs.Invalid naming the line.
func ParseMap(data []byte) (map[string]string, error) {
	data = stripBOM(data)
	out := map[string]string{}
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		var m map[string]string
		if err := json.Unmarshal(t, &m); err != nil {
			return nil, errs.Target(errs.Invalid, "map file", "map file: not a JSON object of package ids: %w", err)
		}
		seen := map[string]string{}
		for k, v := range m {
			if prev, dup := seen[strings.ToUpper(k)]; dup {
				return nil, errs.Target(errs.Invalid, "map file", "map file: %s is mapped twice (%s and %s)", k, prev, v)
			}
			if strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "" {
				return nil, errs.Target(errs.Invalid, "map file", "map file: an empty package id")
			}
			seen[strings.ToUpper(k)] = v
			out[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
		return out, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	seen := map[string]int{}
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' || r == '=' || r == ',' })
		if len(fields) != 2 {
			return nil, errs.Target(errs.Invalid, "map file", "map file line %d: %q is not \"SOURCEID TARGETID\"", n, line)
		}
		k := strings.ToUpper(fields[0])
		if prev, dup := seen[k]; dup {
			return nil, errs.Target(errs.Invalid, "map file", "map file line %d: %s is already mapped on line %d", n, fields[0], prev)
		}
		seen[k] = n
		out[fields[0]] = fields[1]
	}
	if err := sc.Err(); err != nil {
		return nil, errs.Target(errs.Invalid, "map file", "map file: %w", err)
	}
	return out, nil
}

// FormatMap writes m as a map file of lines, sorted.
func FormatMap(m map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, "%s %s\n", k, m[k])
	}
	return b.String()
}
