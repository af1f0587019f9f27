package main

import (
	"context"
	"flag"
	"io"
	"strings"
)

// runList prints the instances of a class as a table (default) or JSON.
func runList(args []string, stdout io.Writer) error {
	var cf clientFlags
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	cf.register(fs)
	output := fs.String("output", "table", "table or json")
	columns := fs.String("columns", "PackageID,Name,Version,SourceVersion,TsEnabled", "table columns (also sent as $select)")
	orderBy := fs.String("orderby", "", "OData $orderby, e.g. \"Name desc\"")
	top := fs.Int("top", 0, "at most this many instances (0: all)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError{"list takes no arguments"}
	}
	sel := ""
	if *output == "table" {
		sel = *columns
	}
	rows, err := cf.client().List(context.Background(), cf.class, clientListOptions(sel, *orderBy, *top))
	if err != nil {
		return err
	}
	switch *output {
	case "json":
		return writeJSON(stdout, rows)
	case "table":
		return writeTable(stdout, rows, strings.Split(*columns, ","))
	}
	return usageError{"--output must be table or json"}
}
