package main

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
)

func TestQueryCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	srv := startServerProcess(t, t.TempDir())
	server := "--server=" + srv.url
	for _, name := range []string{"Win11 x64", "Win10 x86", "Server 2022"} {
		if code, _, errOut := runCLI("create", server, "Name="+name); code != 0 {
			t.Fatal(errOut)
		}
	}
	const wql = "SELECT PackageID, Name FROM SMS_TaskSequencePackage WHERE Name LIKE 'win%'"
	code, out, errOut := runCLI("query", server, wql)
	if code != 0 || !strings.HasPrefix(out, "PackageID") || !strings.Contains(out, "Win11 x64") || strings.Contains(out, "Server 2022") {
		t.Errorf("table: %d %s\n%s", code, errOut, out)
	}
	code, out, _ = runCLI("query", server, "--output", "json", wql)
	var rows []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 2 {
		t.Errorf("json: %d %s", code, out)
	}
	code, out, _ = runCLI("query", server, "--output=csv", wql)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(recs) != 3 || strings.Join(recs[0], ",") != "PackageID,Name" {
		t.Errorf("csv: %d %v %q", code, err, out)
	}
	code, _, errOut = runCLI("query", server, "SELECT * FROM SMS_TaskSequencePackage WHERE Name LIKE")
	if code != 1 || !strings.Contains(errOut, "position") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("bad WQL: %d %q", code, errOut)
	}
}

// TestWatchCommand: tsprov watch prints the changes its event query
// selects as they happen, one line each, and stops after --count.
func TestWatchCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	srv := startServerProcess(t, t.TempDir())
	server := "--server=" + srv.url
	if code, _, errOut := runCLI("create", server, "Name=Before"); code != 0 {
		t.Fatal(errOut)
	}
	const wql = "SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'SMS_TaskSequencePackage' AND TargetInstance.Name LIKE 'Win%'"
	for _, name := range []string{"Win11 x64", "Server 2022", "Win10 x86"} {
		if code, _, errOut := runCLI("create", server, "Name="+name); code != 0 {
			t.Fatal(errOut)
		}
	}
	code, out, errOut := runCLI("watch", server, "--after=0", "--count=2", wql)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 || !strings.Contains(lines[0], "__InstanceCreationEvent SMS_TaskSequencePackage") {
		t.Fatalf("watch: %d %s\n%s", code, errOut, out)
	}
	code, out, _ = runCLI("watch", server, "--after=0", "--count=1", "--output=json", wql)
	var ev map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &ev) != nil || ev["TargetInstance"].(map[string]any)["Name"] != "Win11 x64" {
		t.Errorf("watch --output json: %d %s", code, out)
	}
	code, _, errOut = runCLI("watch", server, "SELECT * FROM __InstanceCreationEvent GROUP WITHIN 5")
	if code != 1 || !strings.Contains(errOut, "GROUP WITHIN") {
		t.Errorf("watch with an aggregate query: %d %q", code, errOut)
	}
}
