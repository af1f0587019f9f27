package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestMediaCreateVerify, with a real server and a real DP agent: a task
// sequence with three referenced packages distributed to the DP; media
// create writes its policies and every package's files, verify passes;
// one byte changed makes verify fail naming the file; a folder that is not
// empty is refused and left as it was.
func TestMediaCreateVerify(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and a DP agent")
	}
	srv := startServerProcess(t, t.TempDir())
	s := site{t: t, url: srv.url}
	startAgent(t, "DP1.TEST.LOCAL", t.TempDir(), srv.url)
	var pkgs []string
	for _, name := range []string{"Tools", "Drivers", "Agent"} {
		src := t.TempDir()
		makeTree(t, src, 96<<10)
		var out map[string]any
		if code := s.call("POST", "/AdminService/wmi/SMS_Package", map[string]any{"Name": name, "PkgSourcePath": src}, &out); code != 201 {
			t.Fatalf("create %s: %d", name, code)
		}
		pkgs = append(pkgs, out["PackageID"].(string))
	}
	var steps strings.Builder
	for i, id := range pkgs {
		fmt.Fprintf(&steps, `<step type="SMS_TaskSequence_RunCommandLineAction" name="Run %d"><action>cmd</action><defaultVarList>`+
			`<variable name="CommandLine" property="CommandLine">setup.cmd</variable><variable name="PackageID" property="PackageID">%s</variable></defaultVarList></step>`, i, id)
	}
	// a boot image without content: it has a policy and no files
	var bootImage map[string]any
	s.call("POST", "/AdminService/wmi/SMS_BootImagePackage", map[string]any{"Name": "Boot image"}, &bootImage)
	var imported, saved map[string]any
	s.call("POST", "/AdminService/wmi/SMS_TaskSequencePackage.ImportSequence", map[string]any{"SequenceXML": `<sequence version="3.10">` + steps.String() + `</sequence>`}, &imported)
	if code := s.call("POST", "/AdminService/wmi/SMS_TaskSequencePackage.SetSequence", map[string]any{
		"TaskSequencePackage": map[string]any{"@odata.type": "#AdminService.SMS_TaskSequencePackage", "Name": "Media", "BootImageID": bootImage["PackageID"]},
		"TaskSequence":        imported["TaskSequence"]}, &saved); code != 200 {
		t.Fatalf("SetSequence: %d", code)
	}
	ts := strings.TrimSuffix(strings.TrimPrefix(saved["SavedTaskSequencePackagePath"].(string), `SMS_TaskSequencePackage.PackageID="`), `"`)
	conn := []string{"--server", srv.url, "--token", testAdminToken}

	// before any package is on a DP: both refuse, naming the first, and write nothing
	early := filepath.Join(t.TempDir(), "early")
	code, _, errOut := runCLI(append(append([]string{"media", "create", "--quiet"}, conn...), "--ts", ts, "--out", early)...)
	if _, err := os.Stat(early); code == 0 || !strings.Contains(errOut, pkgs[0]) || !strings.Contains(errOut, "no distribution point") || err == nil {
		t.Fatalf("media create before distribution: exit %d %q (folder written: %v)", code, errOut, err == nil)
	}
	if status, raw := postMedia(t, srv.url, map[string]any{"PackageID": ts}); status != 409 || !strings.Contains(string(raw), pkgs[0]) {
		t.Fatalf("REST media before distribution: %d %s", status, raw)
	}
	// an unknown task sequence
	code, _, errOut = runCLI(append(append([]string{"media", "create", "--quiet"}, conn...), "--ts", "PS1FFFFF", "--out", early)...)
	if _, err := os.Stat(early); code == 0 || !strings.Contains(errOut, "PS1FFFFF") || err == nil {
		t.Fatalf("media create of an unknown task sequence: exit %d %q (folder written: %v)", code, errOut, err == nil)
	}
	if entries, _ := os.ReadDir(filepath.Dir(early)); len(entries) != 0 {
		t.Fatalf("failed runs left %v beside the target", entries)
	}
	for _, id := range pkgs {
		if code, out, errOut := runCLI(append(append([]string{"dp", "add"}, conn...), id, "DP1.TEST.LOCAL")...); code != 0 {
			t.Fatalf("dp add: %d %s %s", code, out, errOut)
		}
		s.waitInstalled(id, 1, 1, 2*time.Minute)
	}

	out := filepath.Join(t.TempDir(), "media")
	code, stdout, errOut := runProcess(t, append(append([]string{"media", "create", "--progress-every", "1ns"}, conn...), "--ts", ts, "--out", out)...)
	if code != 0 {
		t.Fatalf("media create: %d %s %s", code, stdout, errOut)
	}
	// off a terminal, progress is plain lines on stderr, the last one done
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if last := lines[len(lines)-1]; len(lines) < 2 || !strings.HasPrefix(last, "media "+ts+": ") || !strings.Contains(last, "done in") {
		t.Errorf("progress lines:\n%s", errOut)
	}
	for _, id := range pkgs {
		src := filepath.Join(out, "SMS", "PKG", id)
		if entries, err := os.ReadDir(src); err != nil || len(entries) == 0 {
			t.Errorf("no content of %s in the media: %v", id, err)
		}
	}
	if policies, _ := filepath.Glob(filepath.Join(out, "SMS", "data", "policies", "ts-*.policy.xml")); len(policies) != 5 {
		t.Errorf("%d task sequence policies in the media, want 5 (the sequence, its three packages, its boot image)", len(policies))
	}
	if code, stdout, errOut := runCLI("media", "verify", out); code != 0 || !strings.Contains(stdout, "verified") {
		t.Fatalf("media verify: %d %s %s", code, stdout, errOut)
	}
	// the REST action answers the same layout as a zip: the same files,
	// byte for byte (the policies are deterministic), index included
	status, raw := postMedia(t, srv.url, map[string]any{"PackageID": ts})
	if status != 200 {
		t.Fatalf("POST /tsprov/v1/media: %d %s", status, raw)
	}
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		want, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(f.Name)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("zip entry %s differs from the folder's file (%v)", f.Name, err)
		}
	}
	var folder []string
	filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(out, p)
			folder = append(folder, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(names)
	if strings.Join(names, "\n") != strings.Join(folder, "\n") {
		t.Errorf("the zip holds\n%s\nthe folder\n%s", strings.Join(names, "\n"), strings.Join(folder, "\n"))
	}
	for _, bad := range []struct {
		body   map[string]any
		status int
	}{
		{map[string]any{}, 400},
		{map[string]any{"PackageID": pkgs[0]}, 404},
		{map[string]any{"PackageID": ts, "AdvertisementID": "PS1-0001"}, 400},
	} {
		if status, raw := postMedia(t, srv.url, bad.body); status != bad.status || !strings.Contains(string(raw), `"error"`) {
			t.Errorf("POST /tsprov/v1/media %v: %d %s, want %d", bad.body, status, raw, bad.status)
		}
	}

	// one byte changed
	var victim string
	filepath.WalkDir(filepath.Join(out, "SMS", "PKG", pkgs[1]), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && victim == "" {
			victim = p
		}
		return nil
	})
	b, _ := os.ReadFile(victim)
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(victim, b, 0o644); err != nil {
		t.Fatal(err)
	}
	rel, _ := filepath.Rel(out, victim)
	code, _, errOut = runCLI("media", "verify", out)
	if code == 0 || !strings.Contains(errOut, filepath.ToSlash(rel)) || !strings.Contains(errOut, "1 of ") {
		t.Fatalf("verify after a changed byte: %d %q, want a failure naming %s", code, errOut, filepath.ToSlash(rel))
	}
	// a folder that is not empty
	before, _ := os.ReadDir(out)
	code, _, errOut = runCLI(append(append([]string{"media", "create", "--quiet"}, conn...), "--ts", ts, "--out", out)...)
	after, _ := os.ReadDir(out)
	if code == 0 || !strings.Contains(errOut, "not empty") || len(after) != len(before) {
		t.Fatalf("create into a full folder: %d %q", code, errOut)
	}
}

// postMedia calls the media REST action as the administrator.
func postMedia(t *testing.T, base string, body map[string]any) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", base+"/tsprov/v1/media", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST /tsprov/v1/media: %v", err)
	}
	return resp.StatusCode, raw
}
