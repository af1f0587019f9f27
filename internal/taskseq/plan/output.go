package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/tsprov/tsprov/internal/errs"
)

// WriteTree writes the plan as an indented tree: each step with its
// outcome, why, and the variables it sets; then a summary line.
func WriteTree(w io.Writer, p *Plan) error {
	var b strings.Builder
	var walk func(list []*Step, depth int)
	walk = func(list []*Step, depth int) {
		for _, st := range list {
			indent := strings.Repeat("  ", depth)
			marker := "-"
			if len(st.Steps) > 0 || st.Type == "Group" {
				marker = "+"
			}
			fmt.Fprintf(&b, "%s%s %s  <%s>  %s", indent, marker, st.Name, st.Type, strings.ToUpper(string(st.Outcome)))
			if st.Outcome != NotReached && st.Outcome != Disabled {
				fmt.Fprintf(&b, " in %s", st.Environment)
			}
			if st.Child != "" {
				fmt.Fprintf(&b, " (runs %s)", st.Child)
			}
			b.WriteByte('\n')
			if st.Reason != "" && !(st.Outcome == NotReached && st.Reason == "") && !strings.HasPrefix(st.Reason, "its group is") {
				fmt.Fprintf(&b, "%s    why: %s\n", indent, st.Reason)
			}
			if len(st.Sets) > 0 {
				parts := make([]string, 0, len(st.Sets))
				for _, a := range st.Sets {
					if a.Unknown {
						parts = append(parts, a.Name+"=(at run time)")
					} else {
						parts = append(parts, fmt.Sprintf("%s=%q", a.Name, a.Value))
					}
				}
				fmt.Fprintf(&b, "%s    sets: %s\n", indent, strings.Join(parts, ", "))
			}
			walk(st.Steps, depth+1)
		}
	}
	walk(p.Steps, 0)
	end := "completed"
	if !p.Completed {
		end = "stopped at the failure of " + p.FailedAt
	}
	var counts []string
	for _, o := range []Outcome{Run, Skipped, Unknown, Failed, Disabled, NotReached} {
		if n := p.Counts[o]; n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", n, o))
		}
	}
	fmt.Fprintf(&b, "%s, ending in %s: %s\n", end, p.Environment, strings.Join(counts, ", "))
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the plan as JSON (Plan's fields, variables sorted).
func WriteJSON(w io.Writer, p *Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(p)
}

// ParseVariables reads a variables file: a JSON object of names to
// values (strings, numbers or booleans, taken as their text).
func ParseVariables(data []byte) (map[string]string, error) {
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "variables: a JSON object of names and values")
	}
	out := make(map[string]string, len(raw))
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch v := raw[k].(type) {
		case string:
			out[k] = v
		case bool, float64:
			out[k] = fmt.Sprint(v)
		case nil:
		default:
			return nil, errs.E(errs.Invalid, "variables: %s: a value is a string, a number or a boolean", k)
		}
	}
	return out, nil
}
