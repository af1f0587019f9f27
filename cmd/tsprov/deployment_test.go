package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestDeploymentNeedsContentOnADistributionPoint, with a real server and
// a real DP agent: a task sequence whose referenced packages have content
// on no distribution point cannot be deployed, and the refusal lists what
// is missing; "@tsprov.force" deploys it anyway; once the agent has
// installed every package, it deploys.
func TestDeploymentNeedsContentOnADistributionPoint(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and a DP agent")
	}
	srv := startServerProcess(t, t.TempDir())
	s := site{t: t, url: srv.url}
	startAgent(t, "DP1.TEST.LOCAL", t.TempDir(), srv.url)
	newPackage := func(class, name string) string {
		src := t.TempDir()
		makeTree(t, src, 64<<10)
		var out map[string]any
		if code := s.call("POST", "/AdminService/wmi/"+class, map[string]any{"Name": name, "PkgSourcePath": src}, &out); code != 201 {
			t.Fatalf("create %s: %d", name, code)
		}
		return out["PackageID"].(string)
	}
	pkgs := []string{newPackage("SMS_Package", "Tools"), newPackage("SMS_Package", "Drivers"), newPackage("SMS_Package", "Agent")}
	boot := newPackage("SMS_BootImagePackage", "Boot image (x64)")
	var steps strings.Builder
	for i, id := range pkgs {
		fmt.Fprintf(&steps, `<step type="SMS_TaskSequence_RunCommandLineAction" name="Run %d"><action>cmd</action><defaultVarList>`+
			`<variable name="CommandLine" property="CommandLine">setup.cmd</variable><variable name="PackageID" property="PackageID">%s</variable></defaultVarList></step>`, i, id)
	}
	var imported map[string]any
	if code := s.call("POST", "/AdminService/wmi/SMS_TaskSequencePackage.ImportSequence", map[string]any{"SequenceXML": `<sequence version="3.10">` + steps.String() + `</sequence>`}, &imported); code != 200 {
		t.Fatalf("ImportSequence: %d", code)
	}
	var saved map[string]any
	if code := s.call("POST", "/AdminService/wmi/SMS_TaskSequencePackage.SetSequence", map[string]any{
		"TaskSequencePackage": map[string]any{"@odata.type": "#AdminService.SMS_TaskSequencePackage", "Name": "Deploy", "BootImageID": boot},
		"TaskSequence":        imported["TaskSequence"]}, &saved); code != 200 {
		t.Fatalf("SetSequence: %d", code)
	}
	ts := strings.TrimSuffix(strings.TrimPrefix(saved["SavedTaskSequencePackagePath"].(string), `SMS_TaskSequencePackage.PackageID="`), `"`)
	var coll map[string]any
	s.call("POST", "/AdminService/wmi/SMS_Collection", map[string]any{"Name": "Lab"}, &coll)
	deploy := map[string]any{"AdvertisementName": "Deploy", "CollectionID": coll["CollectionID"], "PackageID": ts, "ProgramName": "*"}

	distribute := func(ids ...string) {
		args := append([]string{"dp", "add", "--server", srv.url, "--token", testAdminToken}, ids...)
		for _, id := range ids {
			if code, out, errOut := runCLI(append(args[:6:6], id, "DP1.TEST.LOCAL")...); code != 0 {
				t.Fatalf("tsprov dp add %s: %d %s %s", id, code, out, errOut)
			}
			s.waitInstalled(id, 1, 1, 2*time.Minute)
		}
	}
	distribute(pkgs[0], boot)
	body, _ := json.Marshal(deploy)
	req, _ := http.NewRequest("POST", srv.url+"/AdminService/wmi/SMS_Advertisement", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	refusal, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 409 || !strings.Contains(string(refusal), pkgs[1]) || !strings.Contains(string(refusal), pkgs[2]) ||
		strings.Contains(string(refusal), pkgs[0]) || strings.Contains(string(refusal), boot) {
		t.Fatalf("deployment with %s and %s on no DP: %d %s; want 409 naming those two only", pkgs[1], pkgs[2], resp.StatusCode, refusal)
	}
	var list struct{ Value []any }
	s.call("GET", "/AdminService/wmi/SMS_Advertisement", nil, &list)
	if len(list.Value) != 0 {
		t.Fatalf("%d deployments stored after the refusal", len(list.Value))
	}
	forced := map[string]any{"@tsprov.force": true}
	for k, v := range deploy {
		forced[k] = v
	}
	if code := s.call("POST", "/AdminService/wmi/SMS_Advertisement", forced, nil); code != 201 {
		t.Fatalf("forced deployment: %d", code)
	}
	distribute(pkgs[1:]...)
	if code := s.call("POST", "/AdminService/wmi/SMS_Advertisement", deploy, nil); code != 201 {
		t.Fatalf("deployment with every package on the DP: %d", code)
	}
}
