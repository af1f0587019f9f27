package adminservice_test

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The rules of the SMS_PackageBaseclass and SMS_TaskSequencePackage pages
// that tie properties together (docs/choices.md, "Package rules").

const tsPath = "/AdminService/wmi/SMS_TaskSequencePackage"

func TestNameIsRequired(t *testing.T) {
	s := newTestServer(t, 0)
	expectError(t, s.do("POST", tsPath, map[string]any{}), 400, "Name")
	expectError(t, s.do("POST", tsPath, map[string]any{"Description": "no name"}), 400, "Name")
	r := s.do("POST", tsPath+".SetSequence", map[string]any{
		"TaskSequencePackage": pkgBody(map[string]any{"Description": "no name"}),
		"TaskSequence":        map[string]any{"@odata.type": "#AdminService.SMS_TaskSequence", "Steps": []any{}},
	})
	expectError(t, r, 400, "Name")
	if n := len(s.list("")); n != 0 {
		t.Fatalf("refused creates left %d packages", n)
	}
	// PUT replaces the whole instance: a name is required there too
	id := s.create(map[string]any{"Name": "Named"})
	expectError(t, s.do("PUT", tsPath+"('"+id+"')", map[string]any{"Description": "nameless"}), 400, "Name")
	if got := s.getOne(id); got["Name"] != "Named" || got["Description"] != nil {
		t.Errorf("a refused PUT changed the package: %v %v", got["Name"], got["Description"])
	}
}

func TestShareNameRequiredForShareSpecific(t *testing.T) {
	s := newTestServer(t, 0)
	expectError(t, s.do("POST", tsPath, map[string]any{"Name": "x", "ShareType": 2}), 400, "ShareName")
	expectError(t, s.do("POST", tsPath, map[string]any{"Name": "x", "ShareType": 2, "ShareName": " "}), 400, "ShareName")
	id := s.create(map[string]any{"Name": "Shared", "ShareType": 2, "ShareName": `OSD\TS`})
	path := tsPath + "('" + id + "')"
	expectError(t, s.do("PATCH", path, map[string]any{"ShareName": ""}), 400, "ShareName")
	expectError(t, s.do("PUT", path, map[string]any{"Name": "Shared", "ShareType": 2}), 400, "ShareName")
	if got := s.getOne(id); got["ShareName"] != `OSD\TS` {
		t.Errorf("a refused write changed ShareName to %v", got["ShareName"])
	}
	s.must(200, "PATCH", path, map[string]any{"ShareType": 1, "ShareName": ""})
	other := s.create(map[string]any{"Name": "Common"})
	expectError(t, s.do("PATCH", tsPath+"('"+other+"')", map[string]any{"ShareType": 2}), 400, "ShareName")
}

func TestRefreshScheduleOnlyWithStorageDirect(t *testing.T) {
	s := newTestServer(t, 0)
	schedule := []any{map[string]any{"@odata.type": "#AdminService.SMS_ST_RecurInterval", "DaySpan": 7, "StartTime": "2026-01-01T00:00:00Z"}}
	expectError(t, s.do("POST", tsPath, map[string]any{"Name": "x", "RefreshSchedule": schedule}), 400, "PkgSourceFlag is 1")
	expectError(t, s.do("POST", tsPath, map[string]any{"Name": "x", "PkgSourceFlag": 4, "RefreshSchedule": schedule}), 400, "STORAGE_DIRECT")
	id := s.create(map[string]any{"Name": "Direct", "PkgSourceFlag": 2, "RefreshSchedule": schedule})
	path := tsPath + "('" + id + "')"
	if got := s.getOne(id)["RefreshSchedule"].([]any); len(got) != 1 {
		t.Fatalf("RefreshSchedule %v", got)
	}
	// the stored schedule holds PkgSourceFlag at STORAGE_DIRECT
	expectError(t, s.do("PATCH", path, map[string]any{"PkgSourceFlag": 1}), 400, "RefreshSchedule")
	if got := s.getOne(id); fmt.Sprint(got["PkgSourceFlag"]) != "2" {
		t.Errorf("a refused PATCH changed PkgSourceFlag to %v", got["PkgSourceFlag"])
	}
	s.must(200, "PATCH", path, map[string]any{"PkgSourceFlag": 1, "RefreshSchedule": []any{}})
	s.create(map[string]any{"Name": "No schedule", "RefreshSchedule": []any{}})
}

