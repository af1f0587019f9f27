package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The first start of `tsprov serve` on an empty data folder prints a
// one-time token on standard output (not in the log); the next start
// prints none; client commands take it from --token or TSPROV_TOKEN.
func TestFirstStartPrintsATokenClientsUse(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dir := t.TempDir()
	// start runs the server on dir until it is ready, stops it, and
	// returns what it wrote on standard output and in its log.
	start := func() (stdout, logs string) {
		cmd := exec.Command(os.Args[0], "serve", "--data", dir, "--listen", "127.0.0.1:0")
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
		defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
		outc := make(chan string, 1)
		go func() { b, _ := io.ReadAll(outPipe); outc <- string(b) }()
		var log strings.Builder
		ready := make(chan bool, 1)
		logc := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(errPipe)
			sent := false
			for sc.Scan() {
				log.WriteString(sc.Text() + "\n")
				if !sent && strings.Contains(sc.Text(), `"msg":"tsprov serving"`) {
					ready <- true
					sent = true
				}
			}
			if !sent {
				ready <- false
			}
			logc <- log.String()
		}()
		select {
		case ok := <-ready:
			if !ok {
				t.Fatalf("server exited before it was ready")
			}
		case <-time.After(30 * time.Second):
			t.Fatal("server not ready after 30 s")
		}
		_ = cmd.Process.Signal(os.Interrupt)
		return <-outc, <-logc
	}
	out, logs := start()
	tok := regexp.MustCompile(`tsp_[A-Za-z0-9_-]{43}`).FindString(out)
	if tok == "" {
		t.Fatalf("no token on standard output:\n%s", out)
	}
	if strings.Contains(logs, tok) {
		t.Errorf("the token is in the log")
	}
	// second start: no new token; the first one works
	if out2, _ := start(); strings.Contains(out2, "tsp_") {
		t.Errorf("a second start printed a token:\n%s", out2)
	}
	srv := startServerProcess(t, dir)
	server := "--server=" + srv.url
	t.Setenv("TSPROV_TOKEN", "")
	code, _, errOut := runCLI("list", server)
	if code != 1 || !strings.Contains(errOut, "401") {
		t.Errorf("list without a token: %d %q", code, errOut)
	}
	if code, _, errOut := runCLI("list", server, "--token", tok); code != 0 {
		t.Errorf("list --token: %d %s", code, errOut)
	}
	t.Setenv("TSPROV_TOKEN", tok)
	if code, _, errOut := runCLI("list", server); code != 0 {
		t.Errorf("list with TSPROV_TOKEN: %d %s", code, errOut)
	}
}

