// Package client talks to a tsprov server (or any AdminService) over HTTP
// for the command line.
package client

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Client calls the AdminService WMI route of one server.
type Client struct {
	Base  string // e.g. http://127.0.0.1:8080
	HTTP  *http.Client
	Token string // API token sent as Authorization: Bearer (none when empty)
	// Retries is how many times a request answered 429 (rate limited) or
	// 503 with Retry-After (server busy) is sent again after that delay.
	Retries int
	// Comment, when not empty, is sent as X-Tsprov-Comment: the changes
	// the requests make record it in the package's history.
	Comment string
}

// New returns a client for the server at base.
func New(base string) *Client {
	return &Client{Base: strings.TrimRight(base, "/"), HTTP: &http.Client{Timeout: 5 * time.Minute}, Retries: 5}
}

// maxRetryWait is the longest Retry-After (seconds) a client waits out.
const maxRetryWait = 5

// TrustCA makes the client trust the PEM certificates in file (a server's
// self-signed certificate) in addition to the system's.
func (c *Client) TrustCA(file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read CA certificate: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(data) {
		return fmt.Errorf("%s holds no PEM certificate", file)
	}
	c.HTTP.Transport = &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	return nil
}

// Call sends a request to a path of the server (such as /tsprov/v1/audit)
// and decodes the JSON answer into out (when not nil).
func (c *Client) Call(ctx context.Context, method, path string, body, out any) error {
	return c.do(ctx, method, c.Base+path, body, out)
}

// Error is a failed request: the HTTP status and the server's message.
type Error struct {
	Status  int
	Message string
	// Details are the messages of the envelope's details, when an answer
	// lists several problems (an import's).
	Details []string
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
	if err := CheckBase(c.Base); err != nil {
		return err
	}
	var payload []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		payload = b
	}
	var resp *http.Response
	var data []byte
	for attempt := 0; ; attempt++ {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(payload)
		}
		req, err := http.NewRequestWithContext(ctx, method, u, rd)
		if err != nil {
			return fmt.Errorf("build request: %w", err)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Accept", "application/json")
		if c.Token != "" {
			req.Header.Set("Authorization", "Bearer "+c.Token)
		}
		if c.Comment != "" {
			req.Header.Set("X-Tsprov-Comment", c.Comment)
		}
		resp, err = c.HTTP.Do(req)
		if err != nil {
			return c.networkError(err)
		}
		data, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("read answer: %w", err)
		}
		if (resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable) || attempt >= c.Retries {
			break
		}
		// wait out a rate limit or a busy server; a long wait (failed
		// sign-ins throttled) or none given is reported instead
		n, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		if err != nil || n < 0 || n > maxRetryWait {
			break
		}
		wait := time.Duration(n) * time.Second
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
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

// Collection reads the collection at path below the server (an extension
// route such as /tsprov/v1/audit, with its query), following
// @odata.nextLink until done.
func (c *Client) Collection(ctx context.Context, path string) ([]Entity, error) {
	return c.pages(ctx, c.Base+path)
}

// Query runs a WQL query, following @odata.nextLink until done.
func (c *Client) Query(ctx context.Context, wql string) ([]Entity, error) {
	return c.pages(ctx, c.Base+"/tsprov/v1/wql?"+url.Values{"q": {wql}}.Encode())
}

// StreamEvent is one event of a subscription: its feed position, WMI
// event class and the event as the server's feed shows it.
type StreamEvent struct {
	ID    int64
	Event string
	Data  json.RawMessage
}

// reconnectWait is how long Watch waits before it reconnects a stream
// that broke.
const reconnectWait = time.Second

// Watch subscribes to the WQL event query (GET /tsprov/v1/subscribe) and
// calls fn with each event, in commit order, from after position after
// (below 0: from now). A stream that breaks is opened again after the
// last event received (Last-Event-ID), so no event is missed or repeated.
// It returns when ctx ends (nil), when fn returns an error (that error,
// or nil for ErrStop), or with the server's refusal (*Error).
func (c *Client) Watch(ctx context.Context, query string, after int64, fn func(StreamEvent) error) error {
	if err := CheckBase(c.Base); err != nil {
		return err
	}
	hc := *c.HTTP
	hc.Timeout = 0 // a stream lasts
	for {
		err := c.watchOnce(ctx, &hc, query, &after, fn)
		var refused *Error
		switch {
		case errors.Is(err, ErrStop):
			return nil
		case ctx.Err() != nil:
			return nil
		case errors.As(err, &refused), err != nil && !isStreamBreak(err):
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(reconnectWait):
		}
	}
}

// ErrStop, returned by a Watch callback, ends the watch without error.
var ErrStop = errors.New("stop watching")

// errStreamBroke marks a stream that ended or broke: Watch reconnects.
var errStreamBroke = errors.New("the event stream broke")

func isStreamBreak(err error) bool {
	var ne *NetworkError
	return errors.Is(err, errStreamBroke) || errors.As(err, &ne)
}

func (c *Client) watchOnce(ctx context.Context, hc *http.Client, query string, after *int64, fn func(StreamEvent) error) error {
	u := c.Base + "/tsprov/v1/subscribe?query=" + url.QueryEscape(query)
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "text/event-stream")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if *after >= 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatInt(*after, 10))
	}
	resp, err := hc.Do(req)
	if err != nil {
		return c.networkError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(resp.Body)
		return &Error{Status: resp.StatusCode, Message: errorMessage(data)}
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var ev StreamEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.Event == "error" {
				return &Error{Status: http.StatusInternalServerError, Message: errorMessage(ev.Data)}
			}
			if ev.Event != "" {
				if err := fn(ev); err != nil {
					return err
				}
				*after = ev.ID
			}
			ev = StreamEvent{}
		case strings.HasPrefix(line, "id: "):
			ev.ID, _ = strconv.ParseInt(line[4:], 10, 64)
		case strings.HasPrefix(line, "event: "):
			ev.Event = line[7:]
		case strings.HasPrefix(line, "data: "):
			ev.Data = json.RawMessage(line[6:])
		}
	}
	return errStreamBroke
}
