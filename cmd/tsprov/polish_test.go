package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// Help is output the user asked for: standard output, exit 0. Only a bare
// "tsprov" (a mistake) prints the usage on standard error.
func TestHelpGoesToStandardOutput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"help"}, "commands:"},
		{[]string{"--help"}, "commands:"},
		{[]string{"-h"}, "commands:"},
		{[]string{"help", "list"}, "usage: tsprov list [flags]"},
		{[]string{"list", "-h"}, "-columns"},
		{[]string{"help", "admin", "user", "add"}, "-role"},
		{[]string{"admin", "reset-token", "--help"}, "-user"},
		{[]string{"admin", "help"}, "usage: tsprov admin user list"},
		{[]string{"ts", "-h"}, "usage: tsprov ts show"},
		{[]string{"serve", "-h"}, "-log-format"},
	}
	for _, tc := range tests {
		code, out, errOut := runCLI(tc.args...)
		if code != 0 || !strings.Contains(out, tc.want) || errOut != "" {
			t.Errorf("%v: exit %d, stdout %.120q, stderr %q; want exit 0 and %q on stdout only", tc.args, code, out, errOut, tc.want)
		}
	}
	if code, out, errOut := runCLI(); code != 2 || out != "" || !strings.Contains(errOut, "commands:") {
		t.Errorf("no arguments: exit %d, stdout %q, stderr %.80q", code, out, errOut)
	}
}

func TestVersionLine(t *testing.T) {
	tests := []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{"a tagged build", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "62831be1d1e0aa6cc2a7d4bb2bfa3f4a6f5e3c21"}, {Key: "vcs.time", Value: "2026-12-07T03:00:00Z"}, {Key: "vcs.modified", Value: "false"}}},
			"tsprov v1.4.0 commit 62831be1d1e0aa6cc2a7d4bb2bfa3f4a6f5e3c21 (2026-12-07T03:00:00Z) "},
		{"a checkout with changes", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}}},
			"tsprov (devel) commit abc123 with uncommitted changes "},
		{"no VCS information", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "tsprov (devel) commit unknown "},
		{"no build information", nil, "tsprov (unknown version) commit unknown "},
	}
	for _, tc := range tests {
		got := versionLine(tc.info)
		if !strings.HasPrefix(got, tc.want) || !strings.HasSuffix(got, runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH) {
			t.Errorf("%s: %q, want %q… then the Go version and platform", tc.name, got, tc.want)
		}
	}
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, _ := runCLI(args...)
		if code != 0 || !strings.HasPrefix(out, "tsprov ") || strings.Count(out, "\n") != 1 {
			t.Errorf("%v: %d %q", args, code, out)
		}
	}
}

// A binary built from a clone names the commit it was built from.
func TestVersionOfABuildNamesItsCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not found")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if out, err := exec.Command("git", "clone", "-q", "../..", src).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v %s", err, out)
	}
	head, err := exec.Command("git", "-C", src, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "tsprov")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "./cmd/tsprov")
	build.Dir = src
	build.Env = append(os.Environ(), "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v %s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.Contains(string(out), "commit "+strings.TrimSpace(string(head))) || strings.Contains(string(out), "uncommitted") {
		t.Errorf("version: %v %q, want commit %s", err, out, head)
	}
}

