package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/client"
)

const (
	everyRule   = "../../internal/taskseq/lint/testdata/cases/every-rule.xml"
	planTestDir = "../../internal/taskseq/plan/testdata/"
)

// TestTSLint: findings on standard output, the exit status by the worst
// severity and --fail-on, the three formats, a configuration file.
func TestTSLint(t *testing.T) {
	code, out, _ := runCLI("ts", "lint", everyRule)
	if code != 5 || !strings.Contains(out, "every-rule.xml:8: error secret-in-command-line:") || !strings.Contains(out, "8 errors, 5 warnings, 1 note") {
		t.Errorf("exit %d\n%s", code, out)
	}
	cfg := filepath.Join(t.TempDir(), "lint.json")
	var off []string
	for _, r := range []string{"continue-on-error-critical", "secret-in-command-line", "secret-in-variable", "contradictory-condition",
		"winpe-step-in-full-os", "full-os-step-in-winpe", "invalid-wql"} {
		off = append(off, `"`+r+`": "off"`)
	}
	os.WriteFile(cfg, []byte(`{"rules": {`+strings.Join(off, ", ")+`}}`), 0o600)
	// warnings and a note left: exit 4; with --fail-on error, 0
	if code, out, _ := runCLI("ts", "lint", "--config", cfg, everyRule); code != 4 || strings.Contains(out, " error ") {
		t.Errorf("warnings only: exit %d\n%s", code, out)
	}
	if code, _, _ := runCLI("ts", "lint", "--config", cfg, "--fail-on", "error", everyRule); code != 0 {
		t.Errorf("--fail-on error with warnings only: exit %d", code)
	}
	// a clean file
	if code, out, _ := runCLI("ts", "lint", plainHubFile); code != 0 || !strings.HasSuffix(out, ": no findings\n") {
		t.Errorf("clean file: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI("ts", "lint", "--format", "json", everyRule, mdtSCCM)
	var doc struct {
		Reports []struct {
			Artifact string
			Result   struct{ Findings []map[string]any }
		}
	}
	if code != 5 || json.Unmarshal([]byte(out), &doc) != nil || len(doc.Reports) != 2 || len(doc.Reports[0].Result.Findings) != 14 {
		t.Errorf("json: exit %d\n%.600s", code, out)
	}
	code, out, _ = runCLI("ts", "lint", "--format", "sarif", everyRule)
	var sarif struct {
		Version string
		Runs    []struct{ Results []map[string]any }
	}
	if code != 5 || json.Unmarshal([]byte(out), &sarif) != nil || sarif.Version != "2.1.0" || len(sarif.Runs[0].Results) != 14 {
		t.Errorf("sarif: exit %d\n%.600s", code, out)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"ts", "lint"}, 2, "one or more"},
		{[]string{"ts", "lint", "--format", "xml", everyRule}, 2, "--format"},
		{[]string{"ts", "lint", "--fail-on", "off", everyRule}, 2, "--fail-on"},
		{[]string{"ts", "lint", "no-such-file.xml"}, 1, "no-such-file.xml"},
		{[]string{"ts", "lint", "--config", everyRule, everyRule}, 1, "lint configuration"},
	} {
		code, _, errOut := runCLI(tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and one line mentioning %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
	if code, out, _ := runCLI("ts", "lint", "--rules"); code != 0 || strings.Count(out, "\n") != 17 {
		t.Errorf("--rules: exit %d\n%s", code, out)
	}
}

// TestTSPlan: the tree of a plan, children from the file's folder, JSON.
func TestTSPlan(t *testing.T) {
	code, out, errOut := runCLI("ts", "plan", planTestDir+"cases/parent.xml", "--vars", planTestDir+"vars/hp-80fc.json", "--machine", planTestDir+"machines/hp-laptop-winpe.json")
	want, _ := os.ReadFile(planTestDir + "golden/parent-hp.txt")
	if code != 0 || out != string(want) {
		t.Errorf("exit %d %s\n%s", code, errOut, out)
	}
	code, out, _ = runCLI("ts", "plan", "--json", planTestDir+"cases/parent.xml", "--machine", planTestDir+"machines/dell-desktop.json")
	var p struct {
		Completed bool
		Steps     []struct{ Name, Outcome string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &p) != nil || p.Completed || p.Steps[0].Outcome != "run" {
		t.Errorf("json: exit %d\n%.600s", code, out)
	}
	if code, out, _ := runCLI("ts", "plan", "-h"); code != 0 || !strings.Contains(out, "-machine") || !strings.Contains(out, "-children") {
		t.Errorf("ts plan -h: exit %d\n%s", code, out)
	}
	bad := filepath.Join(t.TempDir(), "machine.json")
	os.WriteFile(bad, []byte(`{"environment": "DOS"}`), 0o600)
	badVars := filepath.Join(t.TempDir(), "vars.json")
	os.WriteFile(badVars, []byte(`{"Department": {"name": "Sales"}}`), 0o600)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"ts", "plan"}, 2, "one task sequence"},
		{[]string{"ts", "plan", "--variables", badVars, planTestDir + "cases/parent.xml"}, 2, "-variables"},
		{[]string{"ts", "plan", planTestDir + "cases/parent.xml", "--machine", bad}, 1, "DOS"},
		{[]string{"ts", "plan", planTestDir + "cases/parent.xml", "--vars", badVars}, 1, "Department"},
	} {
		code, _, errOut := runCLI(tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

// TestTSLintPlanByPackageID: a PackageID is linted and simulated by the
// server, which knows the packages and follows stored children.
func TestTSLintPlanByPackageID(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	srv := startServerProcess(t, t.TempDir())
	c := client.New(srv.url)
	c.Token = srv.token
	store := func(name, file string, replace ...string) string {
		t.Helper()
		xml, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		s := string(xml)
		for i := 0; i+1 < len(replace); i += 2 {
			s = strings.ReplaceAll(s, replace[i], replace[i+1])
		}
		var imported map[string]any
		if err := c.Call(context.Background(), "POST", "/AdminService/wmi/SMS_TaskSequencePackage.ImportSequence", map[string]any{"SequenceXML": s}, &imported); err != nil {
			t.Fatal(err)
		}
		var saved map[string]any
		if err := c.Call(context.Background(), "POST", "/AdminService/wmi/SMS_TaskSequencePackage.SetSequence", map[string]any{
			"TaskSequencePackage": map[string]any{"@odata.type": "#AdminService.SMS_TaskSequencePackage", "Name": name},
			"TaskSequence":        imported["TaskSequence"],
		}, &saved); err != nil {
			t.Fatal(err)
		}
		path, _ := saved["SavedTaskSequencePackagePath"].(string)
		return strings.TrimSuffix(strings.TrimPrefix(path, `SMS_TaskSequencePackage.PackageID="`), `"`)
	}
	child := store("Apps", planTestDir+"cases/PS100010.xml")
	parent := store("Parent", planTestDir+"cases/parent.xml", "PS100010", child)
	server := "--server=" + srv.url

	code, out, errOut := runCLI("ts", "lint", server, parent)
	if code != 5 || !strings.Contains(out, parent+": error winpe-step-in-full-os:") || strings.Contains(out, "missing-package") || !strings.Contains(out, "not checked for want of facts: content") {
		t.Errorf("lint %s: exit %d %s\n%s", parent, code, errOut, out)
	}
	code, out, errOut = runCLI("ts", "plan", server, parent, "--vars", planTestDir+"vars/hp-80fc.json", "--machine", planTestDir+"machines/hp-laptop-winpe.json")
	if code != 0 || !strings.Contains(out, "(runs "+child+")") || !strings.Contains(out, "- Install mobile apps  <RunCommandLineAction>  RUN in FullOS") {
		t.Errorf("plan %s: exit %d %s\n%s", parent, code, errOut, out)
	}
	if code, _, errOut := runCLI("ts", "lint", server, "PS1FFFFF"); code != 1 || !strings.Contains(errOut, "PS1FFFFF") {
		t.Errorf("lint of a missing package: exit %d %s", code, errOut)
	}
}
