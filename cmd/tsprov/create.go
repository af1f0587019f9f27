package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/tsprov/tsprov/internal/client"
)

// runCreate creates an instance from a JSON file (--file, "-" for standard
// input) and/or Prop=Value arguments, and prints its key.
func runCreate(args []string, stdout io.Writer) error {
	fs, cf := classFlags("create")
	file := fs.String("file", "", "JSON object with the properties (- for standard input)")
	output := fs.String("output", "key", "key (print the new key) or json (print the instance)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	props, err := bodyFrom(*file, cf.class, rest)
	if err != nil {
		return err
	}
	e, err := cf.client().Create(context.Background(), cf.class, props)
	if err != nil {
		return err
	}
	if *output == "json" {
		return writeJSON(stdout, e)
	}
	_, err = fmt.Fprintln(stdout, keyOf(e))
	return err
}

// bodyFrom merges a JSON file (if any) with Prop=Value pairs (which win).
func bodyFrom(file, class string, pairs []string) (client.Entity, error) {
	body := client.Entity{}
	if file != "" {
		data, err := readInput(file)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(data, &body); err != nil {
			return nil, usageError{fmt.Sprintf("%s is not a JSON object: %v", file, err)}
		}
	}
	vals, err := propertyValues(class, pairs)
	if err != nil {
		return nil, err
	}
	for k, v := range vals {
		body[k] = v
	}
	if len(body) == 0 {
		return nil, usageError{"give properties as Prop=Value or --file"}
	}
	return body, nil
}

// keyOf returns the key part of an entity's __RELPATH, or its PackageID.
func keyOf(e client.Entity) string {
	if id, ok := e["PackageID"].(string); ok {
		return id
	}
	s, _ := e["__RELPATH"].(string)
	return s
}
