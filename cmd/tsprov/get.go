package main

import (
	"context"
	"flag"
	"io"
)

// runGet prints one instance, lazy properties filled, as JSON (default) or
// as Name/value lines.
func runGet(args []string, stdout io.Writer) error {
	var cf clientFlags
	fs := flag.NewFlagSet("get", flag.ContinueOnError)
	cf.register(fs)
	output := fs.String("output", "json", "json or table")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError{"get takes one key, e.g. tsprov get PS100001"}
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
