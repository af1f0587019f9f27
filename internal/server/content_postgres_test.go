package server

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/content"
	"github.com/tsprov/tsprov/internal/store/postgres/pgtest"
)

// Two servers on one PostgreSQL database sharing one content folder: a
// package snapshotted through one is served by the other; two refreshes
// of the same change at once, one through each, publish one new version.
func TestContentAcrossServersOnPostgres(t *testing.T) {
	url := pgtest.URL(t, t.Name())
	lib := filepath.Join(t.TempDir(), "library")
	token, _, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	a, err := launchSecureServer(t, token, func(c *Config) { c.Database, c.ContentDir = url, lib })
	if err != nil {
		t.Fatal(err)
	}
	b, err := launchSecureServer(t, token, func(c *Config) { c.Database, c.ContentDir = url, lib })
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "setup.cmd"), []byte("echo one"), 0o644); err != nil {
		t.Fatal(err)
	}
	id := a.must(201, token, "POST", "/AdminService/wmi/SMS_DriverPackage", map[string]any{"Name": "Drivers", "PkgSourcePath": src}).body["PackageID"].(string)
	m := b.must(200, token, "GET", "/tsprov/v1/content/"+id+".1/manifest", nil).body
	sha := m["files"].([]any)[0].(map[string]any)["sha256"].(string)
	if blob := b.must(200, token, "GET", "/tsprov/v1/content/blobs/"+sha, nil); string(blob.raw) != "echo one" {
		t.Errorf("blob through the other server: %q", blob.raw)
	}

	if err := os.WriteFile(filepath.Join(src, "setup.cmd"), []byte("echo two"), 0o644); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, s := range []*secureServer{a, b} {
		wg.Go(func() {
			r := s.do(token, "POST", "/AdminService/wmi/SMS_DriverPackage('"+id+"')/AdminService.RefreshPkgSource", map[string]any{})
			if r.status != 200 {
				t.Errorf("refresh: %d %s", r.status, r.raw)
			}
		})
	}
	wg.Wait()
	pkg := a.must(200, token, "GET", "/AdminService/wmi/SMS_DriverPackage('"+id+"')", nil).body["value"].([]any)[0].(map[string]any)
	if v := pkg["SourceVersion"].(float64); v != 2 {
		t.Errorf("SourceVersion after two refreshes of one change = %v, want 2", v)
	}
	local, err := content.HashDir(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := b.must(200, token, "POST", "/AdminService/wmi/SMS_TaskSequencePackage.GetPackageDefaultHash", map[string]any{"PackageID": id, "SourceVersion": 2}).body
	if h["Hash"] != local.Hash {
		t.Errorf("GetPackageDefaultHash %v, folder %s", h["Hash"], local.Hash)
	}
	if rows := a.must(200, token, "GET", "/AdminService/wmi/SMS_PackageToContent", nil).body["value"].([]any); len(rows) != 2 {
		t.Errorf("%d SMS_PackageToContent rows, want 2", len(rows))
	}
}
