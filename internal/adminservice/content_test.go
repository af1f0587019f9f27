package adminservice_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/content"
)

// sourceTree writes files (relative path → content) under a new folder.
func sourceTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, body := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// createPackage posts a package of class with a source folder.
func (s *testServer) createPackage(class, name, source string) map[string]any {
	s.t.Helper()
	r := s.must(201, "POST", "/AdminService/wmi/"+class, map[string]any{"Name": name, "PkgSourcePath": source, "PkgSourceFlag": 2})
	return r.body
}

func (s *testServer) getPackage(class, id string) map[string]any {
	s.t.Helper()
	r := s.must(200, "GET", "/AdminService/wmi/"+class+"('"+id+"')", nil)
	return r.body["value"].([]any)[0].(map[string]any)
}

func TestContentEndpoints(t *testing.T) {
	s := newTestServer(t, 0)
	files := map[string]string{
		"setup.exe":        strings.Repeat("installer ", 5000),
		"Drivers/net.inf":  "[Version]",
		"Drivers/copy.inf": "[Version]",
	}
	src := sourceTree(t, files)
	pkg := s.createPackage("SMS_Package", "Office", src)
	id := pkg["PackageID"].(string)
	if num(pkg["SourceVersion"]) != 1 || num(pkg["PackageSize"]) != 49 { // 50018 bytes → 49 KB
		t.Errorf("created package: SourceVersion %v, PackageSize %v KB; want 1 and 49", pkg["SourceVersion"], pkg["PackageSize"])
	}
	cur := s.must(200, "GET", "/tsprov/v1/content/packages/"+id, nil).body
	if cur["current"] != id+".1" || cur["packageId"] != id {
		t.Fatalf("current content %v, want %s.1", cur, id)
	}
	man := s.must(200, "GET", "/tsprov/v1/content/"+id+".1/manifest", nil)
	var m struct {
		ContentID     string `json:"contentId"`
		ContentNumber int64  `json:"contentNumber"`
		PackageID     string `json:"packageId"`
		SourceVersion int64  `json:"sourceVersion"`
		Hash          string `json:"hash"`
		Size          int64  `json:"size"`
		Files         []struct {
			Path   string `json:"path"`
			Size   int64  `json:"size"`
			SHA256 string `json:"sha256"`
		} `json:"files"`
	}
	if err := json.Unmarshal(man.raw, &m); err != nil {
		t.Fatal(err)
	}
	local, err := content.HashDir(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.ContentID != id+".1" || m.PackageID != id || m.SourceVersion != 1 || m.Hash != local.Hash || m.Size != 50018 || m.ContentNumber < 1 {
		t.Errorf("manifest head %+v; want %s.1 with hash %s and 50018 bytes", m, id, local.Hash)
	}
	var paths []string
	for _, f := range m.Files {
		paths = append(paths, f.Path)
		if f.SHA256 != sum(files[f.Path]) || f.Size != int64(len(files[f.Path])) {
			t.Errorf("manifest file %+v does not describe %s", f, f.Path)
		}
	}
	if got := strings.Join(paths, ","); got != "Drivers/copy.inf,Drivers/net.inf,setup.exe" {
		t.Errorf("manifest files %s", got)
	}

	setup := sum(files["setup.exe"])
	blob := s.must(200, "GET", "/tsprov/v1/content/blobs/"+setup, nil)
	if string(blob.raw) != files["setup.exe"] || blob.header.Get("ETag") != `"`+setup+`"` || blob.header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("blob: %d bytes, ETag %q, type %q", len(blob.raw), blob.header.Get("ETag"), blob.header.Get("Content-Type"))
	}
	part := s.must(206, "GET", "/tsprov/v1/content/blobs/"+setup, nil, "Range", "bytes=10-19")
	if string(part.raw) != files["setup.exe"][10:20] || part.header.Get("Content-Range") != "bytes 10-19/50000" {
		t.Errorf("range answer %q, Content-Range %q", part.raw, part.header.Get("Content-Range"))
	}
	tail := s.must(206, "GET", "/tsprov/v1/content/blobs/"+setup, nil, "Range", "bytes=-5")
	if string(tail.raw) != files["setup.exe"][49995:] {
		t.Errorf("suffix range answer %q", tail.raw)
	}
	head := s.must(200, "HEAD", "/tsprov/v1/content/blobs/"+setup, nil)
	if head.header.Get("Content-Length") != "50000" || len(head.raw) != 0 {
		t.Errorf("HEAD: Content-Length %q, body %d bytes", head.header.Get("Content-Length"), len(head.raw))
	}
	s.must(304, "GET", "/tsprov/v1/content/blobs/"+setup, nil, "If-None-Match", `"`+setup+`"`)

	for _, tc := range []struct {
		name, path string
		headers    []string
		status     int
		msg        string
	}{
		{"range past the end", "/tsprov/v1/content/blobs/" + setup, []string{"Range", "bytes=50000-"}, 416, "outside the file"},
		{"range that does not parse", "/tsprov/v1/content/blobs/" + setup, []string{"Range", "lines=1-2"}, 416, "outside the file"},
		{"absent blob", "/tsprov/v1/content/blobs/" + sum("nothing"), nil, 404, "holds no file"},
		{"blob path escaping", "/tsprov/v1/content/blobs/..%2F..%2Fetc", nil, 400, ""},
		{"upper-case blob name", "/tsprov/v1/content/blobs/" + strings.ToUpper(setup), nil, 404, "SHA-256"},
		{"unknown version", "/tsprov/v1/content/" + id + ".7/manifest", nil, 404, "no content " + id + ".7"},
		{"unknown package content", "/tsprov/v1/content/PS1FFFFF.1/manifest", nil, 404, "no package PS1FFFFF"},
		{"content id without version", "/tsprov/v1/content/" + id + "/manifest", nil, 404, "<PackageID>.<SourceVersion>"},
		{"unknown package", "/tsprov/v1/content/packages/PS1FFFFF", nil, 404, "no package PS1FFFFF"},
		{"unknown leaf", "/tsprov/v1/content/" + id + ".1/files", nil, 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do("GET", tc.path, nil, tc.headers...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.raw)
			}
			if tc.msg != "" {
				expectError(t, r, tc.status, tc.msg)
			}
		})
	}
	if r := s.do("GET", "/tsprov/v1/content/blobs/"+setup, nil, "Range", "bytes=60000-"); r.header.Get("Content-Range") != "bytes */50000" {
		t.Errorf("416 Content-Range %q, want bytes */50000", r.header.Get("Content-Range"))
	}
	s.must(405, "POST", "/tsprov/v1/content/blobs/"+setup, "")
}

