package server

import (
	"strings"
	"testing"
)

// TestStrictRootSharesSecurity: /odata/ is served by the same server, behind
// the same sign-in, roles and origin rules as /AdminService/wmi/.
func TestStrictRootSharesSecurity(t *testing.T) {
	s := startSecureServer(t, nil)
	for _, path := range []string{"/odata/", "/odata/$metadata", "/odata/SMS_TaskSequencePackage"} {
		a := s.do("", "GET", path, nil)
		envelope(t, "GET "+path+" without credentials", a)
		if a.status != 401 {
			t.Errorf("GET %s without credentials: %d, want 401", path, a.status)
		}
	}
	created := s.must(201, s.admin, "POST", "/odata/SMS_TaskSequencePackage", map[string]any{"Name": "Through the stack"})
	id, _ := created.body["PackageID"].(string)
	if loc := created.header.Get("Location"); loc != s.url+"/odata/SMS_TaskSequencePackage('"+id+"')" {
		t.Errorf("Location %q", loc)
	}
	reader := s.addUser("odata-reader", []string{"SMS0006R"}, []string{"SMS00UNA"})
	got := s.must(200, reader, "GET", "/odata/SMS_TaskSequencePackage('"+id+"')", nil)
	if got.body["Name"] != "Through the stack" {
		t.Errorf("reader reads %v", got.body["Name"])
	}
	a := s.do(reader, "PATCH", "/odata/SMS_TaskSequencePackage('"+id+"')", map[string]any{"Description": "x"})
	envelope(t, "PATCH by a reader", a)
	if a.status != 403 || !strings.Contains(string(a.raw), "error") {
		t.Errorf("PATCH by a read-only administrator: %d %s", a.status, a.raw)
	}
}
