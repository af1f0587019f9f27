package main

import (
	"context"
	"io"
	"strings"
)

// runList prints the instances of a class as a table (default) or JSON.
func runList(args []string, stdout io.Writer) error {
	fs, cf := classFlags("list")
	output := fs.String("output", "table", "table or json")
	columns := fs.String("columns", "PackageID,Name,Version,SourceVersion,TsEnabled", "table columns (also sent as $select)")
	orderBy := fs.String("orderby", "", "OData $orderby, e.g. \"Name desc\"")
	top := fs.Int("top", 0, "at most this many instances (0: all)")
	if err := parseNoArgs(fs, args, "list takes no arguments"); err != nil {
		return err
	}
	sel := ""
	if *output == "table" {
		sel = *columns
	}
	rows, err := cf.client().List(context.Background(), cf.class, clientListOptions(sel, *orderBy, *top))
	if err != nil {
		return err
	}
	return writeRows(stdout, *output, rows, strings.Split(*columns, ","))
}
