package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/auth"
)

// TestDeploymentScopes: a deployment names only a package and a collection
// its author may see; one outside the author's security scopes is refused
// with the very answer a missing one gets, and nothing is stored.
func TestDeploymentScopes(t *testing.T) {
	s := startSecureServer(t, nil)
	lab := s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_SecuredCategory", map[string]any{"CategoryName": "Lab"}).body["CategoryID"].(string)
	move := func(key string, objectType int) {
		s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_SecuredCategoryMembership", map[string]any{"CategoryID": lab, "ObjectKey": key, "ObjectTypeID": objectType})
		s.must(204, s.admin, "DELETE", fmt.Sprintf("/AdminService/wmi/SMS_SecuredCategoryMembership(CategoryID='SMS00UNA',ObjectKey='%s',ObjectTypeID=%d)", key, objectType), nil)
	}
	in := s.must(201, s.admin, "POST", tsPath, map[string]any{"Name": "in scope"}).body["PackageID"].(string)
	out := s.must(201, s.admin, "POST", tsPath, map[string]any{"Name": "out of scope"}).body["PackageID"].(string)
	move(out, 20)
	coll := s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_Collection", map[string]any{"Name": "Desktops"}).body["CollectionID"].(string)
	hidden := s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_Collection", map[string]any{"Name": "Lab machines"}).body["CollectionID"].(string)
	move(hidden, 1)

	osd := s.addUser("osd", []string{"SMS0007R"}, []string{"SMS00UNA"})
	deploy := func(pkg, c string) answer {
		return s.do(osd, "POST", "/AdminService/wmi/SMS_Advertisement", map[string]any{"AdvertisementName": "d", "CollectionID": c, "PackageID": pkg, "ProgramName": "*"})
	}
	for _, c := range []struct {
		name, pkg, coll, missing, target string
	}{
		{"a package out of scope", out, coll, "PS1FFFFF", "PackageID"},
		{"a collection out of scope", in, hidden, "PS1FFFFF", "CollectionID"},
	} {
		a := deploy(c.pkg, c.coll)
		var b answer
		if c.target == "PackageID" {
			b = deploy(c.missing, c.coll)
		} else {
			b = deploy(c.pkg, c.missing)
		}
		hiddenID := c.pkg
		if c.target == "CollectionID" {
			hiddenID = c.coll
		}
		if a.status != 400 || !strings.Contains(string(a.raw), `"target":"`+c.target+`"`) ||
			strings.ReplaceAll(string(a.raw), hiddenID, c.missing) != string(b.raw) {
			t.Errorf("%s: %d %s\nwant the answer for a missing one: %d %s", c.name, a.status, a.raw, b.status, b.raw)
		}
	}
	if n := len(s.must(200, s.admin, "GET", "/AdminService/wmi/SMS_Advertisement", nil).body["value"].([]any)); n != 0 {
		t.Fatalf("%d deployments stored after the refusals", n)
	}
	// in scope, the same author deploys
	s.must(201, osd, "POST", "/AdminService/wmi/SMS_Advertisement", map[string]any{"AdvertisementName": "d", "CollectionID": coll, "PackageID": in, "ProgramName": "*"})

	// a role that may create deployments but not read task sequences: 403
	op := func(t, ops int) map[string]any {
		return map[string]any{"@odata.type": "#AdminService.SMS_ARoleOperation", "ObjectTypeID": t, "GrantedOperations": ops}
	}
	role := s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_Role", map[string]any{"RoleName": "Deployer",
		"Operations": []any{op(3, int(auth.Read|auth.Create)), op(1, int(auth.Read))}}).body["RoleID"].(string)
	deployer := s.addUser("deployer", []string{role}, []string{"SMS00UNA"})
	if a := s.do(deployer, "POST", "/AdminService/wmi/SMS_Advertisement", map[string]any{"AdvertisementName": "d2", "CollectionID": coll, "PackageID": in, "ProgramName": "*"}); a.status != 403 {
		t.Errorf("deployment without Read on the task sequence: %d %s", a.status, a.raw)
	}
}
