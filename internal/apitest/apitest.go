// Package apitest serves tests that talk to tsprov over HTTP: it sends one
// request and reads the whole answer, so that each test package keeps only
// what its own helpers add (credentials, decoding, checks).
package apitest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/taskseq"
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

// BigSequence returns task sequence XML of at least min and at most max
// bytes, made by repeating the top-level groups and steps of the real task
// sequence in the corpus file at path (an exported object.xml or a bare
// sequence). Tests use it for maximum-size sequences without committing one.
func BigSequence(t testing.TB, path string, min, max int) []byte {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := taskseq.ReadDocument(src, taskseq.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	var steps []*taskseq.Element
	for _, c := range doc.Sequence.Children {
		if e, ok := c.(*taskseq.Element); ok && (e.Name == "group" || e.Name == "step") {
			steps = append(steps, e)
		}
	}
	out := &taskseq.Element{Name: "sequence", Attrs: doc.Sequence.Attrs}
	size := len(out.String())
	for i := 0; size < min; i++ {
		next := steps[i%len(steps)]
		n := len(next.String())
		if size+n > max {
			break
		}
		out.Children = append(out.Children, next)
		size += n
	}
	data := []byte(out.String())
	if len(data) < min || len(data) > max {
		t.Fatalf("built a sequence of %d bytes, want %d to %d", len(data), min, max)
	}
	return data
}
