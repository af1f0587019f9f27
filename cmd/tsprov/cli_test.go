package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// runCLI runs the command line in process and returns its exit status and
// output.
func runCLI(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestClientCommandsAgainstARealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	srv := startServerProcess(t, t.TempDir())
	server := "--server=" + srv.url

	code, out, errOut := runCLI("create", server, "Name=Windows 11", "Description=Bare metal", "Duration=45")
	if code != 0 {
		t.Fatalf("create: %d %s", code, errOut)
	}
	id := strings.TrimSpace(out)
	if len(id) != 8 || !strings.HasPrefix(id, "PS1") {
		t.Fatalf("create printed %q, want the new PackageID", out)
	}

	code, out, errOut = runCLI("set", id, "Category=OSD", server)
	if code != 0 {
		t.Fatalf("set: %d %s", code, errOut)
	}

	code, out, _ = runCLI("get", server, id)
	var got map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil {
		t.Fatalf("get: %d %s", code, out)
	}
	if got["Category"] != "OSD" || got["Name"] != "Windows 11" || got["Duration"] != float64(45) {
		t.Errorf("get shows %v %v %v", got["Category"], got["Name"], got["Duration"])
	}

	code, out, _ = runCLI("list", server)
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "Windows 11") || !strings.HasPrefix(out, "PackageID") {
		t.Errorf("list table: %d\n%s", code, out)
	}
	code, out, _ = runCLI("list", server, "--output", "json")
	var rows []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 1 {
		t.Errorf("list json: %d %s", code, out)
	}

	// bad input: one line, non-zero, nothing changed
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"set", id, "PackageType=3", server}, 1, "PackageType"},
		{[]string{"set", id, "Duration=soon", server}, 2, "Duration"},
		{[]string{"set", id, "Colour=blue", server}, 2, "Colour"},
		{[]string{"get", "PS1FFFFF", server}, 1, "PS1FFFFF"},
		{[]string{"create", server}, 2, "Prop=Value"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"get", server}, 2, "one key"},
		{[]string{"list", "--server=http://127.0.0.1:1"}, 1, "connection refused: is tsprov serve running at http://127.0.0.1:1?"},
		{[]string{"list", "--server=127.0.0.1:1"}, 1, "needs a scheme and a host: use http://127.0.0.1:1"},
	}
	for _, tc := range cases {
		code, _, errOut := runCLI(tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and one line mentioning %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
	code, out, _ = runCLI("get", server, id)
	_ = json.Unmarshal([]byte(out), &got)
	if got["Category"] != "OSD" || got["Duration"] != float64(45) || got["PackageType"] != float64(4) {
		t.Errorf("refused commands changed the package: %v", got)
	}

	code, out, _ = runCLI("delete", server, id)
	if code != 0 || !strings.Contains(out, "deleted "+id) {
		t.Errorf("delete: %d %s", code, out)
	}
	if code, _, _ := runCLI("get", server, id); code != 1 {
		t.Errorf("get after delete: exit %d", code)
	}
}
