package main

import (
	"context"
	"io"
)

// runGet prints one instance, lazy properties filled, as JSON (default) or
// as Name/value lines.
func runGet(args []string, stdout io.Writer) error {
	fs, cf := classFlags("get")
	output := fs.String("output", "json", "json or table")
	rest, err := parseArgs(fs, args, 1, "get takes one key, e.g. tsprov get PS100001")
	if err != nil {
		return err
	}
	e, err := cf.client().Get(context.Background(), cf.class, rest[0])
	if err != nil {
		return err
	}
	switch *output {
	case "json":
		return writeJSON(stdout, e)
	case "table":
		return writeProperties(stdout, e)
	}
	return usageError{"--output must be json or table"}
}
