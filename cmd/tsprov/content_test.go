package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/content"
)

// runProcess runs tsprov as a process of its own, its stdout and stderr
// pipes (not a terminal), and returns its exit status and both outputs.
func runProcess(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "TSPROV_TEST_RUN_MAIN=1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, body := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// tsprov content hash prints sha256sum's lines for the files and the
// content hash; bad input is one line and a non-zero status.
func TestContentHashCommand(t *testing.T) {
	src := t.TempDir()
	writeFiles(t, src, map[string]string{"setup.exe": "installer", "Sub/readme.txt": "read me"})
	code, out, errOut := runCLI("content", "hash", src)
	if code != 0 {
		t.Fatalf("content hash: %d %s", code, errOut)
	}
	want, err := content.HashDir(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "content hash (32780): "+want.Hash+"\n") || !strings.Contains(out, "2 files, 1 folders") {
		t.Errorf("output:\n%s\nwant the content hash %s", out, want.Hash)
	}
	if bin, err := exec.LookPath("sha256sum"); err == nil {
		cmd := exec.Command(bin, "setup.exe", "Sub/readme.txt")
		cmd.Dir = src
		sums, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(out, string(sums)) {
			t.Errorf("per-file lines differ from sha256sum's:\n%s\nsha256sum:\n%s", out, sums)
		}
	}
	// Off a terminal, progress is plain lines on stderr; stdout is unchanged.
	code, out2, errOut := runProcess(t, "content", "hash", "--progress-every", "1ns", src)
	if code != 0 || out2 != out || !strings.Contains(errOut, "hash "+src+": 2/2 files, 16 B of 16 B, ") || !strings.Contains(errOut, "done in") {
		t.Errorf("--progress-every 1ms: %d\nstdout %s\nstderr %s", code, out2, errOut)
	}
	code, out, _ = runCLI("content", "hash", "--json", "--alg", "32772", src)
	var j struct {
		Hash  string `json:"hash"`
		Files []any  `json:"files"`
	}
	sha1, _ := want.ContentHash(content.AlgSHA1)
	if code != 0 || json.Unmarshal([]byte(out), &j) != nil || j.Hash != sha1 || len(j.Files) != 2 {
		t.Errorf("--json --alg 32772: %d %s", code, out)
	}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"content", "hash", filepath.Join(src, "missing")}, "does not exist"},
		{[]string{"content", "hash", "--alg", "1", src}, "not supported"},
		{[]string{"content", "hash"}, "one folder"},
		{[]string{"content", "sign", src}, "unknown content command"},
	} {
		code, out, errOut := runCLI(tc.args...)
		if code == 0 || out != "" || !strings.Contains(errOut, tc.msg) || strings.Count(strings.TrimSpace(errOut), "\n") > 2 {
			t.Errorf("%v: %d, stdout %q, stderr %q; want a failure naming %q", tc.args, code, out, errOut, tc.msg)
		}
	}
}

func TestPkgRefreshCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	data := t.TempDir()
	lib := filepath.Join(t.TempDir(), "library")
	srv := startServerProcess(t, data, "--content", lib)
	server := "--server=" + srv.url
	src := t.TempDir()
	writeFiles(t, src, map[string]string{"setup.cmd": "echo one"})
	code, out, errOut := runCLI("create", server, "--class", "SMS_Package", "Name=Scripts", "PkgSourcePath="+src)
	if code != 0 {
		t.Fatalf("create: %d %s", code, errOut)
	}
	id := strings.TrimSpace(out)
	if _, err := os.Stat(filepath.Join(lib, "manifests")); err != nil {
		t.Fatalf("--content: no library at %s: %v", lib, err)
	}

	code, out, errOut = runCLI("pkg", "refresh", server, id)
	if code != 0 || !strings.HasPrefix(out, id+": source unchanged, content "+id+".1 (SourceVersion 1): 1 files") {
		t.Errorf("unchanged refresh: %d %q %s", code, out, errOut)
	}
	writeFiles(t, src, map[string]string{"second.cmd": "echo two"})
	local, err := content.HashDir(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runProcess(t, "pkg", "refresh", "--progress-every", "1ns", "--token", testAdminToken, server, id)
	if code != 0 || out != id+": new content "+id+".2 (SourceVersion 2): 2 files, 16 B, hash "+local.Hash+"\n" {
		t.Errorf("changed refresh: %d %q %s", code, out, errOut)
	}
	// The server's progress of the snapshot, as a plain line off a terminal.
	if !strings.Contains(errOut, "refresh "+id+": 2/2 files, 16 B of 16 B, ") || !strings.Contains(errOut, "done in") {
		t.Errorf("changed refresh: no progress line on stderr: %q", errOut)
	}
	// --watch on a package on no distribution point says so.
	code, out, errOut = runCLI("pkg", "refresh", "--watch", server, id)
	if code != 0 || !strings.HasSuffix(out, id+" is on no distribution point\n") {
		t.Errorf("refresh --watch: %d %q %s", code, out, errOut)
	}

	ts := runOK(t, "create", server, "Name=TS")
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"pkg", "refresh", server, "PS1FFFFF"}, "no package PS1FFFFF"},
		{[]string{"pkg", "refresh", server, ts}, "inoperable"},
		{[]string{"pkg", "refresh", server}, "one package ID"},
	} {
		code, out, errOut := runCLI(tc.args...)
		if code == 0 || out != "" || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%v: %d, stdout %q, stderr %q; want a failure naming %q", tc.args, code, out, errOut, tc.msg)
		}
	}
	if err := os.RemoveAll(src); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCLI("pkg", "refresh", server, id)
	if code == 0 || !strings.Contains(errOut, "does not exist") {
		t.Errorf("refresh of a missing source: %d %s", code, errOut)
	}
}

func runOK(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := runCLI(args...)
	if code != 0 {
		t.Fatalf("%v: %d %s", args, code, errOut)
	}
	return strings.TrimSpace(out)
}
