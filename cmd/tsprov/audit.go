package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/tsprov/tsprov/internal/client"
)

// runAudit prints the audit trail of a server, oldest first.
func runAudit(args []string, stdout io.Writer) error {
	var cf clientFlags
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	cf.registerConnection(fs)
	filter := fs.String("filter", "", "OData $filter, e.g. \"Action eq 'Delete' and User eq 'alice'\"")
	top := fs.Int("top", 0, "at most this many records (0: all)")
	output := fs.String("output", "table", "table or json")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError{"audit takes no arguments"}
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
	var rows []client.Entity
	c := cf.client()
	for path != "" {
		var page struct {
			Value    []client.Entity `json:"value"`
			NextLink string          `json:"@odata.nextLink"`
		}
		if err := c.Call(context.Background(), http.MethodGet, path, nil, &page); err != nil {
			return err
		}
		rows = append(rows, page.Value...)
		path = ""
		if page.NextLink != "" {
			u, err := url.Parse(page.NextLink)
			if err != nil {
				return fmt.Errorf("the server sent a bad next link: %w", err)
			}
			path = u.RequestURI()
		}
	}
	switch *output {
	case "json":
		return writeJSON(stdout, rows)
	case "table":
		return writeTable(stdout, rows, []string{"AuditID", "Time", "User", "Address", "Action", "ClassName", "ObjectKey", "Method", "Properties", "Detail"})
	}
	return usageError{"--output must be table or json"}
}
