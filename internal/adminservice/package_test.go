package adminservice_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

var packageIDPattern = regexp.MustCompile(`^PS1[0-9A-F]{5}$`)

func TestCreateWithOnlyNameReadsBackDefaults(t *testing.T) {
	s := newTestServer(t, 0)
	r := s.must(201, "POST", "/AdminService/wmi/SMS_TaskSequencePackage", map[string]any{"Name": "Windows 11 23H2"})
	id, _ := r.body["PackageID"].(string)
	if !packageIDPattern.MatchString(id) {
		t.Fatalf("PackageID %q is not PS1 + 5 hex digits", id)
	}
	if loc := r.header.Get("Location"); !strings.HasSuffix(loc, "/AdminService/wmi/SMS_TaskSequencePackage('"+id+"')") {
		t.Errorf("Location %q", loc)
	}
	got := s.getOne(id)
	want := map[string]any{
		"Name": "Windows 11 23H2", "PackageType": "4", "ProgramFlags": "152084496", "PkgSourceFlag": "1",
		"ShareType": "1", "ForcedDisconnectDelay": "5", "ForcedDisconnectNumRetries": "2",
		"ForcedDisconnectEnabled": "false", "Duration": "0", "Category": "", "SourceVersion": "1",
		"SourceSite": "PS1", "StoredPkgVersion": "0", "IconSize": "0", "ExtendedDataSize": "0",
		"ISVDataSize": "0", "ReferencesCount": "0", "TaskSequenceFlags": "0", "Type": "1",
		"ActionInProgress": "0", "RefreshPkgSourceFlag": "false", "TsEnabled": "true", "Priority": "2",
		"__CLASS": "SMS_TaskSequencePackage", "__SUPERCLASS": "SMS_PackageBaseclass",
		"__DYNASTY": "SMS_BaseClass", "__GENUS": "2", "__SERVER": "TESTSRV",
		"__NAMESPACE": `root\sms\site_PS1`,
		"__RELPATH":   `SMS_TaskSequencePackage.PackageID="` + id + `"`,
		"__PATH":      `\\TESTSRV\root\sms\site_PS1:SMS_TaskSequencePackage.PackageID="` + id + `"`,
	}
	for k, v := range want {
		if fmt.Sprint(got[k]) != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if d := fmt.Sprint(got["__DERIVATION"]); d != "[SMS_PackageBaseclass SMS_BaseClass]" {
		t.Errorf("__DERIVATION %s", d)
	}
	if scopes := fmt.Sprint(got["SecuredScopeNames"]); scopes != "[Default]" {
		t.Errorf("SecuredScopeNames %s", scopes)
	}
	if sedo, _ := got["SedoObjectVersion"].(string); len(sedo) != 36 || got["@odata.etag"] != sedo {
		t.Errorf("SedoObjectVersion %q, etag %v", sedo, got["@odata.etag"])
	}
	if _, err := timeOf(got["SourceDate"]); err != nil {
		t.Errorf("SourceDate: %v", err)
	}
	if n := num(got["__PROPERTY_COUNT"]); n < 60 {
		t.Errorf("__PROPERTY_COUNT %d", n)
	}
}

func TestLazyPropertiesNullInCollectionsFilledByKey(t *testing.T) {
	s := newTestServer(t, 0)
	id := s.create(map[string]any{"Name": "Lazy", "Category": "OSD", "BootImageID": "PS100099"})
	items := s.list("")
	if len(items) != 1 {
		t.Fatalf("%d items", len(items))
	}
	listed := items[0]
	lazy := map[string]bool{}
	for _, n := range listed["__LAZYPROPERTIES"].([]any) {
		lazy[n.(string)] = true
	}
	for _, name := range []string{"Sequence", "References", "Category", "BootImageID", "TaskSequenceFlags", "Type", "SupportedOperatingSystems", "RefreshSchedule", "ISVData", "ExtendedData"} {
		if !lazy[name] {
			t.Errorf("__LAZYPROPERTIES lacks %s", name)
		}
		if v, ok := listed[name]; !ok || v != nil {
			t.Errorf("collection shows lazy %s = %v (present %v), want null", name, v, ok)
		}
	}
	if listed["Name"] != "Lazy" {
		t.Errorf("non-lazy Name missing from the list: %v", listed["Name"])
	}
	byKey := s.getOne(id)
	if byKey["Category"] != "OSD" || byKey["BootImageID"] != "PS100099" || fmt.Sprint(byKey["Type"]) != "1" {
		t.Errorf("key GET did not fill lazy values: Category %v BootImageID %v Type %v", byKey["Category"], byKey["BootImageID"], byKey["Type"])
	}
	if fmt.Sprint(byKey["__LAZYPROPERTIES"]) != fmt.Sprint(listed["__LAZYPROPERTIES"]) {
		t.Error("__LAZYPROPERTIES differs between list and key GET")
	}
}

func TestPutFromCollectionKeepsLazyValues(t *testing.T) {
	s := newTestServer(t, 0)
	id := s.create(map[string]any{
		"Name": "Keep me", "Category": "Servers", "CustomProgressMsg": "Hold on", "PkgSourceFlag": 2,
		"ISVData":                   "AQIDBA==",
		"SupportedOperatingSystems": []any{map[string]any{"@odata.type": "#AdminService.SMS_OS_Details", "Name": "Win NT", "Platform": "x64", "MinVersion": "10.00.0000.0", "MaxVersion": "10.00.9999.9999"}},
		"RefreshSchedule":           []any{map[string]any{"@odata.type": "#AdminService.SMS_ST_RecurInterval", "DaySpan": 7, "StartTime": "2026-01-01T00:00:00Z"}},
	})
	before := s.getOne(id)
	listed := s.list("")[0]
	listed["Description"] = "changed through PUT"
	s.must(200, "PUT", "/AdminService/wmi/SMS_TaskSequencePackage('"+id+"')", listed)
	after := s.getOne(id)
	for _, name := range []string{"Category", "CustomProgressMsg", "ISVData", "ISVDataSize", "SupportedOperatingSystems", "RefreshSchedule"} {
		if fmt.Sprint(after[name]) != fmt.Sprint(before[name]) {
			t.Errorf("%s changed from %v to %v", name, before[name], after[name])
		}
	}
	if fmt.Sprint(after["ISVDataSize"]) != "4" {
		t.Errorf("ISVDataSize %v, want 4 (follows ISVData)", after["ISVDataSize"])
	}
	if after["Description"] != "changed through PUT" {
		t.Errorf("Description %v", after["Description"])
	}
	if fmt.Sprint(after["SourceVersion"]) != "2" {
		t.Errorf("SourceVersion %v, want 2 after one update", after["SourceVersion"])
	}
	if after["SedoObjectVersion"] == before["SedoObjectVersion"] {
		t.Error("SedoObjectVersion did not change on write")
	}
}

func TestPutResetsOmittedWritablePropertiesPatchKeepsThem(t *testing.T) {
	s := newTestServer(t, 0)
	id := s.create(map[string]any{"Name": "A", "Description": "d", "Duration": 30})
	s.must(200, "PATCH", "/AdminService/wmi/SMS_TaskSequencePackage('"+id+"')", map[string]any{"Name": "B"})
	got := s.getOne(id)
	if got["Description"] != "d" || fmt.Sprint(got["Duration"]) != "30" || got["Name"] != "B" {
		t.Errorf("PATCH: %v %v %v", got["Name"], got["Description"], got["Duration"])
	}
	s.must(200, "PUT", "/AdminService/wmi/SMS_TaskSequencePackage('"+id+"')", map[string]any{"Name": "C"})
	got = s.getOne(id)
	if got["Description"] != nil || fmt.Sprint(got["Duration"]) != "0" || got["Name"] != "C" {
		t.Errorf("PUT: %v %v %v (omitted writable properties return to their defaults)", got["Name"], got["Description"], got["Duration"])
	}
	if fmt.Sprint(got["SourceVersion"]) != "3" {
		t.Errorf("SourceVersion %v after two updates", got["SourceVersion"])
	}
}

func TestRefusedWritesChangeNothing(t *testing.T) {
	s := newTestServer(t, 0)
	id := s.create(map[string]any{"Name": "Guarded"})
	path := "/AdminService/wmi/SMS_TaskSequencePackage('" + id + "')"
	tokens := make([]any, 16)
	for i := range tokens {
		tokens[i] = map[string]any{"@odata.type": "#AdminService.SMS_ST_NonRecurring", "StartTime": "2026-01-01T00:00:00Z"}
	}
	cases := []struct {
		name, method string
		body         any
		want         string
	}{
		{"changed read-only property", "PATCH", map[string]any{"SourceVersion": 99}, "SourceVersion"},
		{"changed read-only lazy property", "PATCH", map[string]any{"Sequence": "<sequence/>"}, "Sequence"},
		{"changed key", "PATCH", map[string]any{"PackageID": "PS1FFFFF"}, "PackageID"},
		{"wrong type", "PATCH", map[string]any{"Duration": "long"}, "Duration"},
		{"negative unsigned", "PATCH", map[string]any{"Duration": -1}, "Duration"},
		{"package type 3", "PATCH", map[string]any{"PackageType": 3}, "PackageType"},
		{"16 schedule tokens", "PATCH", map[string]any{"PkgSourceFlag": 2, "RefreshSchedule": tokens}, "max(15)"},
		{"undefined ProgramFlags bit", "PATCH", map[string]any{"ProgramFlags": 152084496 | 1<<30}, "ProgramFlags"},
		{"schedule value out of range", "PATCH", map[string]any{"PkgSourceFlag": 2, "RefreshSchedule": []any{map[string]any{"@odata.type": "#AdminService.SMS_ST_RecurInterval", "HourSpan": 24}}}, "HourSpan"},
		{"abstract schedule token", "PATCH", map[string]any{"PkgSourceFlag": 2, "RefreshSchedule": []any{map[string]any{"DayDuration": 1}}}, "abstract"},
		{"unknown property", "PATCH", map[string]any{"Colour": "blue"}, "Colour"},
		{"null for a Not_Null property", "PATCH", map[string]any{"TsEnabled": nil}, "TsEnabled"},
		{"malformed JSON", "PATCH", `{"Name": `, "malformed JSON"},
		{"JSON array body", "PUT", `[{"Name":"x"}]`, "JSON object"},
		{"empty body", "PUT", "", "empty body"},
		{"read-only on create", "POST", map[string]any{"Name": "x", "SourceSite": "XYZ"}, "SourceSite"},
		{"package type 3 on create", "POST", map[string]any{"Name": "x", "PackageType": 3}, "PackageType"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := s.getOne(id)
			count := len(s.list(""))
			target := path
			if tc.method == "POST" {
				target = "/AdminService/wmi/SMS_TaskSequencePackage"
			}
			r := s.do(tc.method, target, tc.body)
			expectError(t, r, 400, tc.want)
			after := s.getOne(id)
			if !jsonEqual(before, after) {
				t.Errorf("stored instance changed:\nbefore %v\nafter  %v", before, after)
			}
			if n := len(s.list("")); n != count {
				t.Errorf("instance count went from %d to %d", count, n)
			}
		})
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestReadOnlyValuesMaySentUnchanged(t *testing.T) {
	s := newTestServer(t, 0)
	id := s.create(map[string]any{"Name": "Round trip"})
	whole := s.getOne(id)
	whole["Name"] = "Round trip 2"
	r := s.must(200, "PUT", "/AdminService/wmi/SMS_TaskSequencePackage('"+id+"')", whole)
	if r.body["Name"] != "Round trip 2" {
		t.Errorf("Name %v", r.body["Name"])
	}
}

func TestStaleETagIsRefused(t *testing.T) {
	s := newTestServer(t, 0)
	id := s.create(map[string]any{"Name": "Versioned"})
	path := "/AdminService/wmi/SMS_TaskSequencePackage('" + id + "')"
	first := s.getOne(id)["@odata.etag"].(string)
	s.must(200, "PATCH", path, map[string]any{"Name": "v2"}, "If-Match", `"`+first+`"`)
	r := s.do("PATCH", path, map[string]any{"Name": "v3"}, "If-Match", `"`+first+`"`)
	expectError(t, r, 412, "changed since it was read")
	if s.getOne(id)["Name"] != "v2" {
		t.Error("a refused conditional update was applied")
	}
	expectError(t, s.do("DELETE", path, nil, "If-Match", first), 412, "changed")
	s.must(204, "DELETE", path, nil, "If-Match", "*")
}

func TestDeleteAndIdsAreNeverReused(t *testing.T) {
	s := newTestServer(t, 0)
	a := s.create(map[string]any{"Name": "a"})
	s.must(204, "DELETE", "/AdminService/wmi/SMS_TaskSequencePackage('"+a+"')", nil)
	expectError(t, s.do("GET", "/AdminService/wmi/SMS_TaskSequencePackage('"+a+"')", nil), 404, a)
	expectError(t, s.do("DELETE", "/AdminService/wmi/SMS_TaskSequencePackage('"+a+"')", nil), 404, a)
	b := s.create(map[string]any{"Name": "b"})
	if b == a {
		t.Fatalf("id %s handed out twice", a)
	}
	db := s.db
	// a second server on the same file (as after a restart) continues the counter
	s2 := startServer(t, db, 0)
	c := s2.create(map[string]any{"Name": "c"})
	if c == a || c == b || c <= b {
		t.Errorf("after restart got %s; earlier ids %s, %s", c, a, b)
	}
}
