package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTSDiffFiles: `tsprov ts diff` of two files needs no server: text by
// default (no colour off a terminal, or with --color never), JSON with
// --json, colour with --color always; a wrong argument is a usage error.
func TestTSDiffFiles(t *testing.T) {
	src := "../../testdata/ts-corpus/microsoft__configmgr-hub-firstparty__objects_TaskSequence_How-to-Test-for-HyperVisor.xml"
	data, err := os.ReadFile(src)
	if err != nil {
		t.Skip("corpus file missing:", err)
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.xml"), filepath.Join(dir, "b.xml")
	changed := strings.Replace(string(data), `name="`, `disable="true" name="`, 1)
	if changed == string(data) {
		t.Fatal("the edit did not apply")
	}
	if err := os.WriteFile(a, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI("ts", "diff", a, b)
	if code != 0 || !strings.Contains(out, "- disabled ") || !strings.Contains(out, "1 change: 1 disabled") || strings.Contains(out, "\x1b[") {
		t.Errorf("ts diff: %d %q %q", code, out, errOut)
	}
	code, out, _ = runCLI("ts", "diff", "--color", "always", a, b)
	if code != 0 || !strings.Contains(out, "\x1b[31m-\x1b[0m disabled") {
		t.Errorf("ts diff --color always: %d %q", code, out)
	}
	code, out, _ = runCLI("ts", "diff", "--json", a, a)
	var res struct {
		Changes []any
		From    string
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || len(res.Changes) != 0 || res.From != a {
		t.Errorf("ts diff --json of a file and itself: %d %q", code, out)
	}
	for _, args := range [][]string{{"ts", "diff", a}, {"ts", "diff", a, "not a file"}, {"ts", "diff", "--color", "sometimes", a, b}} {
		if code, _, errOut := runCLI(args...); code != 2 || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
			t.Errorf("%q: exit %d, stderr %q; want 2 and one line", args, code, errOut)
		}
	}
}
