package odata_test

import (
	"strings"
	"testing"
)

// TestExpandReferences: $expand follows the references between a task
// sequence and the packages it uses, both ways, and from a reference row.
func TestExpandReferences(t *testing.T) {
	s := newTestServer(t, 0)
	pkg := s.must(201, "POST", "/odata/SMS_Package", map[string]any{"Name": "Scripts"}).body["PackageID"].(string)
	ts := map[string]any{"Steps": []any{map[string]any{
		"@odata.type": "#AdminService.SMS_TaskSequence_RunCommandLineAction",
		"Name":        "Say hello", "CommandLine": "cmd /c echo hello", "PackageID": pkg,
	}}}
	id := s.create(map[string]any{"Name": "Uses Scripts"})
	s.must(200, "POST", "/odata/"+tsClass+"/AdminService.SetSequence", map[string]any{"TaskSequencePackage": map[string]any{"PackageID": id}, "TaskSequence": ts})
	s.create(map[string]any{"Name": "Uses nothing"})

	r := s.must(200, "GET", "/odata/"+tsClass+"('"+id+"')?$expand=ReferencedPackages", nil)
	refs, ok := r.body["ReferencedPackages"].([]any)
	if !ok || len(refs) != 1 {
		t.Fatalf("ReferencedPackages %v", r.body["ReferencedPackages"])
	}
	ref := refs[0].(map[string]any)
	if ref["PackageID"] != pkg || ref["@odata.type"] != "#AdminService.SMS_Package" || ref["Name"] != "Scripts" {
		t.Errorf("expanded package %v", ref)
	}

	by := s.must(200, "GET", "/odata/SMS_Package('"+pkg+"')?$expand=ReferencedBy", nil)
	users, _ := by.body["ReferencedBy"].([]any)
	if len(users) != 1 || users[0].(map[string]any)["PackageID"] != id {
		t.Errorf("ReferencedBy %v", by.body["ReferencedBy"])
	}
	for _, v := range s.must(200, "GET", "/odata/"+tsClass+"?$expand=*", nil).body["value"].([]any) {
		row := v.(map[string]any)
		want := 0
		if row["PackageID"] == id {
			want = 1
		}
		if got, _ := row["ReferencedPackages"].([]any); len(got) != want {
			t.Errorf("%s expands %d referenced packages, want %d", row["Name"], len(got), want)
		}
		if got, ok := row["ReferencedBy"].([]any); !ok || len(got) != 0 {
			t.Errorf("$expand=*: the inherited ReferencedBy of %s is %v", row["Name"], row["ReferencedBy"])
		}
	}

	row := s.must(200, "GET", "/odata/SMS_TaskSequencePackageReference(ObjectID='"+pkg+"',PackageID='"+id+"')?$expand=TaskSequencePackage,ReferencedPackage", nil)
	if tp, _ := row.body["TaskSequencePackage"].(map[string]any); tp["PackageID"] != id {
		t.Errorf("TaskSequencePackage %v", row.body["TaskSequencePackage"])
	}
	if rp, _ := row.body["ReferencedPackage"].(map[string]any); rp["PackageID"] != pkg {
		t.Errorf("ReferencedPackage %v", row.body["ReferencedPackage"])
	}

	s.must(204, "DELETE", "/odata/SMS_Package('"+pkg+"')", nil)
	row = s.must(200, "GET", "/odata/SMS_TaskSequencePackageReference(ObjectID='"+pkg+"',PackageID='"+id+"')?$expand=ReferencedPackage", nil)
	if v, ok := row.body["ReferencedPackage"]; !ok || v != nil {
		t.Errorf("a dangling reference expands to %v (present %v), want null", v, ok)
	}

	expectError(t, s.do("GET", "/odata/"+tsClass+"?$expand=Nope", nil), 400, "Nope")
	expectError(t, s.do("GET", "/odata/"+tsClass+"?$expand=ReferencedPackages($select=Name)", nil), 501, "$expand")
	md := string(s.must(200, "GET", "/odata/$metadata", nil).raw)
	if !strings.Contains(md, `<NavigationProperty Name="ReferencedPackages" Type="Collection(AdminService.SMS_PackageBaseclass)" />`) {
		t.Error("$metadata does not declare ReferencedPackages")
	}
}
