package server

import (
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