func TestCompletionCandidates(t *testing.T) {
	tests := []struct {
		words []string
		want  string // the candidates, one a line
	}{
		{[]string{"ser"}, "serve"},
		{[]string{"se"}, "serve set"},
		{[]string{"admin", ""}, "reset-token secret-key token user"},
		{[]string{"admin", "token", ""}, "create list revoke"},
		{[]string{"admin", "user", "p"}, "passwd"},
		{[]string{"ts", ""}, "diff fmt lint log plan policy-size purge-history refs restore show validate"},
		{[]string{"completion", ""}, "bash fish zsh"},
		{[]string{"help", "mi"}, "migrate"},
		{[]string{"list", "--co"}, "--columns"},
		{[]string{"admin", "reset-token", "--"}, "--data --database --user"},
		{[]string{"serve", "--log-f"}, "--log-format"},
		{[]string{"ts", "show", ""}, ""}, // a file: the shell completes it
		{[]string{"frob", ""}, ""},
	}
	for _, tc := range tests {
		code, out, errOut := runCLI(append([]string{completeCommand}, tc.words...)...)
		if got := strings.Join(strings.Fields(out), " "); code != 0 || got != tc.want || errOut != "" {
			t.Errorf("%q: %d %q %q, want %q", tc.words, code, got, errOut, tc.want)
		}
	}
	code, out, _ := runCLI(completeCommand, "")
	for _, want := range []string{"serve", "admin", "version", "completion", "help"} {
		if code != 0 || !strings.Contains(out, want+"\n") {
			t.Errorf("top level lacks %s:\n%s", want, out)
		}
	}
	for _, shell := range []string{"bash", "zsh", "fish"} {
		code, out, _ := runCLI("completion", shell)
		if code != 0 || !strings.Contains(out, completeCommand) || !strings.Contains(out, "tsprov") {
			t.Errorf("completion %s: %d %q", shell, code, out)
		}
	}
	if code, _, errOut := runCLI("completion", "tcsh"); code != 2 || !strings.Contains(errOut, "bash, zsh or fish") {
		t.Errorf("completion tcsh: %d %q", code, errOut)
	}
}

