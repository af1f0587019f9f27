package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// The README's tour, run as written against a fresh server on loopback:
// its commands are read from README.md itself (every sh block of the
// section "A five-minute tour with curl"), so the test fails when the
// README drifts from what the server does. Each command must succeed, and
// what it prints must be what the README's "# →" comment under it shows:
//
//   - a leading status ("201") is the HTTP status curl got;
//   - a JSON answer matches the output's JSON: objects hold exactly the
//     members shown, or at least them when "…" ends the object; arrays
//     likewise; a string with "…" matches any text in its place;
//   - any other answer is text the output holds, whitespace aside, "…"
//     standing for any text.
//
// Two placeholders are filled in as a reader would: tsp_… with the token
// the first start printed, and 127.0.0.1:8080 with the test server's
// address. "go run ./cmd/tsprov" and "go build -o F ./cmd/tsprov" run this
// test's own binary, which is the tsprov command (TestMain).
func TestREADMETour(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and runs curl")
	}
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the tour needs %s: %v", tool, err)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"go run ./cmd/tsprov serve", "bash scripts/test"} {
		if !strings.Contains(string(readme), "```sh\n"+cmd+"\n```") {
			t.Errorf("README.md lacks the command %q in a block of its own", cmd)
		}
	}
	steps, err := tourSteps(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) < 30 {
		t.Fatalf("found %d commands in the tour; the README's layout changed?", len(steps))
	}

	dir := t.TempDir()
	srv := startFirstServer(t, filepath.Join(dir, "tsprov-data"))
	if srv.token == "" {
		t.Fatal("the first start printed no token")
	}
	u, err := url.Parse(srv.url)
	if err != nil {
		t.Fatal(err)
	}
	testdata, err := filepath.Abs("../../testdata")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(testdata, filepath.Join(dir, "testdata")); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o700); err != nil {
		t.Fatal(err)
	}
	var script strings.Builder
	script.WriteString(tourPrelude)
	for i, st := range steps {
		cmd := strings.ReplaceAll(st.command, "tsp_…", srv.token)
		cmd = strings.ReplaceAll(cmd, "127.0.0.1:8080", u.Host)
		fmt.Fprintf(&script, "{ %s\n} >%s/%d.out 2>%s/%d.err; echo $? >%s/%d.rc\n", cmd, out, i, out, i, out, i)
	}
	bash := exec.Command("bash", "-c", script.String())
	bash.Dir = dir
	t.Setenv("TSPROV_TOKEN", "")
	bash.Env = append(os.Environ(), "TSPROV_SERVER="+srv.url, "TSPROV_BIN="+os.Args[0], "TSPROV_TEST_RUN_MAIN=1")
	if b, err := bash.CombinedOutput(); err != nil {
		t.Fatalf("bash: %v %s", err, b)
	}
	for i, st := range steps {
		read := func(ext string) string { b, _ := os.ReadFile(fmt.Sprintf("%s/%d.%s", out, i, ext)); return string(b) }
		stdout, stderr, rc := read("out"), read("err"), strings.TrimSpace(read("rc"))
		if rc != "0" {
			t.Errorf("README.md:%d: %s\nexit %s: %s", st.line, st.command, rc, stderr)
			continue
		}
		if st.answer == "" {
			continue
		}
		if err := checkAnswer(st.answer, stdout, stderr); err != nil {
			t.Errorf("README.md:%d: %s\nshows: %s\n%v\ngot: %.1500s", st.line, st.command, st.answer, err, stdout)
		}
	}
}

// tourPrelude lets the tour run in a script as in a terminal: the alias it
// defines works, curl reports each status on standard error (a -w of the
// command's own wins), and go runs this binary.
const tourPrelude = `shopt -s expand_aliases
curl() { command curl -w '%{stderr}HTTP %{http_code}\n' "$@"; }
go() {
    if [ "$1 $2" = "run ./cmd/tsprov" ]; then shift 2; "$TSPROV_BIN" "$@"; return; fi
    if [ "$1 $2 $4" = "build -o ./cmd/tsprov" ]; then
        printf '#!/bin/sh\nexec "%s" "$@"\n' "$TSPROV_BIN" >"$3" && chmod +x "$3"; return
    fi
    echo "go $*: not a command the README test knows" >&2; return 127
}
`

// tourStep is one command of the tour and the answer shown under it.
type tourStep struct {
	command string
	answer  string
	line    int
}

