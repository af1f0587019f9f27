package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// serve logs key=value text with --log-format text, JSON lines with json
// (the default when standard error is not a terminal), and refuses any
// other format.
func TestServeLogFormat(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dir := t.TempDir()
	_, logs, ready, _ := serveOnce(t, dir, "127.0.0.1:0", "--log-format", "text")
	first := strings.SplitN(logs, "\n", 2)[0]
	if !ready || !strings.Contains(logs, `level=INFO msg="tsprov serving"`) || strings.HasPrefix(first, "{") {
		t.Errorf("--log-format text: ready %v, log:\n%s", ready, logs)
	}
	_, logs, ready, _ = serveOnce(t, dir, "127.0.0.1:0")
	first = strings.SplitN(logs, "\n", 2)[0]
	if !ready || !json.Valid([]byte(first)) {
		t.Errorf("default on a pipe: ready %v, first line %q, want JSON", ready, first)
	}
	_, logs, ready, code := serveOnce(t, dir, "127.0.0.1:0", "--log-format", "xml")
	if ready || code != 2 || !strings.Contains(logs, "text or json") || strings.Count(strings.TrimSpace(logs), "\n") != 0 {
		t.Errorf("--log-format xml: ready %v, exit %d, %q", ready, code, logs)
	}
}

// Not a terminal: a pipe or a file gets JSON.
func TestDefaultLogFormat(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	f, err := os.Create(t.TempDir() + "/log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, file := range []*os.File{w, f} {
		if got := defaultLogFormat(file); got != "json" {
			t.Errorf("%s: %s, want json", file.Name(), got)
		}
	}
}