// tsprov admin manages users and tokens; tsprov audit shows the trail.
func TestAdminAndAuditCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	srv := startServerProcess(t, t.TempDir())
	server := "--server=" + srv.url
	code, out, errOut := runCLI("admin", "user", "add", "erin", "--role", "Operating System Deployment Manager", "--scope", "Default", server)
	if code != 0 || strings.TrimSpace(out) == "" {
		t.Fatalf("admin user add: %d %s %s", code, out, errOut)
	}
	code, out, errOut = runCLI("admin", "token", "create", "--user", "erin", "--description", "laptop", server)
	erin := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(erin, "tsp_") {
		t.Fatalf("admin token create: %d %q %s", code, out, errOut)
	}
	if code, out, errOut := runCLI("create", server, "--token", erin, "Name=Erin's"); code != 0 {
		t.Fatalf("create as erin: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := runCLI("admin", "user", "list", server, "--token", erin); code != 1 || !strings.Contains(errOut, "403") {
		t.Errorf("erin lists users: %d %q (the OSD manager may not)", code, errOut)
	}
	code, out, _ = runCLI("admin", "user", "list", server)
	if code != 0 || !strings.Contains(out, "erin") || !strings.Contains(out, "Operating System Deployment Manager") {
		t.Errorf("admin user list: %d\n%s", code, out)
	}
	code, out, _ = runCLI("admin", "token", "list", "--all", server, "--output", "json")
	var tokens []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &tokens) != nil || len(tokens) != 2 {
		t.Fatalf("admin token list: %d %s", code, out)
	}
	var erinID string
	for _, tk := range tokens {
		if tk["Description"] == "laptop" {
			erinID = tk["TokenID"].(string)
		}
	}
	if code, _, errOut := runCLI("admin", "token", "revoke", erinID, server); code != 0 {
		t.Fatalf("revoke: %s", errOut)
	}
	if code, _, errOut := runCLI("list", server, "--token", erin); code != 1 || !strings.Contains(errOut, "401") {
		t.Errorf("a revoked token: %d %q", code, errOut)
	}
	cmd := exec.Command(os.Args[0], "admin", "user", "passwd", "erin", server)
	cmd.Env = append(os.Environ(), "TSPROV_TEST_RUN_MAIN=1")
	cmd.Stdin = strings.NewReader("a long enough password\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("admin user passwd: %v %s", err, out)
	}
	code, out, errOut = runCLI("audit", server, "--filter", "User eq 'erin'", "--output", "json")
	var trail []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &trail) != nil {
		t.Fatalf("audit: %d %s %s", code, out, errOut)
	}
	if len(trail) != 2 || trail[0]["Action"] != "Create" || trail[0]["ClassName"] != "SMS_TaskSequencePackage" || trail[1]["Action"] != "Denied" {
		t.Errorf("erin's audit trail: %v", trail)
	}
	code, out, _ = runCLI("audit", server)
	if code != 0 || !strings.Contains(out, "TokenRevoked") || !strings.Contains(out, "PasswordSet") {
		t.Errorf("audit table: %d\n%s", code, out)
	}
	if code, _, errOut := runCLI("admin", "frobnicate", "x"); code != 2 || !strings.Contains(errOut, "unknown admin command") {
		t.Errorf("admin frobnicate: %d %q", code, errOut)
	}
}

// Off loopback the server speaks HTTPS with its self-signed certificate;
// the client trusts it with --cacert (or TSPROV_CACERT), and not without.
func TestClientOverSelfSignedTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	dir := t.TempDir()
	srv := startServerProcess(t, dir, "--listen", "0.0.0.0:0")
	if !strings.HasPrefix(srv.url, "https://") {
		t.Fatalf("server URL %s", srv.url)
	}
	server := "--server=https://127.0.0.1" + srv.url[strings.LastIndex(srv.url, ":"):]
	cert := dir + "/tls.crt"
	if code, out, errOut := runCLI("list", server, "--cacert", cert); code != 0 || !strings.HasPrefix(out, "PackageID") {
		t.Errorf("list --cacert: %d %s %s", code, out, errOut)
	}
	t.Setenv("TSPROV_CACERT", cert)
	if code, _, errOut := runCLI("query", server, "SELECT * FROM SMS_TaskSequencePackage"); code != 0 {
		t.Errorf("query with TSPROV_CACERT: %d %s", code, errOut)
	}
	t.Setenv("TSPROV_CACERT", "")
	if code, _, errOut := runCLI("list", server); code != 1 || !strings.Contains(errOut, "certificate") {
		t.Errorf("list without the certificate: %d %q", code, errOut)
	}
	if code, _, errOut := runCLI("list", server, "--cacert", dir+"/missing.crt"); code != 1 || !strings.Contains(errOut, "CA certificate") {
		t.Errorf("list with a missing CA file: %d %q", code, errOut)
	}
	// plain HTTP against the HTTPS server: one line that says to use https
	plain := "http://" + strings.TrimPrefix(server, "--server=https://")
	if code, _, errOut := runCLI("list", "--server", plain); code != 1 || !strings.Contains(errOut, "use https://") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("list over http against https: %d %q", code, errOut)
	}
}
