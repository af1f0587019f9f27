package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/tsprov/tsprov/internal/client"
)

// runQuery runs a WQL query on the server and prints the instances as a
// table (default), JSON or CSV.
func runQuery(args []string, stdout io.Writer) error {
	fs, cf := classFlags("query")
	output := fs.String("output", "table", "table, json or csv")
	rest, err := parseArgs(fs, args, 1, `query takes one WQL statement, e.g. tsprov query "SELECT PackageID, Name FROM SMS_TaskSequencePackage WHERE Name LIKE 'Win%'"`)
	if err != nil {
		return err
	}
	rows, err := cf.client().Query(context.Background(), rest[0])
	if err != nil {
		return err
	}
	switch *output {
	case "json":
		return writeJSON(stdout, rows)
	case "table":
		return writeTable(stdout, rows, queryColumns(rest[0], rows))
	case "csv":
		return writeCSV(stdout, rows, queryColumns(rest[0], rows))
	}
	return usageError{"--output must be table, json or csv"}
}

var selectList = regexp.MustCompile(`(?is)^\s*select\s+(.+?)\s+from\s`)

// queryColumns are the SELECT list's properties, or for SELECT * every
// property the answer holds (system properties and annotations left out).
func queryColumns(wql string, rows []client.Entity) []string {
	if m := selectList.FindStringSubmatch(wql); m != nil && strings.TrimSpace(m[1]) != "*" {
		var cols []string
		for _, c := range strings.Split(m[1], ",") {
			cols = append(cols, strings.TrimSpace(c))
		}
		return cols
	}
	if len(rows) == 0 {
		return []string{"__RELPATH"}
	}
	var cols []string
	for k := range rows[0] {
		if !strings.HasPrefix(k, "__") && !strings.HasPrefix(k, "@") {
			cols = append(cols, k)
		}
	}
	sort.Strings(cols)
	return cols
}

// writeCSV prints rows as CSV with a header line.
func writeCSV(w io.Writer, rows []client.Entity, cols []string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(cols); err != nil {
		return err
	}
	for _, r := range rows {
		rec := make([]string, len(cols))
		for i, c := range cols {
			if v := r[c]; v != nil {
				rec[i] = fmt.Sprint(v)
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
