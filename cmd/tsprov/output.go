package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/tsprov/tsprov/internal/client"
)

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeTable prints entities as a table of the given columns.
func writeTable(w io.Writer, rows []client.Entity, columns []string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(columns, "\t"))
	for _, r := range rows {
		cells := make([]string, len(columns))
		for i, c := range columns {
			cells[i] = cell(r[c])
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// writeRows prints entities as output says: "table" (of the given
// columns) or "json".
func writeRows(w io.Writer, output string, rows []client.Entity, columns []string) error {
	switch output {
	case "json":
		return writeJSON(w, rows)
	case "table":
		return writeTable(w, rows, columns)
	}
	return usageError{"--output must be table or json"}
}

// writeProperties prints one entity as Name: value lines, system properties
// and annotations left out.
func writeProperties(w io.Writer, e client.Entity) error {
	names := make([]string, 0, len(e))
	for k := range e {
		if !strings.HasPrefix(k, "__") && !strings.HasPrefix(k, "@") {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, n := range names {
		fmt.Fprintf(tw, "%s\t%s\n", n, cell(e[n]))
	}
	return tw.Flush()
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		s := strings.ReplaceAll(x, "\n", " ")
		if len(s) > 60 {
			s = s[:57] + "..."
		}
		return s
	case []any, map[string]any:
		b, _ := json.Marshal(x)
		s := string(b)
		if len(s) > 60 {
			s = s[:57] + "..."
		}
		return s
	}
	return fmt.Sprint(v)
}
