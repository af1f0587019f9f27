package adminservice_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

const (
	lintCases = "../taskseq/lint/testdata/cases/"
	planCases = "../taskseq/plan/testdata/cases/"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// findings returns rule → messages of a lint answer.
func findings(t *testing.T, r response) map[string][]string {
	t.Helper()
	var body struct {
		Artifact string
		Result   struct {
			Findings []struct{ Rule, Message string }
			Unknown  []string
		}
	}
	if err := json.Unmarshal(r.raw, &body); err != nil {
		t.Fatalf("lint answer: %v\n%s", err, r.raw)
	}
	out := map[string][]string{}
	for _, f := range body.Result.Findings {
		out[f.Rule] = append(out[f.Rule], f.Message)
	}
	out["(unknown)"] = body.Result.Unknown
	out["(artifact)"] = []string{body.Artifact}
	return out
}

// TestLintThroughHTTP: a stored package is linted with what the site
// knows (a child package that exists is not missing, one that does not
// exist is); so is XML sent in the body; SARIF on request.
func TestLintThroughHTTP(t *testing.T) {
	s := newTestServer(t, 0)
	child := s.setSequence(pkgBody(map[string]any{"Name": "Apps"}), s.importSequence(readFile(t, planCases+"PS100010.xml")))
	parentXML := strings.ReplaceAll(readFile(t, planCases+"parent.xml"), "PS100010", child)
	// a second Run Task Sequence step names a package that is not there
	parentXML = strings.Replace(parentXML, "</sequence>", `<subtasksequence type="SMS_TaskSequence_SubTasksequence" name="Gone" description="" successCodeList="0" retryCount="0" runFromNet="false"><action>SubTasksequence.exe</action><defaultVarList><variable name="OSDSubTasksequencePackageID" property="TsPackageID" hidden="true">PS1FFFFF</variable></defaultVarList></subtasksequence></sequence>`, 1)
	parent := s.setSequence(pkgBody(map[string]any{"Name": "Parent"}), s.importSequence(parentXML))

	got := findings(t, s.must(200, "POST", "/tsprov/v1/lint", map[string]any{"PackageID": parent}))
	if msgs := got["missing-package"]; len(msgs) != 1 || msgs[0] != "package PS1FFFFF does not exist" {
		t.Errorf("missing-package = %v; want only PS1FFFFF", msgs)
	}
	if len(got["winpe-step-in-full-os"]) != 1 {
		t.Errorf("winpe-step-in-full-os = %v", got["winpe-step-in-full-os"])
	}
	if strings.Join(got["(unknown)"], ",") != "content" || got["(artifact)"][0] != parent {
		t.Errorf("unknown %v, artifact %v", got["(unknown)"], got["(artifact)"])
	}

	// XML in the body, with a configuration
	r := s.must(200, "POST", "/tsprov/v1/lint", map[string]any{
		"Sequence": readFile(t, lintCases+"every-rule.xml"),
		"Config":   map[string]any{"rules": map[string]string{"secret-in-command-line": "off"}},
	})
	got = findings(t, r)
	// PS100001 and PS100002 are the two packages stored above
	if len(got["secret-in-command-line"]) != 0 || len(got["secret-in-variable"]) != 1 || strings.Join(got["missing-package"], ";") != "package PS100004 does not exist" {
		t.Errorf("findings = %v", got)
	}

	sarif := s.must(200, "POST", "/tsprov/v1/lint?format=sarif", map[string]any{"PackageID": parent})
	if sarif.body["version"] != "2.1.0" || !strings.Contains(string(sarif.raw), `"ruleId":"missing-package"`) {
		t.Errorf("SARIF answer: %.400s", sarif.raw)
	}
}

// TestPlanThroughHTTP: a stored package is simulated, and its Run Task
// Sequence step is followed into the stored child.
func TestPlanThroughHTTP(t *testing.T) {
	s := newTestServer(t, 0)
	child := s.setSequence(pkgBody(map[string]any{"Name": "Apps"}), s.importSequence(readFile(t, planCases+"PS100010.xml")))
	parent := s.setSequence(pkgBody(map[string]any{"Name": "Parent"}), s.importSequence(strings.ReplaceAll(readFile(t, planCases+"parent.xml"), "PS100010", child)))
	var machine map[string]any
	if err := json.Unmarshal([]byte(readFile(t, "../taskseq/plan/testdata/machines/hp-laptop-winpe.json")), &machine); err != nil {
		t.Fatal(err)
	}
	r := s.must(200, "POST", "/tsprov/v1/plan", map[string]any{"PackageID": parent, "Variables": map[string]any{"Department": "Finance"}, "Machine": machine})
	var p struct {
		Completed bool
		FailedAt  string
		Steps     []struct {
			Name, Outcome, Child string
			Steps                []struct{ Name, Outcome, Reason string }
		}
	}
	if err := json.Unmarshal(r.raw, &p); err != nil {
		t.Fatal(err)
	}
	if p.Completed || p.FailedAt != "Steps[4]" {
		t.Errorf("completed %v failed at %q; want the failure of Steps[4]", p.Completed, p.FailedAt)
	}
	sub := p.Steps[3]
	if sub.Child != child || len(sub.Steps) != 3 || sub.Steps[1].Name != "Install mobile apps" || sub.Steps[1].Outcome != "run" || sub.Steps[2].Outcome != "run" {
		t.Errorf("the child was not followed as expected: %+v", sub)
	}
	// the same XML sent in the body, another machine: the make-and-model
	// rule does not hold
	r = s.must(200, "POST", "/tsprov/v1/plan", map[string]any{
		"Sequence": strings.ReplaceAll(readFile(t, planCases+"parent.xml"), "PS100010", child),
		"Machine":  map[string]any{"environment": "FullOS", "make": "Dell Inc.", "model": "OptiPlex 7090"},
	})
	if !strings.Contains(string(r.raw), `"reason": "AppSet equals \"MOBILE\": AppSet is not set"`) && !strings.Contains(string(r.raw), `AppSet equals \"MOBILE\": AppSet is not set`) {
		t.Errorf("plan of the body XML: %.2000s", r.raw)
	}
}

// TestLintPlanBadInput: the OData error envelope, with nothing changed.
func TestLintPlanBadInput(t *testing.T) {
	s := newTestServer(t, 0)
	seq := readFile(t, lintCases+"every-rule.xml")
	for _, tc := range []struct {
		path   string
		body   any
		status int
		want   string
	}{
		{"/tsprov/v1/lint", map[string]any{}, 400, "PackageID"},
		{"/tsprov/v1/lint", map[string]any{"PackageID": "PS1ABCDE", "Sequence": seq}, 400, "not both"},
		{"/tsprov/v1/lint", map[string]any{"PackageID": "PS1ABCDE"}, 404, "PS1ABCDE"},
		{"/tsprov/v1/lint", map[string]any{"Sequence": "<sequence"}, 400, "unterminated <sequence"},
		{"/tsprov/v1/lint", map[string]any{"Sequence": seq, "Config": map[string]any{"rules": map[string]string{"no-such-rule": "off"}}}, 400, "no-such-rule"},
		{"/tsprov/v1/lint", map[string]any{"Sequence": seq, "Machine": map[string]any{}}, 400, "Machine"},
		{"/tsprov/v1/lint?format=xml", map[string]any{"Sequence": seq}, 400, "format"},
		{"/tsprov/v1/plan", map[string]any{"Sequence": seq, "Machine": map[string]any{"environment": "DOS"}}, 400, "DOS"},
		{"/tsprov/v1/plan", map[string]any{"Sequence": seq, "Variables": []int{1}}, 400, "variables"},
	} {
		expectError(t, s.do("POST", tc.path, tc.body), tc.status, tc.want)
	}
	expectError(t, s.do("GET", "/tsprov/v1/lint", nil), 405, "POST")
	if n := len(s.list("")); n != 0 {
		t.Errorf("%d packages after refused requests", n)
	}
}

// TestLintContentOnDPs: with no distribution point registered, content is
// unknown and the content rule says nothing; with one, a package no DP
// holds yet (assigned and pending, or never assigned) is a finding.
func TestLintContentOnDPs(t *testing.T) {
	s := newTestServer(t, 0)
	pending := s.must(201, "POST", "/AdminService/wmi/SMS_Package", map[string]any{"Name": "Drivers", "PkgSourcePath": t.TempDir()}).body["PackageID"].(string)
	never := s.must(201, "POST", "/AdminService/wmi/SMS_Package", map[string]any{"Name": "Tools"}).body["PackageID"].(string)
	step := func(name, pkg string) string {
		return `<step type="SMS_TaskSequence_RunCommandLineAction" name="` + name + `" description="" runIn="WinPEandFullOS" successCodeList="0" retryCount="0" runFromNet="false"><action>smsswd.exe /run:` + pkg + ` x.cmd</action><defaultVarList><variable name="CommandLine" property="CommandLine" hidden="true">x.cmd</variable><variable name="PackageID" property="PackageID" hidden="true">` + pkg + `</variable></defaultVarList></step>`
	}
	seq := `<sequence version="3.10">` + step("Drivers", pending) + step("Tools", never) + `</sequence>`

	got := findings(t, s.must(200, "POST", "/tsprov/v1/lint", map[string]any{"Sequence": seq}))
	if len(got["package-without-content"]) != 0 || strings.Join(got["(unknown)"], ",") != "content" || len(got["missing-package"]) != 0 {
		t.Errorf("no DP registered: %v", got)
	}

	dp := s.registerDP("DP1.CONTOSO.COM")
	r := s.must(200, "POST", "/AdminService/wmi/SMS_Package('"+pending+"')/AdminService.AddDistributionPoints", map[string]any{"SiteCode": []string{"PS1"}, "NALPath": []string{dp}})
	if fmt.Sprint(r.body["ReturnValue"]) != "0" {
		t.Fatalf("AddDistributionPoints: %s", r.raw)
	}
	got = findings(t, s.must(200, "POST", "/tsprov/v1/lint", map[string]any{"Sequence": seq}))
	want := []string{"package " + pending + " has its content on no distribution point", "package " + never + " has its content on no distribution point"}
	if strings.Join(got["package-without-content"], ";") != strings.Join(want, ";") || len(got["(unknown)"]) != 0 {
		t.Errorf("with a DP: %v", got)
	}
}
