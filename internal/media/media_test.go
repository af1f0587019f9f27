package media

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// source is a Source of fixed answers: the policies of a task sequence
// that runs one package, whose content a DP serves at dp.
type source struct{ dp, hash string }

const tsPolicy = `<instance class="CCM_TaskSequence"><property name="PKG_PackageID" type="8"><value><![CDATA[PS100010]]></value></property>`
const pkgPolicy = `<instance class="CCM_SoftwareDistribution"><property name="PKG_PackageID" type="8"><value><![CDATA[PS100004]]></value></property>` +
	`<property name="PKG_SourceHash" type="8"><value><![CDATA[ABCD]]></value></property>`

// noSource is the policy of a package without content.
const noSource = `<instance class="CCM_SoftwareDistribution"><property name="PKG_PackageID" type="8"><value><![CDATA[PS100005]]></value></property>` +
	`<property name="PKG_SourceHash" type="8"><value><![CDATA[]]></value></property>`

func (source) TaskSequencePolicies(context.Context, string, string) (Policies, error) {
	return Policies{PolicyXmls: []string{tsPolicy, pkgPolicy, noSource}, PolicyAssignmentXmls: []string{"<a0/>", "<a1/>", "<a2/>"}}, nil
}

func (source) ClientPolicies(context.Context) (Policies, error) {
	return Policies{PolicyXmls: []string{"<c/>"}, PolicyAssignmentXmls: []string{"<ca/>"}}, nil
}

var setup = []byte("@echo off\r\nsetup.exe /q\r\n")

func (s source) Content(_ context.Context, id string) (Content, error) {
	if id != "PS100004" {
		return Content{}, NotInstalled(id, 1)
	}
	sum := sha256.Sum256(setup)
	return Content{PackageID: id, ContentID: id + ".1", Hash: s.hash, DP: s.dp, Files: []File{{Path: "tools/setup.cmd", Size: int64(len(setup)), SHA256: hex.EncodeToString(sum[:])}}}, nil
}

// TestWriteAndVerify: a folder written from a DP verifies; a DP that
// serves other bytes than the manifest says stops the writing naming the
// file, and nothing is left; a folder that is not empty is refused.
func TestWriteAndVerify(t *testing.T) {
	body := setup
	dp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/SMS_DP_SMSPKG$/PS100004.1/tools/setup.cmd" {
			http.NotFound(w, r)
			return
		}
		w.Write(body)
	}))
	defer dp.Close()
	ctx := context.Background()
	// content whose hash is not the policy's
	if _, err := NewPlan(ctx, source{dp.URL, "EF01"}, "PS100010", ""); err == nil || !strings.Contains(err.Error(), "not the one its policy names") {
		t.Fatalf("content of another hash: %v", err)
	}
	plan, err := NewPlan(ctx, source{dp.URL, "abcd"}, "ps100010", "")
	if err != nil {
		t.Fatal(err)
	}
	if plan.AdvertisementID != "PS1F0010" || strings.Join(plan.Packages, ",") != "PS100004,PS100005" || len(plan.Content) != 1 || plan.Size() != int64(len(setup)) {
		t.Fatalf("plan: %+v", plan)
	}
	parent := t.TempDir()
	out := filepath.Join(parent, "media")
	dir, err := NewDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var last Progress
	if _, err := Write(ctx, dp.Client(), plan, dir, func(p Progress) { last = p }); err != nil {
		t.Fatal(err)
	}
	if last != (Progress{Files: 1, TotalFiles: 1, Bytes: int64(len(setup)), TotalBytes: int64(len(setup))}) {
		t.Errorf("last progress %+v", last)
	}
	if err := dir.Commit(); err != nil {
		t.Fatal(err)
	}
	idx, err := Verify(out)
	if err != nil || len(idx.Files) != 9 { // 4 policies, 4 assignments, 1 file
		t.Fatalf("verify: %v, %d files", err, len(idx.Files))
	}
	if _, err := NewDir(out); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("a full folder: %v", err)
	}

	// a DP that serves other bytes
	body = []byte("@echo off\r\nformat c:\r\n")
	other := filepath.Join(parent, "other")
	dir, err = NewDir(other)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Write(ctx, dp.Client(), plan, dir, nil)
	dir.Discard()
	if err == nil || !strings.Contains(err.Error(), "tools/setup.cmd of PS100004.1") {
		t.Fatalf("a file that differs: %v", err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}

	// an index that names a file outside the folder is refused
	os.WriteFile(filepath.Join(out, filepath.FromSlash(IndexPath)), []byte(`{"files":[{"path":"../media/SMS/data/media.json","size":1,"sha256":"00"}]}`), 0o644)
	if _, err := Verify(out); err == nil || !strings.Contains(err.Error(), "outside the media folder") {
		t.Errorf("an index naming ../: %v", err)
	}
}
