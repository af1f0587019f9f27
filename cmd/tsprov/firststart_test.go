package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/store/postgres/pgtest"
)

var tokenPattern = regexp.MustCompile(`tsp_[A-Za-z0-9_-]{43}`)

// serveOnce runs `tsprov serve --data dir --listen listen` with no
// TSPROV_ADMIN_TOKEN until it is ready, then stops it, or until it exits.
// It returns what the process wrote on standard output and standard error,
// whether it became ready, and its exit status.
func serveOnce(t *testing.T, dir, listen string, extra ...string) (stdout, stderr string, ready bool, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--data", dir, "--listen", listen}, extra...)...)
	cmd.Env = append(os.Environ(), "TSPROV_TEST_RUN_MAIN=1", "TSPROV_ADMIN_TOKEN=")
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	outc := make(chan string, 1)
	go func() { b, _ := io.ReadAll(outPipe); outc <- string(b) }()
	readyc := make(chan bool, 1)
	errc := make(chan string, 1)
	go func() {
		var all strings.Builder
		sc := bufio.NewScanner(errPipe)
		sent := false
		for sc.Scan() {
			all.WriteString(sc.Text() + "\n")
			if !sent && (strings.Contains(sc.Text(), `"msg":"tsprov serving"`) || strings.Contains(sc.Text(), `msg="tsprov serving"`)) {
				readyc <- true
				sent = true
			}
		}
		if !sent {
			readyc <- false
		}
		errc <- all.String()
	}()
	select {
	case ready = <-readyc:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("server neither ready nor gone after 30 s")
	}
	if ready {
		_ = cmd.Process.Signal(os.Interrupt)
	}
	stdout, stderr = <-outc, <-errc
	err = cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	}
	return stdout, stderr, ready, code
}

// A first start that cannot serve (its address is taken) creates nothing
// and spends no token: it fails in one line, and the next start, on a free
// address, prints the one-time token, which works.
func TestFirstStartOnATakenPortSpendsNoToken(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := filepath.Join(t.TempDir(), "data")

	stdout, stderr, ready, code := serveOnce(t, dir, taken.Addr().String())
	if ready || code != 1 {
		t.Fatalf("serve on a taken port: ready %v, exit %d", ready, code)
	}
	if lines := strings.Split(strings.TrimSpace(stderr), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "already in use") || !strings.Contains(lines[0], taken.Addr().String()) {
		t.Errorf("stderr %q: want one line saying the address is in use", stderr)
	}
	if stdout != "" {
		t.Errorf("a failed start printed %q", stdout)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed start created the data folder (%v)", err)
	}

	srv := startFirstServer(t, dir)
	if srv.token == "" {
		t.Fatal("the start after the failed one printed no token")
	}
	t.Setenv("TSPROV_TOKEN", "")
	if code, out, errOut := runCLI("list", "--server", srv.url, "--token", srv.token); code != 0 || !strings.HasPrefix(out, "PackageID") {
		t.Errorf("list with the printed token: %d %s %s", code, out, errOut)
	}
}

// startFirstServer starts a server on dir with no TSPROV_ADMIN_TOKEN and
// returns it with the token its first start printed (none on a later one).
func startFirstServer(t *testing.T, dir string) *serverProcess {
	t.Helper()
	p := startServerProcessEnv(t, dir, []string{"TSPROV_ADMIN_TOKEN="})
	deadline := time.Now().Add(10 * time.Second)
	for {
		// the token is printed before the server says it is serving
		p.token = tokenPattern.FindString(p.stdout.String())
		if p.token != "" || time.Now().After(deadline) {
			return p
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tsprov admin reset-token works on the data folder with no credentials:
// it prints a new token for the first Full Administrator (or --user) that
// the running server accepts, and the audit trail records it.
func TestResetTokenRecoversAccess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	dir := t.TempDir()
	srv := startFirstServer(t, dir)
	if srv.token == "" {
		t.Fatal("the first start printed no token")
	}
	t.Setenv("TSPROV_TOKEN", "")
	server := "--server=" + srv.url

	// the printed token is lost; the data folder is all there is
	code, out, errOut := runCLI("admin", "reset-token", "--data", dir)
	tok := strings.TrimSpace(out)
	if code != 0 || !tokenPattern.MatchString(tok) || tok == srv.token {
		t.Fatalf("reset-token: %d %q %q", code, out, errOut)
	}
	if code, out, errOut := runCLI("list", server, "--token", tok); code != 0 || !strings.HasPrefix(out, "PackageID") {
		t.Errorf("list with the reset token: %d %s %s", code, out, errOut)
	}
	code, out, errOut = runCLI("audit", server, "--token", tok, "--filter", "Action eq 'TokenReset'", "--output", "json")
	if code != 0 || !strings.Contains(out, `"User": "local:`) || !strings.Contains(out, `"ObjectKey": "16777217"`) {
		t.Errorf("audit of the reset: %d %s %s", code, out, errOut)
	}

	// --user picks another user; mistakes fail in one line and change nothing
	if code, out, errOut := runCLI("admin", "user", "add", "dana", server, "--token", tok); code != 0 {
		t.Fatalf("user add: %d %s %s", code, out, errOut)
	}
	code, out, errOut = runCLI("admin", "reset-token", "--data", dir, "--user", "dana")
	if code != 0 || !tokenPattern.MatchString(out) {
		t.Fatalf("reset-token --user dana: %d %q %q", code, out, errOut)
	}
	if code, out, errOut := runCLI("admin", "token", "list", server, "--token", strings.TrimSpace(out), "--output", "json"); code != 0 || !strings.Contains(out, `"AdminID": 16777218`) {
		t.Errorf("dana's token lists her own tokens: %d %s %s", code, out, errOut)
	}
	empty := filepath.Join(t.TempDir(), "empty")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"admin", "reset-token", "--data", dir, "--user", "nobody"}, "nobody"},
		{[]string{"admin", "reset-token", "--data", empty}, "no store"},
	} {
		code, out, errOut := runCLI(tc.args...)
		if code != 1 || out != "" || !strings.Contains(errOut, tc.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v: %d %q %q; want exit 1 and one line mentioning %q", tc.args, code, out, errOut, tc.want)
		}
	}
	if _, err := os.Stat(empty); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("reset-token on a missing folder created it (%v)", err)
	}
}

// On PostgreSQL, reset-token works on the database the servers share.
func TestResetTokenOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	url := pgtest.URL(t, t.Name())
	srv := startServerProcess(t, t.TempDir(), "--database", url)
	t.Setenv("TSPROV_TOKEN", "")
	code, out, errOut := runCLI("admin", "reset-token", "--data", t.TempDir(), "--database", url)
	tok := strings.TrimSpace(out)
	if code != 0 || !tokenPattern.MatchString(tok) {
		t.Fatalf("reset-token --database: %d %q %q", code, out, errOut)
	}
	if code, out, errOut := runCLI("list", "--server", srv.url, "--token", tok); code != 0 || !strings.HasPrefix(out, "PackageID") {
		t.Errorf("list with the reset token: %d %s %s", code, out, errOut)
	}
}
