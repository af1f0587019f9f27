package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	customActions = "../../testdata/custom-actions/"
	sdkSample     = customActions + "sdk-sample" // the SDK page's ConfigMgrTSActionControl
	brokenMOF     = customActions + "broken"
)

// customStep is a ConfigMgrTSActionControl step as JSON.
func customStep(pkg, user string) map[string]any {
	step := map[string]any{
		"@odata.type":                "#AdminService.ConfigMgrTSActionControl",
		"Name":                       "Run the vendor tool",
		"PackageIDForApplicationExe": pkg,
		"Location":                   `D:\Vendor`,
	}
	if user != "" {
		step["User"] = user
	}
	return map[string]any{"@odata.type": "#AdminService.SMS_TaskSequence", "Steps": []any{step}}
}

func setSequence(t *testing.T, base, name string, ts map[string]any) answer {
	t.Helper()
	a, err := call(t, "POST", base+"/AdminService/wmi/SMS_TaskSequencePackage.SetSequence", map[string]any{
		"TaskSequencePackage": map[string]any{"@odata.type": "#AdminService.SMS_TaskSequencePackage", "Name": name},
		"TaskSequence":        ts,
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// savedID is the PackageID of a SetSequence answer.
func savedID(t *testing.T, a answer) string {
	t.Helper()
	path, _ := a.body["SavedTaskSequencePackagePath"].(string)
	id := strings.TrimSuffix(strings.TrimPrefix(path, `SMS_TaskSequencePackage.PackageID="`), `"`)
	if a.status != 200 || len(id) != 8 {
		t.Fatalf("SetSequence: %d %v", a.status, a.body)
	}
	return id
}

// TestServeLoadsCustomActions: `tsprov serve --custom-actions DIR` with the
// SDK's sample MOF adds its step class: a step missing its Not_Null User is
// reported, the step's package is a reference (DANGLING_REF when the
// package does not exist), the class is in $metadata, and the step comes
// back from GetSequence as it went in.
func TestServeLoadsCustomActions(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	srv := startServerProcess(t, t.TempDir(), "--custom-actions", sdkSample)
	base := srv.url

	created, err := call(t, "POST", base+"/AdminService/wmi/SMS_Package", map[string]any{"Name": "Vendor tool"}, "")
	if err != nil || created.status != 201 {
		t.Fatalf("create package: %v %v", err, created.body)
	}
	pkg := created.body["PackageID"].(string)

	// a value an enabled step leaves out is a warning (docs/task-sequences.md, Validation)
	warned := setSequence(t, base, "No user", customStep(pkg, ""))
	savedID(t, warned)
	if w := fmt.Sprint(warned.body["@tsprov.warnings"]); !strings.Contains(w, `"Run the vendor tool": User: is required (Not_Null)`) {
		t.Errorf("a step without its Not_Null User: warnings %v", warned.body)
	}

	id := savedID(t, setSequence(t, base, "Vendor step", customStep(pkg, "svc-deploy")))
	got, _ := call(t, "GET", base+"/AdminService/wmi/SMS_TaskSequencePackage('"+id+"')", nil, "")
	row := got.body["value"].([]any)[0].(map[string]any)
	refs := fmt.Sprint(row["References"])
	if !strings.Contains(refs, pkg) || fmt.Sprint(row["ReferencesCount"]) != "1" || fmt.Sprint(row["TaskSequenceFlags"]) != "0" {
		t.Errorf("references of the custom step: %v count %v flags %v", refs, row["ReferencesCount"], row["TaskSequenceFlags"])
	}
	xml := row["Sequence"].(string)
	for _, want := range []string{
		`type="ConfigMgrTSActionControl"`,
		`<variable name="MyCustomActionPrefixUser" property="User">svc-deploy</variable>`,
		`<variable name="CustomLocation" property="Location">D:\Vendor</variable>`,
		`<reference package="` + pkg + `"`,
	} {
		if !strings.Contains(xml, want) {
			t.Errorf("stored Sequence lacks %s:\n%s", want, xml)
		}
	}

	back, _ := call(t, "POST", base+"/AdminService/wmi/SMS_TaskSequencePackage.GetSequence", map[string]any{
		"TaskSequencePackage": map[string]any{"@odata.type": "#AdminService.SMS_TaskSequencePackage", "PackageID": id},
	}, "")
	step := back.body["TaskSequence"].(map[string]any)["Steps"].([]any)[0].(map[string]any)
	if step["@odata.type"] != "#AdminService.ConfigMgrTSActionControl" || step["User"] != "svc-deploy" ||
		step["PackageIDForApplicationExe"] != pkg || step["Location"] != `D:\Vendor` {
		t.Errorf("GetSequence gave back %v", step)
	}

	dangling := savedID(t, setSequence(t, base, "Missing package", customStep("PS1FFFFF", "svc-deploy")))
	got, _ = call(t, "GET", base+"/AdminService/wmi/SMS_TaskSequencePackage('"+dangling+"')", nil, "")
	if flags := got.body["value"].([]any)[0].(map[string]any)["TaskSequenceFlags"]; fmt.Sprint(flags) != "1" {
		t.Errorf("a custom step naming a missing package: TaskSequenceFlags %v, want DANGLING_REF", flags)
	}

	req, _ := http.NewRequest("GET", base+"/AdminService/wmi/$metadata", nil)
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	md, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`<EntityType Name="ConfigMgrTSActionControl" BaseType="AdminService.SMS_TaskSequence_Action">`,
		`<Property Name="PackageIDForApplicationExe" Type="Edm.String" />`,
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("$metadata lacks %s", want)
		}
	}
}

// TestServeRefusesABrokenCustomActionMOF: serve stops before it listens,
// with one line naming the file, the line and the reason.
func TestServeRefusesABrokenCustomActionMOF(t *testing.T) {
	code, _, errOut := runCLI("serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--custom-actions", brokenMOF)
	want := filepath.Join(brokenMOF, "acme.mof") + `:7: expected ";", found "string"`
	if code != 1 || !strings.Contains(errOut, want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("exit %d, stderr %q; want exit 1 and one line with %q", code, errOut, want)
	}
}

// TestTSCommandsTakeCustomActions: the offline commands read a step of a
// custom action class with --custom-actions: validate reports its missing
// Not_Null property, refs lists its package; without the flag the step is
// generic and has neither.
func TestTSCommandsTakeCustomActions(t *testing.T) {
	f := filepath.Join(t.TempDir(), "vendor.xml")
	xml := `<sequence version="3.10"><step type="ConfigMgrTSActionControl" name="Vendor" description="" runIn="WinPEandFullOS" successCodeList="0 3010" retryCount="0" runFromNet="false">` +
		`<action>smsswd.exe /run:PS100042 Application.exe /user:</action><defaultVarList>` +
		`<variable name="MyCustomActionPrefixPackageIDForApplicationExe" property="PackageIDForApplicationExe">PS100042</variable>` +
		`</defaultVarList></step></sequence>`
	if err := os.WriteFile(f, []byte(xml), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI("ts", "validate", "--custom-actions", sdkSample, f)
	if code != 0 || !strings.Contains(out, `warning: Steps[0] "Vendor": User: is required (Not_Null)`) {
		t.Errorf("validate with the custom action: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI("ts", "refs", "--custom-actions", sdkSample, f)
	if code != 0 || !strings.Contains(out, "package  PS100042") {
		t.Errorf("refs with the custom action: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI("ts", "refs", f)
	if code != 0 || strings.Contains(out, "PS100042") {
		t.Errorf("refs without the custom action: exit %d\n%s", code, out)
	}
	code, _, errOut := runCLI("ts", "show", "--custom-actions", brokenMOF, f)
	if code != 1 || !strings.Contains(errOut, "acme.mof:7:") {
		t.Errorf("show with a broken MOF: exit %d %q", code, errOut)
	}
}
