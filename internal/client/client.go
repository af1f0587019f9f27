// Package client talks to a tsprov server (or any AdminService) over HTTP
// for the command line.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client calls the AdminService WMI route of one server.
type Client struct {
	Base string // e.g. http://127.0.0.1:8080
	HTTP *http.Client
}

// New returns a client for the server at base.
func New(base string) *Client {
	return &Client{Base: strings.TrimRight(base, "/"), HTTP: &http.Client{Timeout: 5 * time.Minute}}
}

// Error is a failed request: the HTTP status and the server's message.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("server answered %d: %s", e.Status, e.Message) }

// Entity is one JSON object as the server sent it.
type Entity = map[string]any

func (c *Client) wmiURL(path string) string { return c.Base + "/AdminService/wmi/" + path }

// KeyPath addresses an instance: Class('KEY').
func KeyPath(class, key string) string {
	return url.PathEscape(class) + "('" + url.PathEscape(strings.ReplaceAll(key, "'", "''")) + "')"
}

// do sends a request and decodes a JSON answer into out (when not nil).
func (c *Client) do(ctx context.Context, method, u string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		return &Error{Status: resp.StatusCode, Message: errorMessage(data)}
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}

// errorMessage pulls the message out of an OData error envelope.
func errorMessage(data []byte) string {
	var env struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(data, &env) == nil && env.Error.Message != "" {
		return env.Error.Message
	}
	s := strings.TrimSpace(string(data))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// Get reads one instance by key, lazy properties filled.
func (c *Client) Get(ctx context.Context, class, key string) (Entity, error) {
	var page struct {
		Value []Entity `json:"value"`
	}
	if err := c.do(ctx, http.MethodGet, c.wmiURL(KeyPath(class, key)), nil, &page); err != nil {
		return nil, err
	}
	if len(page.Value) != 1 {
		return nil, fmt.Errorf("expected one instance, got %d", len(page.Value))
	}
	return page.Value[0], nil
}

// ListOptions are OData query options for List.
type ListOptions struct {
	Select  string
	OrderBy string
	Top     int // 0: all
}

// List reads a collection, following @odata.nextLink until done (or until
// Top instances have come).
func (c *Client) List(ctx context.Context, class string, o ListOptions) ([]Entity, error) {
	q := url.Values{}
	if o.Select != "" {
		q.Set("$select", o.Select)
	}
	if o.OrderBy != "" {
		q.Set("$orderby", o.OrderBy)
	}
	if o.Top > 0 {
		q.Set("$top", fmt.Sprint(o.Top))
	}
	first := c.wmiURL(url.PathEscape(class))
	if len(q) > 0 {
		first += "?" + q.Encode()
	}
	return c.pages(ctx, first)
}

// pages reads a collection from its first URL, following @odata.nextLink
// until done.
func (c *Client) pages(ctx context.Context, next string) ([]Entity, error) {
	var all []Entity
	for next != "" {
		var page struct {
			Value    []Entity `json:"value"`
			NextLink string   `json:"@odata.nextLink"`
		}
		if err := c.do(ctx, http.MethodGet, next, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Value...)
		next = page.NextLink
	}
	return all, nil
}

// Create posts a new instance and returns it as stored.
func (c *Client) Create(ctx context.Context, class string, props Entity) (Entity, error) {
	var out Entity
	err := c.do(ctx, http.MethodPost, c.wmiURL(url.PathEscape(class)), props, &out)
	return out, err
}

// Patch merges props into an instance and returns it as stored.
func (c *Client) Patch(ctx context.Context, class, key string, props Entity) (Entity, error) {
	var out Entity
	err := c.do(ctx, http.MethodPatch, c.wmiURL(KeyPath(class, key)), props, &out)
	return out, err
}

// Delete removes an instance.
func (c *Client) Delete(ctx context.Context, class, key string) error {
	return c.do(ctx, http.MethodDelete, c.wmiURL(KeyPath(class, key)), nil, nil)
}

// Query runs a WQL query, following @odata.nextLink until done.
func (c *Client) Query(ctx context.Context, wql string) ([]Entity, error) {
	return c.pages(ctx, c.Base+"/tsprov/v1/wql?"+url.Values{"q": {wql}}.Encode())
}