// tourSteps reads the commands of the tour section's sh blocks: a command
// is a line (with its backslash continuations); the "# →" comment right
// after it (with its "#   " continuation lines) is its answer.
func tourSteps(readme string) ([]tourStep, error) {
	start := strings.Index(readme, "\n## A five-minute tour with curl\n")
	if start < 0 {
		return nil, fmt.Errorf("README.md has no section \"A five-minute tour with curl\"")
	}
	section := readme[start+1:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	firstLine := strings.Count(readme[:start+1], "\n") + 1
	var steps []tourStep
	inBlock, continued, answering := false, false, false
	for i, line := range strings.Split(section, "\n") {
		switch {
		case line == "```sh":
			inBlock = true
			continue
		case line == "```":
			inBlock, continued, answering = false, false, false
			continue
		case !inBlock:
			continue
		}
		trimmed := strings.TrimSpace(line)
		switch {
		case continued:
			steps[len(steps)-1].command += "\n" + line
		case strings.HasPrefix(trimmed, "# →"):
			if len(steps) == 0 {
				return nil, fmt.Errorf("README.md:%d: an answer before any command", firstLine+i)
			}
			steps[len(steps)-1].answer = strings.TrimSpace(strings.TrimPrefix(trimmed, "# →"))
			answering = true
			continue
		case answering && strings.HasPrefix(line, "#   "):
			steps[len(steps)-1].answer += " " + strings.TrimSpace(line[1:])
			continue
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
			answering = false
			continue
		default:
			steps = append(steps, tourStep{command: line, line: firstLine + i})
		}
		answering = false
		continued = strings.HasSuffix(line, "\\")
	}
	return steps, nil
}

var (
	leadingStatus = regexp.MustCompile(`^([1-5][0-9]{2})(\s+|$)`)
	openEnd       = regexp.MustCompile(`,\s*…\s*([}\]])`)
)

// openMark marks an object or array the answer shows only part of.
const openMark = "…"

// checkAnswer checks a command's output against the answer the README
// shows (see TestREADMETour).
func checkAnswer(answer, stdout, stderr string) error {
	if m := leadingStatus.FindStringSubmatch(answer); m != nil {
		if !strings.Contains(stderr, "HTTP "+m[1]+"\n") && strings.TrimSpace(stdout) != m[1] {
			return fmt.Errorf("want status %s; curl reported %q", m[1], strings.TrimSpace(stderr))
		}
		answer = strings.TrimSpace(answer[len(m[0]):])
	}
	switch {
	case answer == "":
		return nil
	case strings.HasPrefix(answer, "{") || strings.HasPrefix(answer, "["):
		var want, got any
		pattern := openEnd.ReplaceAllStringFunc(answer, func(s string) string {
			if strings.HasSuffix(s, "}") {
				return `, "` + openMark + `": true}`
			}
			return `, "` + openMark + `"]`
		})
		if err := json.Unmarshal([]byte(pattern), &want); err != nil {
			return fmt.Errorf("the README's answer is not JSON with … marks: %v", err)
		}
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			return fmt.Errorf("the output is not JSON: %v", err)
		}
		return matchJSON("$", want, got)
	}
	if !containsInOrder(strings.Join(strings.Fields(stdout), " "), strings.Split(answer, "…")) {
		return fmt.Errorf("the output does not hold the text shown")
	}
	return nil
}

// matchJSON matches a value against a pattern of the README (see
// TestREADMETour); path names the place for the error.
func matchJSON(path string, want, got any) error {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want an object, got %v", path, got)
		}
		_, open := w[openMark]
		for k, wv := range w {
			if k == openMark {
				continue
			}
			gv, ok := g[k]
			if !ok {
				return fmt.Errorf("%s: no member %q", path, k)
			}
			if err := matchJSON(path+"."+k, wv, gv); err != nil {
				return err
			}
		}
		if !open && len(g) != len(w) {
			return fmt.Errorf("%s: %d members, the README shows %d (end the object with … to show part of it)", path, len(g), len(w))
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			return fmt.Errorf("%s: want an array, got %v", path, got)
		}
		open := len(w) > 0 && w[len(w)-1] == openMark
		if open {
			w = w[:len(w)-1]
		}
		if len(g) < len(w) || (!open && len(g) != len(w)) {
			return fmt.Errorf("%s: %d elements, the README shows %d", path, len(g), len(w))
		}
		for i := range w {
			if err := matchJSON(fmt.Sprintf("%s[%d]", path, i), w[i], g[i]); err != nil {
				return err
			}
		}
	case string:
		g, ok := got.(string)
		if !ok || !containsInOrder(g, strings.Split(w, "…")) || !strings.HasPrefix(g, strings.Split(w, "…")[0]) {
			return fmt.Errorf("%s: %q, the README shows %q", path, got, w)
		}
	default:
		if !reflect.DeepEqual(want, got) {
			return fmt.Errorf("%s: %v, the README shows %v", path, got, want)
		}
	}
	return nil
}

// containsInOrder reports whether s holds each of pieces (spaces trimmed),
// one after the other.
func containsInOrder(s string, pieces []string) bool {
	for _, p := range pieces {
		p = strings.Join(strings.Fields(p), " ")
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}

// The matcher of the README's answers refuses what the README does not show.
func TestCheckAnswer(t *testing.T) {
	tests := []struct {
		answer, stdout, stderr string
		ok                     bool
	}{
		{`201 {"A": 1, …}`, `{"A":1,"B":2}`, "HTTP 201\n", true},
		{`201 {"A": 1, …}`, `{"A":1,"B":2}`, "HTTP 200\n", false},
		{`{"A": 1}`, `{"A":1,"B":2}`, "", false},
		{`{"A": 1, …}`, `{"A":2}`, "", false},
		{`{"value": [{"A": 1, …}], …}`, `{"value":[{"A":1},{"A":2}]}`, "", false},
		{`{"value": [{"A": 1, …}, …]}`, `{"value":[{"A":1},{"A":2}]}`, "", true},
		{`{"M": "has changed since…"}`, `{"M":"has changed since it was read"}`, "", true},
		{`{"M": "has changed since…"}`, `{"M":"it has changed since"}`, "", false},
		{`{"value": []}`, `{"value":[]}`, "", true},
		{`{"value": [{"A": 1, …}]}`, `{"value":[]}`, "", false},
		{`204`, "204\n", "", true},
		{`PackageID  Name … PS100003 …`, "PackageID   Name\nPS100003  x\n", "", true},
		{`PS100003 … PackageID`, "PackageID   Name\nPS100003  x\n", "", false},
		{`{"A": 1`, `{"A":1}`, "", false},
	}
	for _, tc := range tests {
		if err := checkAnswer(tc.answer, tc.stdout, tc.stderr); (err == nil) != tc.ok {
			t.Errorf("answer %s, output %s: %v, want ok %v", tc.answer, tc.stdout, err, tc.ok)
		}
	}
}
