package main

import (
	"context"
	"io"
	"net/url"
	"strconv"
)

// runAudit prints the audit trail of a server, oldest first.
func runAudit(args []string, stdout io.Writer) error {
	fs, cf := connectionFlags("audit")
	filter := fs.String("filter", "", "OData $filter, e.g. \"Action eq 'Delete' and User eq 'alice'\"")
	top := fs.Int("top", 0, "at most this many records (0: all)")
	output := fs.String("output", "table", "table or json")
	if err := parseNoArgs(fs, args, "audit takes no arguments"); err != nil {
		return err
	}
	q := url.Values{}
	if *filter != "" {
		q.Set("$filter", *filter)
	}
	if *top > 0 {
		q.Set("$top", strconv.Itoa(*top))
	}
	path := "/tsprov/v1/audit"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	rows, err := cf.client().Collection(context.Background(), path)
	if err != nil {
		return err
	}
	return writeRows(stdout, *output, rows, []string{"AuditID", "Time", "User", "Address", "SignIn", "Action", "ClassName", "ObjectKey", "Method", "Properties", "Detail"})
}