func TestPackageWithoutSourceHasNoContent(t *testing.T) {
	s := newTestServer(t, 0)
	r := s.must(201, "POST", "/AdminService/wmi/SMS_Package", map[string]any{"Name": "No source"})
	id := r.body["PackageID"].(string)
	expectError(t, s.do("GET", "/tsprov/v1/content/packages/"+id, nil), 404, "has no content")
}

func TestCreateWithBadSourceChangesNothing(t *testing.T) {
	s := newTestServer(t, 0)
	outside := sourceTree(t, map[string]string{"secret.txt": "x"})
	escaping := sourceTree(t, map[string]string{"ok.txt": "ok"})
	if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(escaping, "link.txt")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, source, msg string }{
		{"missing", filepath.Join(t.TempDir(), "gone"), "does not exist"},
		{"symlink leaving", escaping, "leaves the source folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do("POST", "/AdminService/wmi/SMS_Package", map[string]any{"Name": "Bad", "PkgSourcePath": tc.source})
			expectError(t, r, 400, tc.msg)
		})
	}
	list := s.must(200, "GET", "/AdminService/wmi/SMS_Package", nil).body["value"].([]any)
	contents := s.must(200, "GET", "/AdminService/wmi/SMS_Content", nil).body["value"].([]any)
	if len(list) != 0 || len(contents) != 0 {
		t.Errorf("a refused create left %d packages and %d contents", len(list), len(contents))
	}
	entries, _ := os.ReadDir(filepath.Join(s.lib.Dir(), "manifests"))
	if len(entries) != 0 {
		t.Errorf("a refused create left %d manifests", len(entries))
	}
}

