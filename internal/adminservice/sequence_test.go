package adminservice_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
)

const corpusObjectXML = "../../testdata/ts-corpus/gwblok__garytown__OSD_CloudOSD_OSDCloudTaskSequence__SMS_TaskSequencePackage_MEM000F8_object.xml"

func readCorpus(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// importSequence turns XML into the object model through the API.
func (s *testServer) importSequence(xml string) map[string]any {
	s.t.Helper()
	r := s.must(200, "POST", "/AdminService/wmi/SMS_TaskSequencePackage.ImportSequence", map[string]any{"SequenceXML": xml})
	ts, ok := r.body["TaskSequence"].(map[string]any)
	if !ok {
		s.t.Fatalf("ImportSequence returned no TaskSequence: %.300s", r.raw)
	}
	return ts
}

func (s *testServer) setSequence(pkg, ts map[string]any) string {
	s.t.Helper()
	r := s.must(200, "POST", "/AdminService/wmi/SMS_TaskSequencePackage.SetSequence", map[string]any{"TaskSequencePackage": pkg, "TaskSequence": ts})
	path, _ := r.body["SavedTaskSequencePackagePath"].(string)
	const prefix = `SMS_TaskSequencePackage.PackageID="`
	if !strings.HasPrefix(path, prefix) || fmt.Sprint(r.body["ReturnValue"]) != "0" {
		s.t.Fatalf("SetSequence answered %s", r.raw)
	}
	return strings.TrimSuffix(strings.TrimPrefix(path, prefix), `"`)
}

func (s *testServer) getSequence(id string) map[string]any {
	s.t.Helper()
	r := s.must(200, "POST", "/AdminService/wmi/SMS_TaskSequencePackage.GetSequence", map[string]any{
		"TaskSequencePackage": map[string]any{"@odata.type": "#AdminService.SMS_TaskSequencePackage", "PackageID": id},
	})
	return r.body["TaskSequence"].(map[string]any)
}

func pkgBody(props map[string]any) map[string]any {
	props["@odata.type"] = "#AdminService.SMS_TaskSequencePackage"
	return props
}

func TestImportSetGetSequenceOfARealExport(t *testing.T) {
	s := newTestServer(t, 0)
	ts := s.importSequence(readCorpus(t, corpusObjectXML))
	if ts["@odata.type"] != "#AdminService.SMS_TaskSequence" {
		t.Errorf("TaskSequence @odata.type %v", ts["@odata.type"])
	}
	steps := ts["Steps"].([]any)
	if len(steps) == 0 {
		t.Fatal("no steps imported")
	}
	for _, st := range steps {
		if ty, _ := st.(map[string]any)["@odata.type"].(string); !strings.HasPrefix(ty, "#AdminService.") {
			t.Errorf("step without @odata.type: %v", st)
		}
	}
	id := s.setSequence(pkgBody(map[string]any{"Name": "OSDCloud", "Description": "imported"}), ts)
	pkg := s.getOne(id)
	if seq, _ := pkg["Sequence"].(string); !strings.HasPrefix(seq, `<sequence version="3.10">`) {
		t.Errorf("Sequence %.80q", pkg["Sequence"])
	}
	refs, _ := pkg["References"].([]any)
	if len(refs) == 0 || fmt.Sprint(pkg["ReferencesCount"]) != fmt.Sprint(len(refs)) {
		t.Errorf("References %d, ReferencesCount %v", len(refs), pkg["ReferencesCount"])
	}
	if fmt.Sprint(pkg["TaskSequenceFlags"]) != "1" {
		t.Errorf("TaskSequenceFlags %v: the referenced packages do not exist here, so DANGLING_REF must be set", pkg["TaskSequenceFlags"])
	}
	if fmt.Sprint(pkg["Type"]) != "2" {
		t.Errorf("Type %v: the export says 2", pkg["Type"])
	}
	again := s.getSequence(id)
	// The stored sequence is the sequence alone: the Type that the
	// export's wrapper carried went to the package.
	if ann, _ := ts["@tsprov.xml"].(map[string]any); ann["packageType"] != "2" {
		t.Errorf("the imported sequence does not carry the exported Type: %v", ann)
	} else {
		delete(ann, "packageType")
	}
	if !jsonEqual(again, ts) {
		a, _ := json.Marshal(ts)
		b, _ := json.Marshal(again)
		t.Errorf("GetSequence differs from what SetSequence stored:\n%.400s\n%.400s", a, b)
	}
	// SetSequence on the existing package updates it
	s.setSequence(pkgBody(map[string]any{"PackageID": id, "Description": "second"}), again)
	pkg2 := s.getOne(id)
	if pkg2["Description"] != "second" || pkg2["Name"] != "OSDCloud" || fmt.Sprint(pkg2["SourceVersion"]) != "2" {
		t.Errorf("update through SetSequence: %v %v %v", pkg2["Description"], pkg2["Name"], pkg2["SourceVersion"])
	}
}

// jsonOnlySequence is a task sequence written as AdminService JSON, with
// no XML anywhere.
func jsonOnlySequence(packageID string) map[string]any {
	return map[string]any{
		"@odata.type": "#AdminService.SMS_TaskSequence",
		"Steps": []any{
			map[string]any{
				"@odata.type": "#AdminService.SMS_TaskSequence_Group",
				"Name":        "Prepare",
				"Steps": []any{
					map[string]any{
						"@odata.type": "#AdminService.SMS_TaskSequence_RunCommandLineAction",
						"Name":        "Say hello",
						"CommandLine": "cmd /c echo hello",
						"PackageID":   packageID,
						"Condition": map[string]any{
							"@odata.type": "#AdminService.SMS_TaskSequence_Condition",
							"Operands": []any{map[string]any{
								"@odata.type": "#AdminService.SMS_TaskSequence_VariableConditionExpression",
								"Variable":    "_SMSTSInWinPE", "Operator": "equals", "Value": "false",
							}},
						},
					},
					map[string]any{
						"@odata.type": "#AdminService.SMS_TaskSequence_SetVariableAction",
						"Name":        "Set a variable", "VariableName": "Colour", "VariableValue": "blue",
						"Enabled": false,
					},
				},
			},
		},
	}
}

func TestSequenceBuiltOnlyThroughJSON(t *testing.T) {
	s := newTestServer(t, 0)
	pkgID := s.must(201, "POST", "/AdminService/wmi/SMS_Package", map[string]any{"Name": "Scripts"}).body["PackageID"].(string)
	id := s.setSequence(pkgBody(map[string]any{"Name": "Built from JSON"}), jsonOnlySequence(pkgID))
	pkg := s.getOne(id)
	xml := pkg["Sequence"].(string)
	for _, want := range []string{`type="SMS_TaskSequence_RunCommandLineAction"`, `property="CommandLine"`, `cmd /c echo hello`, `disable="true"`, `<expression type="SMS_TaskSequence_VariableConditionExpression">`, `<reference package="` + pkgID + `" />`} {
		if !strings.Contains(xml, want) {
			t.Errorf("Sequence lacks %s:\n%s", want, xml)
		}
	}
	if fmt.Sprint(pkg["TaskSequenceFlags"]) != "0" {
		t.Errorf("DANGLING_REF set although %s exists: %v", pkgID, pkg["TaskSequenceFlags"])
	}
	// the stored XML parses back to the same objects
	fromXML := s.importSequence(xml)
	stored := s.getSequence(id)
	if !jsonEqual(fromXML, stored) {
		t.Errorf("XML written from JSON does not parse back to the same objects")
	}
	step := stored["Steps"].([]any)[0].(map[string]any)["Steps"].([]any)[0].(map[string]any)
	if step["CommandLine"] != "cmd /c echo hello" || step["PackageID"] != pkgID || step["SuccessCodes"] != "0 3010" {
		t.Errorf("step read back: %v %v %v", step["CommandLine"], step["PackageID"], step["SuccessCodes"])
	}
	// deleting the referenced package sets DANGLING_REF; the reverse reference shows who uses it
	refs := s.must(200, "GET", "/AdminService/wmi/SMS_TaskSequencePackageReference", nil).body["value"].([]any)
	if len(refs) != 1 || refs[0].(map[string]any)["ObjectID"] != pkgID || refs[0].(map[string]any)["PackageID"] != id || refs[0].(map[string]any)["ObjectName"] != "Scripts" {
		t.Errorf("reverse references %v", refs)
	}
	s.must(200, "GET", "/AdminService/wmi/SMS_TaskSequencePackageReference(ObjectID='"+pkgID+"',PackageID='"+id+"')", nil)
	s.must(204, "DELETE", "/AdminService/wmi/SMS_Package('"+pkgID+"')", nil)
	if flags := s.getOne(id)["TaskSequenceFlags"]; fmt.Sprint(flags) != "1" {
		t.Errorf("after deleting %s, TaskSequenceFlags %v (want DANGLING_REF)", pkgID, flags)
	}
	expectError(t, s.do("POST", "/AdminService/wmi/SMS_TaskSequencePackageReference", map[string]any{"ObjectID": "x", "PackageID": "y"}), 400, "read-only")
}

func TestSetSequenceRefusesInvalidSequences(t *testing.T) {
	s := newTestServer(t, 0)
	bad := jsonOnlySequence("PS100009")
	inner := bad["Steps"].([]any)[0].(map[string]any)["Steps"].([]any)[0].(map[string]any)
	inner["Name"] = ""
	inner["Condition"].(map[string]any)["Operands"].([]any)[0].(map[string]any)["Operator"] = "sortOf"
	r := s.do("POST", "/AdminService/wmi/SMS_TaskSequencePackage.SetSequence", map[string]any{"TaskSequencePackage": pkgBody(map[string]any{"Name": "x"}), "TaskSequence": bad})
	expectError(t, r, 400, "Steps[0].Steps[0]")
	inner2 := r.body["error"].(map[string]any)["innererror"].(map[string]any)
	statuses := inner2["SMS_ExtendedStatus"].([]any)
	if len(statuses) != 2 || fmt.Sprint(inner2["ReturnValue"]) == "0" {
		t.Fatalf("extended status %v", inner2)
	}
	named := map[string]bool{}
	for _, x := range statuses {
		st := x.(map[string]any)
		if strings.HasPrefix(fmt.Sprint(st["ObjectInfo"]), "Steps[0].Steps[0]") {
			named[fmt.Sprint(st["ParameterInfo"])] = true
		}
	}
	if !named["Condition.Operands[0].Operator"] || !named["Name"] {
		t.Errorf("statuses do not name the step and its properties: %v", statuses)
	}
	if n := len(s.list("")); n != 0 {
		t.Errorf("a refused SetSequence created %d packages", n)
	}
	// above 2 MB: refused, saying why
	big := jsonOnlySequence("PS100009")
	group := big["Steps"].([]any)[0].(map[string]any)
	var many []any
	for i := 0; i < 700; i++ {
		many = append(many, map[string]any{"@odata.type": "#AdminService.SMS_TaskSequence_RunCommandLineAction", "Name": fmt.Sprint("step ", i), "CommandLine": strings.Repeat("x", 3000)})
	}
	group["Steps"] = many
	expectError(t, s.do("POST", "/AdminService/wmi/SMS_TaskSequencePackage.SetSequence", map[string]any{"TaskSequencePackage": pkgBody(map[string]any{"Name": "x"}), "TaskSequence": big}), 413, "2 MB")
}

func TestSaveExportLoadAndDriverCategories(t *testing.T) {
	s := newTestServer(t, 0)
	ts := map[string]any{
		"@odata.type": "#AdminService.SMS_TaskSequence",
		"Steps": []any{
			map[string]any{"@odata.type": "#AdminService.SMS_TaskSequence_ApplyWindowsSettingsAction", "Name": "Apply Windows Settings",
				"AdminPassword": "S3cret!pw", "ProductKey": "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE", "ComputerName": "PC1",
				"RegisteredOrgName": "Contoso", "RegisteredUserName": "IT", "TimeZone": "W. Europe Standard Time"},
			map[string]any{"@odata.type": "#AdminService.SMS_TaskSequence_AutoApplyAction", "Name": "Auto Apply Drivers",
				"CategoryList": []any{"DriverCategories:1f4a"}},
		},
	}
	r := s.must(200, "POST", "/AdminService/wmi/SMS_TaskSequence.SaveToXml", map[string]any{"TaskSequence": ts})
	saved, _ := r.body["ReturnValue"].(string)
	if !strings.Contains(saved, "S3cret!pw") || !strings.Contains(saved, "AAAAA-BBBBB") {
		t.Errorf("SaveToXml must keep secrets: %s", saved)
	}
	r = s.must(200, "POST", "/AdminService/wmi/SMS_TaskSequence.ExportXml", map[string]any{"Xml": saved})
	exported, _ := r.body["ReturnValue"].(string)
	if strings.Contains(exported, "S3cret!pw") || strings.Contains(exported, "AAAAA-BBBBB") || !strings.Contains(exported, "PC1") {
		t.Errorf("ExportXml must strip secrets and product keys only: %s", exported)
	}
	r = s.must(200, "POST", "/AdminService/wmi/SMS_TaskSequence.LoadFromXml", map[string]any{"Xml": saved})
	loaded, _ := r.body["ReturnValue"].(map[string]any)
	if loaded == nil || len(loaded["Steps"].([]any)) != 2 {
		t.Errorf("LoadFromXml: %.300s", r.raw)
	}
	id := s.setSequence(pkgBody(map[string]any{"Name": "Drivers"}), ts)
	s.setSequence(pkgBody(map[string]any{"Name": "No drivers"}), map[string]any{"@odata.type": "#AdminService.SMS_TaskSequence", "Steps": []any{}})
	r = s.must(200, "POST", "/AdminService/wmi/SMS_TaskSequencePackage.GetTSRelatedToDriverCategory", map[string]any{"CategoryUniqueId": "DriverCategories:1f4a"})
	if fmt.Sprint(r.body["PacakgeIds"]) != "["+id+"]" || fmt.Sprint(r.body["PackageNames"]) != "[Drivers]" {
		t.Errorf("GetTSRelatedToDriverCategory: %s", r.raw)
	}
}

func TestCreatingTheMissingApplicationClearsDanglingRef(t *testing.T) {
	s := newTestServer(t, 0)
	const model = "ScopeId_0A1B/Application_2C3D"
	ts := map[string]any{"@odata.type": "#AdminService.SMS_TaskSequence", "Steps": []any{
		map[string]any{"@odata.type": "#AdminService.SMS_TaskSequence_InstallApplicationAction", "Name": "Install Office", "ApplicationName": model},
	}}
	id := s.setSequence(pkgBody(map[string]any{"Name": "Apps"}), ts)
	pkg := s.getOne(id)
	refs := pkg["References"].([]any)
	if len(refs) != 1 || refs[0].(map[string]any)["Package"] != model || fmt.Sprint(refs[0].(map[string]any)["Type"]) != "1" {
		t.Fatalf("References %v", refs)
	}
	if fmt.Sprint(pkg["TaskSequenceFlags"]) != "1" {
		t.Fatalf("TaskSequenceFlags %v before the application exists", pkg["TaskSequenceFlags"])
	}
	s.must(201, "POST", "/AdminService/wmi/SMS_Application", map[string]any{"ModelName": model, "CI_UniqueID": model + "/1", "LocalizedDisplayName": "Office"})
	if flags := s.getOne(id)["TaskSequenceFlags"]; fmt.Sprint(flags) != "0" {
		t.Errorf("TaskSequenceFlags %v after the application was created", flags)
	}
	row := s.must(200, "GET", "/AdminService/wmi/SMS_TaskSequencePackageReference?$filter="+url.QueryEscape("PackageID eq '"+id+"'"), nil).body["value"].([]any)
	if len(row) != 1 || fmt.Sprint(row[0].(map[string]any)["ObjectType"]) != "512" {
		t.Errorf("reverse reference of an application: %v", row)
	}
}
