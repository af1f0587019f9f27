package adminservice_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/tsprov/tsprov/internal/content"
)

const tsMethods = "/AdminService/wmi/SMS_TaskSequencePackage."

// contentNumber reads the numeric ContentID of content uid.
func (s *testServer) contentNumber(uid string) int64 {
	s.t.Helper()
	rows := s.must(200, "GET", "/AdminService/wmi/SMS_Content?$filter="+urlQuery("ContentUniqueID eq '"+uid+"'"), nil).body["value"].([]any)
	if len(rows) != 1 {
		s.t.Fatalf("content %s: %d rows", uid, len(rows))
	}
	return num(rows[0].(map[string]any)["ContentID"])
}

// GetContentHash of a single-file package follows from what the sha256sum
// binary prints for the file: the content hash over the one file is
// SHA-256(UTF-16LE(name) ‖ UTF-16LE(its upper-case SHA-256)).
func TestGetContentHashAgreesWithSha256sum(t *testing.T) {
	bin, err := exec.LookPath("sha256sum")
	if err != nil {
		t.Skip("sha256sum is not installed")
	}
	s := newTestServer(t, 0)
	src := sourceTree(t, map[string]string{"Install.WIM": strings.Repeat("image bytes\n", 100000)})
	out, err := exec.Command(bin, filepath.Join(src, "Install.WIM")).Output()
	if err != nil {
		t.Fatal(err)
	}
	fileSum := strings.Fields(string(out))[0]
	id := s.createPackage("SMS_ImagePackage", "Windows", src)["PackageID"].(string)
	n := s.contentNumber(id + ".1")

	var stream []byte
	for _, str := range []string{"install.wim", strings.ToUpper(fileSum)} {
		for _, u := range utf16.Encode([]rune(str)) {
			stream = append(stream, byte(u), byte(u>>8))
		}
	}
	h := sha256.Sum256(stream)
	want := strings.ToUpper(hex.EncodeToString(h[:]))
	for _, alg := range []any{nil, 0, 32780} {
		body := map[string]any{"ContentID": n}
		if alg != nil {
			body["HashAlgID"] = alg
		}
		r := s.must(200, "POST", tsMethods+"GetContentHash", body)
		if r.body["Hash"] != want || num(r.body["ReturnValue"]) != 0 {
			t.Errorf("GetContentHash(%d, %v) = %s, want %s", n, alg, r.raw, want)
		}
	}
	m := s.must(200, "GET", "/tsprov/v1/content/"+id+".1/manifest", nil).body
	if f := m["files"].([]any)[0].(map[string]any); f["sha256"] != fileSum {
		t.Errorf("manifest sha256 %v, sha256sum %s", f["sha256"], fileSum)
	}
}

func TestPackageHashMethods(t *testing.T) {
	s := newTestServer(t, 0)
	src := sourceTree(t, map[string]string{"a.txt": "one", "Sub/B.txt": "two", "Sub/Deeper/c.bin": "three"})
	id := s.createPackage("SMS_Package", "Hashed", src)["PackageID"].(string)
	v1, err := content.HashDir(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "a.txt"), []byte("one, changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.must(200, "POST", "/AdminService/wmi/SMS_Package('"+id+"')/AdminService.RefreshPkgSource", map[string]any{})
	// A property update raises SourceVersion (3) without new content.
	s.must(200, "PATCH", "/AdminService/wmi/SMS_Package('"+id+"')", map[string]any{"Description": "touched"})
	v2, err := content.HashDir(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	sha1v2, _ := v2.ContentHash(content.AlgSHA1)
	md5v2, _ := v2.ContentHash(content.AlgMD5)
	sha1v1, _ := v1.ContentHash(content.AlgSHA1)
	for _, tc := range []struct {
		version int
		def     string
		sha1    string
	}{{1, v1.Hash, sha1v1}, {2, v2.Hash, sha1v2}, {3, v2.Hash, sha1v2}} {
		d := s.must(200, "POST", tsMethods+"GetPackageDefaultHash", map[string]any{"PackageID": id, "SourceVersion": tc.version})
		if d.body["Hash"] != tc.def {
			t.Errorf("GetPackageDefaultHash(%s, %d) = %v, want %s", id, tc.version, d.body["Hash"], tc.def)
		}
		h := s.must(200, "POST", tsMethods+"GetPackageHash", map[string]any{"PackageID": id, "SourceVersion": tc.version})
		if h.body["Hash"] != tc.sha1 || num(h.body["HashVersion"]) != 2 || len(tc.sha1) != 40 {
			t.Errorf("GetPackageHash(%s, %d) = %s, want SHA-1 %s and HashVersion 2", id, tc.version, h.raw, tc.sha1)
		}
	}
	n2 := s.contentNumber(id + ".2")
	for alg, want := range map[int]string{32780: v2.Hash, 32772: sha1v2, 32771: md5v2} {
		r := s.must(200, "POST", tsMethods+"GetContentHash", map[string]any{"ContentID": n2, "HashAlgID": alg})
		if r.body["Hash"] != want {
			t.Errorf("GetContentHash(%d, %d) = %v, want %s", n2, alg, r.body["Hash"], want)
		}
	}

	ts := s.create(map[string]any{"Name": "No content"})
	for _, tc := range []struct {
		name, method string
		body         map[string]any
		status       int
		target, msg  string
	}{
		{"unknown algorithm", "GetContentHash", map[string]any{"ContentID": n2, "HashAlgID": 32781}, 400, "HashAlgID", "not supported"},
		{"unknown content", "GetContentHash", map[string]any{"ContentID": 999999}, 404, "ContentID", "no content with ContentID 999999"},
		{"unknown package", "GetPackageDefaultHash", map[string]any{"PackageID": "PS1FFFFF", "SourceVersion": 1}, 404, "PackageID", "no package PS1FFFFF"},
		{"version 0", "GetPackageDefaultHash", map[string]any{"PackageID": id, "SourceVersion": 0}, 404, "SourceVersion", "no source version 0"},
		{"version above", "GetPackageHash", map[string]any{"PackageID": id, "SourceVersion": 4}, 404, "SourceVersion", "no source version 4"},
		{"package without content", "GetPackageDefaultHash", map[string]any{"PackageID": ts, "SourceVersion": 1}, 404, "SourceVersion", "had no content"},
		{"missing package id", "GetPackageHash", map[string]any{"SourceVersion": 1}, 400, "PackageID", "required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do("POST", tsMethods+tc.method, tc.body)
			expectError(t, r, tc.status, tc.msg)
			inner, _ := r.body["error"].(map[string]any)["innererror"].(map[string]any)
			if inner == nil || num(inner["ReturnValue"]) == 0 {
				t.Fatalf("no non-zero ReturnValue: %s", r.raw)
			}
			st := inner["SMS_ExtendedStatus"].([]any)[0].(map[string]any)
			if st["ParameterInfo"] != tc.target {
				t.Errorf("SMS_ExtendedStatus names %v, want %s", st["ParameterInfo"], tc.target)
			}
		})
	}
}