// Each completion script, sourced in its real shell, completes through the
// binary (shells that are not installed are skipped). zsh's completion
// system needs a terminal, so compadd and _files are stood in for by
// functions that print what they are given.
func TestCompletionScriptsInTheirShells(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o700); err != nil {
		t.Fatal(err)
	}
	wrapper := "#!/bin/sh\nTSPROV_TEST_RUN_MAIN=1 exec \"" + os.Args[0] + "\" \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "tsprov"), []byte(wrapper), 0o700); err != nil {
		t.Fatal(err)
	}
	// complete is a program in each shell that completes the given words,
	// the last one being completed: $1 is the script, then the words.
	shells := map[string]string{
		"bash": `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($#-1)); _tsprov; printf '%s\n' "${COMPREPLY[@]}"`,
		"zsh":  `compdef() { :; }; compadd() { [[ $1 == -a ]] && print -l -- "${(@P)2}"; }; _files() { print FILES; }; source "$1"; shift; words=("$@"); CURRENT=$#; _tsprov`,
		"fish": `source $argv[1]; complete -C (string join " " -- $argv[2..-1])`,
	}
	tests := []struct {
		words []string
		want  string
	}{
		{[]string{"tsprov", "admin", "to"}, "token"},
		{[]string{"tsprov", "admin", "token", ""}, "create list revoke"},
		{[]string{"tsprov", "query", "--out"}, "--output"},
	}
	if err := os.WriteFile(filepath.Join(dir, "only.xml"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	fileTest := struct {
		words []string
		want  map[string]string
	}{[]string{"tsprov", "ts", "show", ""}, map[string]string{"bash": "", "zsh": "FILES", "fish": "only.xml"}}
	for shell, prog := range shells {
		path, err := exec.LookPath(shell)
		if err != nil {
			t.Logf("%s not installed: its script is not run", shell)
			continue
		}
		_, script, _ := runCLI("completion", shell)
		file := filepath.Join(dir, "tsprov."+shell)
		if err := os.WriteFile(file, []byte(script), 0o600); err != nil {
			t.Fatal(err)
		}
		cases := append(tests, struct {
			words []string
			want  string
		}{fileTest.words, fileTest.want[shell]}) // bash: complete -o default lists the files
		for _, tc := range cases {
			args := append([]string{"-c", prog}, "", file)
			if shell == "zsh" {
				args = append([]string{"-f"}, args...)
			}
			if shell == "fish" {
				args = args[:2] // fish passes what follows -c as $argv
				args = append(args, file)
			}
			args = append(args, tc.words...)
			cmd := exec.Command(path, args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
			out, err := cmd.Output()
			got := strings.Join(strings.Fields(string(out)), " ")
			if shell == "fish" && tc.want == "only.xml" {
				// the folder's files, whichever scripts are written yet
				if err != nil || !strings.Contains(" "+got+" ", " only.xml ") || strings.Contains(got, "show") {
					t.Errorf("%s %q: %v %q, want the folder's files", shell, tc.words, err, got)
				}
				continue
			}
			if err != nil || got != tc.want {
				t.Errorf("%s %q: %v %q, want %q", shell, tc.words, err, got, tc.want)
			}
		}
	}
}

// ts refs lists a package reference without a program as ConfigMgr does:
// Program "*" (the object.xml's own References say so).
func TestTSRefsShowsAnyProgramAsConfigMgrDoes(t *testing.T) {
	c, err := tsCodec("")
	if err != nil {
		t.Fatal(err)
	}
	_, doc, err := readTS(c, objectXML)
	if err != nil || len(doc.PackageReferences) == 0 {
		t.Fatalf("%v: no References in the file", err)
	}
	code, out, _ := runCLI("ts", "refs", objectXML)
	if code != 0 {
		t.Fatalf("ts refs: %d", code)
	}
	rows := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		rows[strings.Join(strings.Fields(line), " ")] = true
	}
	for _, r := range doc.PackageReferences {
		if want := "package " + r.Package + " " + r.Program; r.Program != "*" || !rows[want] {
			t.Errorf("ConfigMgr lists %s with Program %q; ts refs printed:\n%s", r.Package, r.Program, out)
		}
	}
}

// Commands that change something say what they did, and list's default
// table holds a value in every column.
func TestCommandsSayWhatTheyDid(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	srv := startServerProcess(t, t.TempDir())
	server := "--server=" + srv.url
	if code, _, errOut := runCLI("create", server, "Name=Windows 11"); code != 0 {
		t.Fatalf("create: %s", errOut)
	}
	code, out, errOut := runCLI("list", server)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 {
		t.Fatalf("list: %d %q %s", code, out, errOut)
	}
	header, row := strings.Fields(lines[0]), strings.Split(lines[1], "  ")
	var cells []string
	for _, c := range row {
		if c = strings.TrimSpace(c); c != "" {
			cells = append(cells, c)
		}
	}
	if len(cells) != len(header) {
		t.Errorf("list: a blank column:\n%s", out)
	}
	code, out, _ = runCLI("list", server, "--class", "SMS_Admin")
	if code != 0 || !strings.HasPrefix(out, "AdminID") || !strings.Contains(out, "16777217") {
		t.Errorf("list --class SMS_Admin: the key column: %d\n%s", code, out)
	}

	if code, _, errOut := runCLI("admin", "user", "add", "frank", server); code != 0 {
		t.Fatalf("user add: %s", errOut)
	}
	code, out, _ = runCLI("admin", "token", "create", "--user", "frank", server)
	if code != 0 {
		t.Fatal("token create")
	}
	code, out, _ = runCLI("admin", "token", "list", "--all", server)
	var tokenID string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] == "16777218" {
			tokenID = f[0]
		}
	}
	if code, out, errOut := runCLI("admin", "token", "revoke", tokenID, server); code != 0 || out != "revoked token "+tokenID+"\n" {
		t.Errorf("token revoke: %d %q %q", code, out, errOut)
	}
	if code, out, errOut := runCLI("admin", "user", "delete", "frank", server); code != 0 || out != "deleted user frank (AdminID 16777218) with its tokens and password\n" {
		t.Errorf("user delete: %d %q %q", code, out, errOut)
	}
}