func TestRefreshPkgSource(t *testing.T) {
	s := newTestServer(t, 0)
	src := sourceTree(t, map[string]string{"a.txt": "one", "sub/b.txt": "two"})
	for _, class := range []string{"SMS_Package", "SMS_DriverPackage", "SMS_ImagePackage", "SMS_BootImagePackage", "SMS_OperatingSystemInstallPackage", "SMS_SoftwareUpdatesPackage"} {
		t.Run(class, func(t *testing.T) {
			pkg := s.createPackage(class, "Refreshed", src)
			id := pkg["PackageID"].(string)
			refresh := "/AdminService/wmi/" + class + "('" + id + "')/AdminService.RefreshPkgSource"
			r := s.must(200, "POST", refresh, map[string]any{})
			if num(r.body["ReturnValue"]) != 0 {
				t.Fatalf("RefreshPkgSource: %s", r.raw)
			}
			if w, _ := r.body["@tsprov.warnings"].([]any); len(w) != 1 || !strings.Contains(w[0].(string), "unchanged: SourceVersion stays 1") {
				t.Errorf("unchanged refresh warnings %v", r.body["@tsprov.warnings"])
			}
			if v := num(s.getPackage(class, id)["SourceVersion"]); v != 1 {
				t.Errorf("SourceVersion after an unchanged refresh = %d, want 1", v)
			}
		})
	}

	pkg := s.createPackage("SMS_Package", "Changing", src)
	id := pkg["PackageID"].(string)
	refresh := "/AdminService/wmi/SMS_Package('" + id + "')/AdminService.RefreshPkgSource"
	first := s.getPackage("SMS_Package", id)
	if err := os.WriteFile(filepath.Join(src, "sub", "b.txt"), []byte("two, changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.must(200, "POST", refresh, map[string]any{})
	after := s.getPackage("SMS_Package", id)
	if num(after["SourceVersion"]) != 2 || after["SourceDate"] == first["SourceDate"] || after["LastRefreshTime"] == first["LastRefreshTime"] {
		t.Errorf("after a changed refresh: SourceVersion %v, SourceDate %v (was %v), LastRefreshTime %v (was %v)",
			after["SourceVersion"], after["SourceDate"], first["SourceDate"], after["LastRefreshTime"], first["LastRefreshTime"])
	}
	if cur := s.must(200, "GET", "/tsprov/v1/content/packages/"+id, nil).body["current"]; cur != id+".2" {
		t.Errorf("current content %v, want %s.2", cur, id)
	}
	local, err := content.HashDir(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	old := s.must(200, "GET", "/tsprov/v1/content/"+id+".1/manifest", nil).body["hash"]
	now := s.must(200, "GET", "/tsprov/v1/content/"+id+".2/manifest", nil).body["hash"]
	if now != local.Hash || old == now {
		t.Errorf("hashes: .1 %v, .2 %v, folder %s", old, now, local.Hash)
	}

	// The content classes answer queries like every class.
	q := s.must(200, "GET", "/tsprov/v1/wql?q="+urlQuery(fmt.Sprintf("SELECT * FROM SMS_PackageToContent WHERE PackageID = '%s'", id)), nil).body["value"].([]any)
	if len(q) != 2 {
		t.Fatalf("WQL over SMS_PackageToContent: %d rows, want 2", len(q))
	}
	f := s.must(200, "GET", "/AdminService/wmi/SMS_Content?$filter="+urlQuery(fmt.Sprintf("ContentUniqueID eq '%s.2'", id)), nil).body["value"].([]any)
	if len(f) != 1 || f[0].(map[string]any)["ContentHash"] != local.Hash || num(f[0].(map[string]any)["ContentVersion"]) != 2 {
		t.Fatalf("$filter over SMS_Content: %v", f)
	}
	expectError(t, s.do("POST", "/AdminService/wmi/SMS_Content", map[string]any{"ContentID": 99}), 400, "read-only")

	// A refresh of a source that is gone fails and changes nothing.
	if err := os.RemoveAll(src); err != nil {
		t.Fatal(err)
	}
	r := s.do("POST", refresh, map[string]any{})
	expectError(t, r, 400, "does not exist")
	if inner, _ := r.body["error"].(map[string]any)["innererror"].(map[string]any); inner == nil || num(inner["ReturnValue"]) == 0 {
		t.Errorf("failed refresh carries no ReturnValue: %s", r.raw)
	}
	if v := num(s.getPackage("SMS_Package", id)["SourceVersion"]); v != 2 {
		t.Errorf("SourceVersion after a failed refresh = %d, want 2", v)
	}
}

func TestRefreshPkgSourceRefused(t *testing.T) {
	s := newTestServer(t, 0)
	ts := s.create(map[string]any{"Name": "TS"})
	expectError(t, s.do("POST", "/AdminService/wmi/SMS_TaskSequencePackage('"+ts+"')/AdminService.RefreshPkgSource", map[string]any{}), 400, "renders your task sequence inoperable")
	bare := s.must(201, "POST", "/AdminService/wmi/SMS_Package", map[string]any{"Name": "Bare"}).body["PackageID"].(string)
	expectError(t, s.do("POST", "/AdminService/wmi/SMS_Package('"+bare+"')/AdminService.RefreshPkgSource", map[string]any{}), 400, "no source files")
}

func TestRefreshPkgSourceFlagOnWrite(t *testing.T) {
	s := newTestServer(t, 0)
	src := sourceTree(t, map[string]string{"a.txt": "one"})
	id := s.createPackage("SMS_DriverPackage", "Drivers", src)["PackageID"].(string)
	path := "/AdminService/wmi/SMS_DriverPackage('" + id + "')"
	if err := os.WriteFile(filepath.Join(src, "b.txt"), []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.must(200, "PATCH", path, map[string]any{"RefreshPkgSourceFlag": true})
	cur := s.must(200, "GET", "/tsprov/v1/content/packages/"+id, nil).body
	pkg := s.getPackage("SMS_DriverPackage", id)
	if cur["current"] != fmt.Sprintf("%s.%d", id, num(pkg["SourceVersion"])) || num(pkg["SourceVersion"]) != 2 {
		t.Errorf("after RefreshPkgSourceFlag: current %v, SourceVersion %v", cur["current"], pkg["SourceVersion"])
	}
	if pkg["RefreshPkgSourceFlag"] != false {
		t.Errorf("RefreshPkgSourceFlag reads %v, want false", pkg["RefreshPkgSourceFlag"])
	}
	// A new PkgSourcePath is snapshotted too.
	other := sourceTree(t, map[string]string{"c.txt": "other"})
	s.must(200, "PATCH", path, map[string]any{"PkgSourcePath": other})
	m := s.must(200, "GET", "/tsprov/v1/content/"+id+".3/manifest", nil).body
	if files := m["files"].([]any); len(files) != 1 || files[0].(map[string]any)["path"] != "c.txt" {
		t.Errorf("content after a new source path: %v", m["files"])
	}
}

func TestDeletePackageDropsContent(t *testing.T) {
	s := newTestServer(t, 0)
	src := sourceTree(t, map[string]string{"a.txt": "one"})
	id := s.createPackage("SMS_Package", "Gone soon", src)["PackageID"].(string)
	s.must(204, "DELETE", "/AdminService/wmi/SMS_Package('"+id+"')", nil)
	if rows := s.must(200, "GET", "/AdminService/wmi/SMS_PackageToContent", nil).body["value"].([]any); len(rows) != 0 {
		t.Errorf("%d SMS_PackageToContent rows after the delete", len(rows))
	}
	if rows := s.must(200, "GET", "/AdminService/wmi/SMS_Content", nil).body["value"].([]any); len(rows) != 0 {
		t.Errorf("%d SMS_Content rows after the delete", len(rows))
	}
	expectError(t, s.do("GET", "/tsprov/v1/content/packages/"+id, nil), 404, "no package")
}

// The server's collection of the content library (hourly) removes the
// files only deleted packages held, once they are an hour old, and keeps
// every file a recorded content holds, shared or not.
func TestCollectContentKeepsWhatContentsHold(t *testing.T) {
	s := newTestServer(t, 0)
	gone := s.createPackage("SMS_Package", "Gone", sourceTree(t, map[string]string{"shared.txt": "shared", "gone.txt": "only the deleted package"}))["PackageID"].(string)
	s.createPackage("SMS_DriverPackage", "Kept", sourceTree(t, map[string]string{"shared.txt": "shared", "kept.txt": "only the kept package"}))
	s.must(204, "DELETE", "/AdminService/wmi/SMS_Package('"+gone+"')", nil)
	hash := func(b string) string { h := sha256.Sum256([]byte(b)); return hex.EncodeToString(h[:]) }

	// Younger than an hour: nothing goes (a snapshot may be under way).
	if st, err := s.prov.CollectContent(context.Background()); err != nil || st.Blobs != 0 {
		t.Fatalf("CollectContent of young files = %+v, %v", st, err)
	}
	old := time.Now().Add(-2 * time.Hour)
	err := filepath.WalkDir(s.lib.Dir(), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			err = os.Chtimes(p, old, old)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.prov.CollectContent(context.Background())
	if err != nil || st.Blobs != 1 || st.Manifests != 1 || st.Bytes != int64(len("only the deleted package")) {
		t.Fatalf("CollectContent = %+v, %v; want the deleted package's manifest and its one file", st, err)
	}
	if s.lib.HasBlob(hash("only the deleted package")) {
		t.Error("the deleted package's file is still in the library")
	}
	for _, b := range []string{"shared", "only the kept package"} {
		if !s.lib.HasBlob(hash(b)) {
			t.Errorf("file %q of a recorded content was collected", b)
		}
	}
}

func urlQuery(s string) string {
	var b bytes.Buffer
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.', c == '_':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