func TestPriorityDefaultsToNormal(t *testing.T) {
	s := newTestServer(t, 0)
	id := s.create(map[string]any{"Name": "p", "Priority": 1})
	if got := s.getOne(s.create(map[string]any{"Name": "q"})); fmt.Sprint(got["Priority"]) != "2" {
		t.Errorf("Priority %v on create, want 2 (NORMAL)", got["Priority"])
	}
	s.must(200, "PUT", tsPath+"('"+id+"')", map[string]any{"Name": "p"})
	if got := s.getOne(id); fmt.Sprint(got["Priority"]) != "2" {
		t.Errorf("Priority %v after a PUT that leaves it out, want 2", got["Priority"])
	}
	expectError(t, s.do("PATCH", tsPath+"('"+id+"')", map[string]any{"Priority": 4}), 400, "Priority")
}

// exportedValue reads one property of the instance an object.xml holds.
func exportedValue(t *testing.T, path, name string) (string, bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var inst struct {
		Properties []struct {
			Name  string  `xml:"NAME,attr"`
			Value *string `xml:"VALUE"`
		} `xml:"PROPERTY"`
	}
	if err := xml.Unmarshal(b, &inst); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, p := range inst.Properties {
		if p.Name == name && p.Value != nil {
			return *p.Value, true
		}
	}
	return "", false
}

func TestPkgFlagsKeepsEveryBitOfRealExports(t *testing.T) {
	s := newTestServer(t, 0)
	exports, _ := filepath.Glob("../../testdata/ts-corpus/*_object.xml")
	if len(exports) == 0 {
		t.Fatal("no object.xml exports in the corpus")
	}
	values := map[int64]bool{}
	for _, path := range exports {
		v, ok := exportedValue(t, path, "PkgFlags")
		if !ok {
			t.Fatalf("%s has no PkgFlags", filepath.Base(path))
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("%s: PkgFlags %q", filepath.Base(path), v)
		}
		values[n] = true
	}
	if !values[1] {
		t.Errorf("the corpus no longer has an export with PkgFlags 1: %v", values)
	}
	// beyond the exports: each documented bit, an undocumented one, all 32
	for _, n := range []int64{1 << 7, 1 << 23, 1<<24 | 1<<30, 0xFFFFFFFF} {
		values[n] = true
	}
	for n := range values {
		id := s.create(map[string]any{"Name": fmt.Sprint("flags ", n), "PkgFlags": n})
		if got := s.getOne(id)["PkgFlags"]; fmt.Sprint(got) != fmt.Sprint(n) {
			t.Errorf("PkgFlags %d reads back as %v", n, got)
		}
	}
	// the page reserves no bit: only values outside UInt32 are refused
	expectError(t, s.do("POST", tsPath, map[string]any{"Name": "x", "PkgFlags": int64(1) << 32}), 400, "PkgFlags")
	expectError(t, s.do("POST", tsPath, map[string]any{"Name": "x", "PkgFlags": -1}), 400, "PkgFlags")
}

// referenceSet is the References of a package as "Package/Program" strings.
func referenceSet(pkg map[string]any) []string {
	var out []string
	refs, _ := pkg["References"].([]any)
	for _, r := range refs {
		m := r.(map[string]any)
		out = append(out, fmt.Sprint(m["Package"], "/", m["Program"]))
	}
	return out
}

