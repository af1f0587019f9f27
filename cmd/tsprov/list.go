package main

import (
	"context"
	"io"
	"strings"

	"github.com/tsprov/tsprov/schema"
)

// runList prints the instances of a class as a table (default) or JSON.
func runList(args []string, stdout io.Writer) error {
	fs, cf := classFlags("list")
	output := fs.String("output", "table", "table or json")
	columns := fs.String("columns", "", "table columns (also sent as $select); default: "+strings.Join(packageColumns, ",")+" for task sequence packages, the key properties for other classes")
	orderBy := fs.String("orderby", "", "OData $orderby, e.g. \"Name desc\"")
	top := fs.Int("top", 0, "at most this many instances (0: all)")
	if err := parseNoArgs(fs, args, "list takes no arguments"); err != nil {
		return err
	}
	if *columns == "" {
		*columns = strings.Join(defaultColumns(cf.class), ",")
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

// packageColumns are the table columns of task sequence packages: ones
// every package has a value for.
var packageColumns = []string{"PackageID", "Name", "SourceVersion", "SourceDate", "ReferencesCount", "TsEnabled"}

// defaultColumns are the table columns of a class when --columns is not
// given: packageColumns for task sequence packages, else the class's key
// properties.
func defaultColumns(className string) []string {
	if strings.EqualFold(className, defaultClass) {
		return packageColumns
	}
	reg, err := schema.Registry()
	if err != nil {
		return []string{"__RELPATH"}
	}
	c, ok := reg.Class(className)
	if !ok {
		return []string{"__RELPATH"}
	}
	var keys []string
	for _, p := range c.Properties {
		if p.IsKey() {
			keys = append(keys, p.Name)
		}
	}
	if len(keys) == 0 {
		return []string{"__RELPATH"}
	}
	return keys
}
