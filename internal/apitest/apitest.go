// Package apitest serves tests that talk to tsprov over HTTP: it sends one
// request and reads the whole answer, so that each test package keeps only
// what its own helpers add (credentials, decoding, checks).
package apitest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Do sends method url with body and returns the response with its body
// read (and closed). body is nil (none), a string or []byte (sent as is),
// or any other value (sent as JSON). headers come in name, value pairs and
// are added, so a name may repeat. A request with a body is sent as
// Content-Type: application/json unless headers name a Content-Type; one
// named with an empty value is not sent at all. A Host header sets the
// request's Host. A request that cannot be sent fails the test.
func Do(t testing.TB, c *http.Client, method, url string, body any, headers ...string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	typed := false
	for i := 0; i+1 < len(headers); i += 2 {
		if http.CanonicalHeaderKey(headers[i]) == "Content-Type" && !typed {
			req.Header.Del("Content-Type")
			typed = true
		}
		if headers[i+1] == "" && http.CanonicalHeaderKey(headers[i]) == "Content-Type" {
			continue
		}
		if http.CanonicalHeaderKey(headers[i]) == "Host" {
			req.Host = headers[i+1]
			continue
		}
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body) // a body cut short is what the test sees
	return resp, raw
}