func TestBootImageIDChangeUpdatesReferences(t *testing.T) {
	s := newTestServer(t, 0)
	scripts := s.must(201, "POST", "/AdminService/wmi/SMS_Package", map[string]any{"Name": "Scripts"}).body["PackageID"].(string)
	boot := s.must(201, "POST", "/AdminService/wmi/SMS_BootImagePackage", map[string]any{"Name": "Boot x64"}).body["PackageID"].(string)
	id := s.setSequence(pkgBody(map[string]any{"Name": "Deploy"}), jsonOnlySequence(scripts))
	path := tsPath + "('" + id + "')"
	check := func(when string, wantRefs []string, wantFlags int) {
		t.Helper()
		pkg := s.getOne(id)
		if got := referenceSet(pkg); strings.Join(got, " ") != strings.Join(wantRefs, " ") {
			t.Errorf("%s: References %v, want %v", when, got, wantRefs)
		}
		if got := fmt.Sprint(pkg["ReferencesCount"]); got != fmt.Sprint(len(wantRefs)) {
			t.Errorf("%s: ReferencesCount %s, want %d", when, got, len(wantRefs))
		}
		if got := fmt.Sprint(pkg["TaskSequenceFlags"]); got != fmt.Sprint(wantFlags) {
			t.Errorf("%s: TaskSequenceFlags %s, want %d", when, got, wantFlags)
		}
	}
	check("after SetSequence", []string{scripts + "/*"}, 0)

	s.must(200, "PATCH", path, map[string]any{"BootImageID": boot})
	check("PATCH BootImageID", []string{scripts + "/*", boot + "/*"}, 0)
	rows := s.must(200, "GET", "/AdminService/wmi/SMS_TaskSequencePackageReference?$filter=ObjectID%20eq%20'"+boot+"'", nil).body["value"].([]any)
	if len(rows) != 1 || rows[0].(map[string]any)["PackageID"] != id || rows[0].(map[string]any)["ObjectName"] != "Boot x64" {
		t.Errorf("reverse references of the boot image: %v", rows)
	}

	const missing = "PS1FFFFF"
	s.must(200, "PATCH", path, map[string]any{"BootImageID": missing})
	check("PATCH a missing BootImageID", []string{scripts + "/*", missing + "/*"}, 1)

	s.must(200, "PUT", path, map[string]any{"Name": "Deploy", "BootImageID": ""})
	check("PUT BootImageID empty", []string{scripts + "/*"}, 0)

	// the same as SetSequence gives for that boot image
	s.must(200, "PATCH", path, map[string]any{"BootImageID": boot})
	viaPatch := referenceSet(s.getOne(id))
	other := s.setSequence(pkgBody(map[string]any{"Name": "Deploy too", "BootImageID": boot}), jsonOnlySequence(scripts))
	if viaSet := referenceSet(s.getOne(other)); strings.Join(viaSet, " ") != strings.Join(viaPatch, " ") {
		t.Errorf("References after PATCH %v, after SetSequence %v", viaPatch, viaSet)
	}

	// a package created with a BootImageID refers to it before any sequence
	fresh := s.create(map[string]any{"Name": "Fresh", "BootImageID": boot})
	if got := referenceSet(s.getOne(fresh)); strings.Join(got, " ") != boot+"/*" {
		t.Errorf("References of a package created with BootImageID: %v", got)
	}
}

func TestSourceRefreshMovesSourceDateAndLastRefreshTime(t *testing.T) {
	s := newTestServer(t, 0)
	id := s.create(map[string]any{"Name": "Refreshed", "RefreshPkgSourceFlag": true})
	path := tsPath + "('" + id + "')"
	times := func() (source, refresh time.Time, flag any) {
		t.Helper()
		pkg := s.getOne(id)
		var err error
		if source, err = timeOf(pkg["SourceDate"]); err != nil {
			t.Fatalf("SourceDate: %v", err)
		}
		if refresh, err = timeOf(pkg["LastRefreshTime"]); err != nil {
			t.Fatalf("LastRefreshTime: %v", err)
		}
		return source, refresh, pkg["RefreshPkgSourceFlag"]
	}
	created, createdRefresh, flag := times()
	if flag != false {
		t.Errorf("RefreshPkgSourceFlag reads %v after a create that set it, want false", flag)
	}
	if !created.Equal(createdRefresh) {
		t.Errorf("at creation SourceDate %v, LastRefreshTime %v", created, createdRefresh)
	}

	s.must(200, "PATCH", path, map[string]any{"Description": "not a refresh"})
	if source, refresh, _ := times(); !source.Equal(created) || !refresh.Equal(created) {
		t.Errorf("an update that is not a refresh moved SourceDate to %v, LastRefreshTime to %v", source, refresh)
	}

	s.must(200, "PATCH", path, map[string]any{"RefreshPkgSourceFlag": true})
	source, refresh, flag := times()
	if !source.After(created) || !refresh.Equal(source) {
		t.Errorf("after a refresh SourceDate %v, LastRefreshTime %v (created %v): both must move, together", source, refresh, created)
	}
	if flag != false {
		t.Errorf("RefreshPkgSourceFlag reads %v, want false", flag)
	}
}

