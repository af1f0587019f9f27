package main

import (
	"context"
	"io"
)

// runSet changes properties of one instance (PATCH: what is not given is
// kept) and prints the instance as stored.
func runSet(args []string, stdout io.Writer) error {
	fs, cf := classFlags("set")
	file := fs.String("file", "", "JSON object with the properties to change (- for standard input)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) < 1 {
		return usageError{"set takes a key and Prop=Value pairs, e.g. tsprov set PS100001 Name=Win11"}
	}
	props, err := bodyFrom(*file, cf.class, rest[1:])
	if err != nil {
		return err
	}
	e, err := cf.client().Patch(context.Background(), cf.class, rest[0], props)
	if err != nil {
		return err
	}
	return writeJSON(stdout, e)
}
