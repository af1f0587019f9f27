package main

import (
	"context"
	"fmt"
	"io"
)

// runDelete deletes instances by key, stopping at the first failure.
func runDelete(args []string, stdout io.Writer) error {
	fs, cf := classFlags("delete")
	keys, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return usageError{"delete takes one or more keys"}
	}
	c := cf.client()
	for _, k := range keys {
		if err := c.Delete(context.Background(), cf.class, k); err != nil {
			return fmt.Errorf("delete %s: %w", k, err)
		}
		fmt.Fprintf(stdout, "deleted %s\n", k)
	}
	return nil
}