// conditionSequence is a one-step sequence whose step has the condition
// operand given.
func conditionSequence(operand map[string]any) map[string]any {
	return map[string]any{
		"@odata.type": "#AdminService.SMS_TaskSequence",
		"Steps": []any{map[string]any{
			"@odata.type": "#AdminService.SMS_TaskSequence_RunCommandLineAction",
			"Name":        "Guarded", "CommandLine": "cmd /c exit 0",
			"Condition": map[string]any{"@odata.type": "#AdminService.SMS_TaskSequence_Condition", "Operands": []any{operand}},
		}},
	}
}

func software(props map[string]any) map[string]any {
	props["@odata.type"] = "#AdminService.SMS_TaskSequence_SoftwareConditionExpression"
	return props
}

func variable(name string) map[string]any {
	return map[string]any{"@odata.type": "#AdminService.SMS_TaskSequence_VariableConditionExpression", "Variable": name, "Operator": "exists"}
}

func not(operands ...any) map[string]any {
	return map[string]any{"@odata.type": "#AdminService.SMS_TaskSequence_ConditionOperator", "OperatorType": "not", "Operands": operands}
}

func TestConditionOperandRules(t *testing.T) {
	s := newTestServer(t, 0)
	const upgradeCode = "{A1B2C3D4-0000-1111-2222-333344445555}"
	const productCode = "{90160000-008C-0000-0000-0000000FF1CE}"
	const step = `Steps[0] "Guarded"`
	for _, tc := range []struct {
		name    string
		operand map[string]any
		warning string // a warning the stored sequence gets, naming step and property
		refusal string // the property path the error names; "" stored
	}{
		{"software by upgrade code", software(map[string]any{"Operator": "AnyVersion", "UpgradeCode": upgradeCode}), "", ""},
		{"software by product code", software(map[string]any{"Operator": "ThisVersion", "ProductCode": productCode, "Version": "16.0"}), "", ""},
		{"software by neither", software(map[string]any{"Operator": "AnyVersion", "ProductName": "Office"}), step + ": Condition.Operands[0].ProductCode: is required when UpgradeCode is not set", ""},
		{"software with empty codes", software(map[string]any{"Operator": "AnyVersion", "ProductCode": "", "UpgradeCode": ""}), step + ": Condition.Operands[0].ProductCode: is required when UpgradeCode is not set", ""},
		{"not of one operand", not(variable("OSDComputerName")), "", ""},
		{"not of a not", not(not(variable("OSDComputerName"))), "", ""},
		{"not of two operands", not(variable("A"), variable("B")), "", "Condition.Operands[0].Operands"},
		{"not of none", not(), "", "Condition.Operands[0].Operands"},
		{"nested not of two", map[string]any{"@odata.type": "#AdminService.SMS_TaskSequence_ConditionOperator", "OperatorType": "and",
			"Operands": []any{variable("A"), not(variable("B"), variable("C"))}}, "", "Condition.Operands[0].Operands[1].Operands"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(s.list(""))
			r := s.do("POST", tsPath+".SetSequence", map[string]any{
				"TaskSequencePackage": pkgBody(map[string]any{"Name": tc.name}),
				"TaskSequence":        conditionSequence(tc.operand),
			})
			if tc.refusal == "" {
				if r.status != 200 {
					t.Fatalf("refused: %s", r.raw)
				}
				warnings, _ := r.body["@tsprov.warnings"].([]any)
				switch {
				case tc.warning == "" && len(warnings) > 0:
					t.Errorf("unexpected warnings %v", warnings)
				case tc.warning != "" && (len(warnings) != 1 || !strings.HasPrefix(fmt.Sprint(warnings[0]), tc.warning)):
					t.Errorf("warnings %v, want one starting %q", warnings, tc.warning)
				}
				return
			}
			expectError(t, r, 400, step)
			statuses := r.body["error"].(map[string]any)["innererror"].(map[string]any)["SMS_ExtendedStatus"].([]any)
			var named []string
			for _, x := range statuses {
				named = append(named, fmt.Sprint(x.(map[string]any)["ObjectInfo"], ": ", x.(map[string]any)["ParameterInfo"]))
			}
			if len(named) != 1 || named[0] != step+": "+tc.refusal {
				t.Errorf("errors name %v, want exactly %s: %s", named, tc.refusal, r.raw)
			}
			if n := len(s.list("")); n != before {
				t.Errorf("a refused SetSequence changed the package count from %d to %d", before, n)
			}
		})
	}
}
