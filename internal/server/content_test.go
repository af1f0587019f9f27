package server

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/auth"
)

// The content endpoints are signed-in routes: a manifest or a package's
// current content needs Read on the package (and the package in the
// caller's scopes, else it is absent); a blob needs a signed-in user.
// RefreshPkgSource needs Modify on the package.
func TestContentAuthorization(t *testing.T) {
	lib := filepath.Join(t.TempDir(), "library")
	s := startSecureServer(t, func(c *Config) { c.ContentDir = lib })
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "setup.cmd"), []byte("echo setup"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte("echo setup"))
	blob := hex.EncodeToString(h[:])
	newPackage := func(name string) string {
		return s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_Package", map[string]any{"Name": name, "PkgSourcePath": src}).body["PackageID"].(string)
	}
	in, out := newPackage("in scope"), newPackage("out of scope")
	lab := s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_SecuredCategory", map[string]any{"CategoryName": "Lab"}).body["CategoryID"].(string)
	s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_SecuredCategoryMembership", map[string]any{"CategoryID": lab, "ObjectKey": out, "ObjectTypeID": 2})
	s.must(204, s.admin, "DELETE", fmt.Sprintf("/AdminService/wmi/SMS_SecuredCategoryMembership(CategoryID='SMS00UNA',ObjectKey='%s',ObjectTypeID=2)", out), nil)
	if _, err := os.Stat(filepath.Join(lib, "manifests")); err != nil {
		t.Fatalf("the library is not in --content: %v", err)
	}

	tsOnly := s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_Role", map[string]any{
		"RoleName": "Task sequence reader",
		"Operations": []any{map[string]any{"@odata.type": "#AdminService.SMS_ARoleOperation", "ObjectTypeID": 20,
			"GrantedOperations": int(auth.Read)}},
	}).body["RoleID"].(string)
	analyst := s.addUser("analyst", []string{"SMS0006R"}, []string{"SMS00UNA"})
	osd := s.addUser("osd", []string{"SMS0007R"}, []string{"SMS00UNA"})
	reader := s.addUser("reader", []string{tsOnly}, []string{"SMS00UNA"})

	refresh := func(id string) string {
		return "/AdminService/wmi/SMS_Package('" + id + "')/AdminService.RefreshPkgSource"
	}
	for _, tc := range []struct {
		name, token, method, path string
		want                      int
	}{
		{"manifest without a token", "", "GET", "/tsprov/v1/content/" + in + ".1/manifest", 401},
		{"blob without a token", "", "GET", "/tsprov/v1/content/blobs/" + blob, 401},
		{"current without a token", "", "GET", "/tsprov/v1/content/packages/" + in, 401},
		{"manifest, analyst", analyst, "GET", "/tsprov/v1/content/" + in + ".1/manifest", 200},
		{"current, analyst", analyst, "GET", "/tsprov/v1/content/packages/" + in, 200},
		{"blob, analyst", analyst, "GET", "/tsprov/v1/content/blobs/" + blob, 200},
		{"manifest out of scope, analyst", analyst, "GET", "/tsprov/v1/content/" + out + ".1/manifest", 404},
		{"current out of scope, analyst", analyst, "GET", "/tsprov/v1/content/packages/" + out, 404},
		{"manifest, no right on packages", reader, "GET", "/tsprov/v1/content/" + in + ".1/manifest", 403},
		{"blob, no right on packages", reader, "GET", "/tsprov/v1/content/blobs/" + blob, 200},
		{"refresh, analyst", analyst, "POST", refresh(in), 403},
		{"refresh, OSD manager", osd, "POST", refresh(in), 200},
		{"refresh out of scope, OSD manager", osd, "POST", refresh(out), 404},
		{"snapshot progress without a token", "", "GET", "/tsprov/v1/content/packages/" + in + "/snapshot", 401},
		{"snapshot progress, analyst", analyst, "GET", "/tsprov/v1/content/packages/" + in + "/snapshot", 200},
		{"snapshot progress out of scope, analyst", analyst, "GET", "/tsprov/v1/content/packages/" + out + "/snapshot", 404},
		{"snapshot progress, no right on packages", reader, "GET", "/tsprov/v1/content/packages/" + in + "/snapshot", 403},
		{"manifest, full administrator", s.admin, "GET", "/tsprov/v1/content/" + out + ".1/manifest", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.method == "POST" {
				body = map[string]any{}
			}
			a := s.do(tc.token, tc.method, tc.path, body)
			if a.status != tc.want {
				t.Fatalf("%d, want %d: %.300s", a.status, tc.want, a.raw)
			}
			if a.status >= 400 {
				envelope(t, tc.name, a)
			}
		})
	}
	// The server's own folders are no package source, not even for a Full
	// Administrator: its database and secret key stay out of the library.
	for _, dir := range []string{s.dir, lib, filepath.Dir(s.dir)} {
		a := s.do(s.admin, "POST", "/AdminService/wmi/SMS_Package", map[string]any{"Name": "Secrets", "PkgSourcePath": dir})
		if a.status != 400 || !strings.Contains(string(a.raw), "a folder of the server") {
			t.Errorf("a package with the source %s: %d %.300s", dir, a.status, a.raw)
		}
	}
	missing := s.do(s.admin, "GET", "/tsprov/v1/content/PS1FFFFF.1/manifest", nil)
	hidden := s.do(analyst, "GET", "/tsprov/v1/content/"+out+".1/manifest", nil)
	if strings.ReplaceAll(string(hidden.raw), out, "PS1FFFFF") != string(missing.raw) {
		t.Errorf("out of scope answers\n%s\nbut a missing package\n%s", hidden.raw, missing.raw)
	}
}
