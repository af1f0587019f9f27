package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/auth"
)

// TestMediaRights: GetTsPolicies needs the right to create media,
// GetTsPoliciesSaMedia the right to create stand-alone media, each on top
// of read; a role that grants one does not grant the other.
func TestMediaRights(t *testing.T) {
	s := startSecureServer(t, nil)
	id := s.must(201, s.admin, "POST", tsPath, map[string]any{"Name": "media"}).body["PackageID"].(string)
	role := func(name string, ops auth.Op) string {
		return s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_Role", map[string]any{
			"RoleName": name,
			"Operations": []any{map[string]any{"@odata.type": "#AdminService.SMS_ARoleOperation", "ObjectTypeID": 20,
				"GrantedOperations": int(ops)}},
		}).body["RoleID"].(string)
	}
	body := map[string]any{"AdvertisementID": "PS1F0001", "PackageID": id}
	cases := []struct {
		name                   string
		ops                    auth.Op
		media, saMedia, config int
	}{
		{"read and media", auth.Read | auth.CreateMedia, 200, 403, 200},
		{"read and stand-alone media", auth.Read | auth.CreateStandAloneMedia, 403, 200, 200},
		{"read only", auth.Read, 403, 403, 403},
	}
	for _, c := range cases {
		token := s.addUser("u-"+c.name, []string{role(c.name, c.ops)}, []string{"SMS00UNA"})
		for method, want := range map[string]int{"GetTsPolicies": c.media, "GetTsPoliciesSaMedia": c.saMedia} {
			if a := s.do(token, "POST", tsPath+"."+method, body); a.status != want {
				t.Errorf("%s: %s answers %d, want %d\n%s", c.name, method, a.status, want, a.raw)
			}
		}
		if a := s.do(token, "POST", tsPath+".GetClientConfigPolicies", map[string]any{}); a.status != c.config {
			t.Errorf("%s: GetClientConfigPolicies answers %d, want %d", c.name, a.status, c.config)
		}
	}
}

// TestPoliciesOfAHiddenChild: the policies of a task sequence carry the
// sequences of the children it runs, secrets included; a child outside
// the caller's security scopes is treated as missing, whether the parent
// is stored or passed in memory, and none of its secrets leaves the server.
func TestPoliciesOfAHiddenChild(t *testing.T) {
	s := startSecureServer(t, nil)
	lab := s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_SecuredCategory", map[string]any{"CategoryName": "Lab"}).body["CategoryID"].(string)
	child := s.storeSequence(s.admin, "child", secretSequenceXML("hidden"))
	s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_SecuredCategoryMembership", map[string]any{"CategoryID": lab, "ObjectKey": child, "ObjectTypeID": 20})
	s.must(204, s.admin, "DELETE", fmt.Sprintf("/AdminService/wmi/SMS_SecuredCategoryMembership(CategoryID='SMS00UNA',ObjectKey='%s',ObjectTypeID=20)", child), nil)
	parentXML := `<sequence version="3.10"><subtasksequence type="SMS_TaskSequence_SubTasksequence" name="Run child" description=""><action>SubTasksequence.exe</action>` +
		`<defaultVarList><variable name="OSDSubTasksequencePackageID" property="TsPackageID">` + child + `</variable>` +
		`<variable name="TsName" property="TsName">child</variable></defaultVarList></subtasksequence></sequence>`
	parent := s.storeSequence(s.admin, "parent", parentXML)
	boot := s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_BootImagePackage", map[string]any{"Name": "Boot"}).body["PackageID"].(string)

	// the administrator with every scope gets the child's policy
	all := s.must(200, s.admin, "POST", tsPath+".GetTsPolicies", map[string]any{"AdvertisementID": "PS1F0001", "PackageID": parent})
	if !strings.Contains(string(all.raw), `PolicyID=\"PS1F0001-`+child+`-6F6BCC28\"`) {
		t.Fatalf("the child's policy is missing for the administrator: %.400s", all.raw)
	}
	osd := s.addUser("osd", []string{"SMS0007R"}, []string{"SMS00UNA"})
	seq := s.must(200, s.admin, "POST", tsPath+".ImportSequence", map[string]any{"SequenceXML": parentXML}).body["TaskSequence"]
	for name, body := range map[string]map[string]any{
		"stored parent":    {"AdvertisementID": "PS1F0001", "PackageID": parent},
		"parent in memory": {"AdvertisementID": "PS1F0001", "TaskSequence": seq, "BootImageID": boot},
	} {
		for _, method := range []string{"GetTsPolicies", "GetTsPoliciesSaMedia"} {
			a := s.do(osd, "POST", tsPath+"."+method, body)
			if a.status != 404 || !strings.Contains(string(a.raw), child) || !strings.Contains(string(a.raw), "does not exist") {
				t.Errorf("%s, %s: %d %.400s; want 404 as for a missing child", name, method, a.status, a.raw)
			}
			for _, secret := range secretValues("hidden") {
				if strings.Contains(string(a.raw), secret) {
					t.Errorf("%s, %s: the answer holds %q", name, method, secret)
				}
			}
		}
	}
}
