package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/auth"
)

// The test binary doubles as the tsprov binary: with TSPROV_TEST_RUN_MAIN=1
// it runs the command line instead of the tests, so tests can start real
// server processes (and kill them).
func TestMain(m *testing.M) {
	if os.Getenv("TSPROV_TEST_RUN_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// serverProcess is a tsprov serve child process.
type serverProcess struct {
	cmd    *exec.Cmd
	url    string      // http://127.0.0.1:port
	token  string      // the first Full Administrator's API token
	stdout *syncBuffer // what the process wrote on standard output
}

// syncBuffer is a buffer that a process writes while a test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testAdminToken is the token given to every test server as
// TSPROV_ADMIN_TOKEN (stored hashed on first start, ignored after) and to
// the in-process command line as TSPROV_TOKEN.
var testAdminToken = func() string {
	tok, _, err := auth.NewToken()
	if err != nil {
		panic(err)
	}
	return tok
}()

// startServerProcess runs `tsprov serve` on dataDir on a free port and waits
// until it accepts requests.
func startServerProcess(t *testing.T, dataDir string, extra ...string) *serverProcess {
	t.Helper()
	t.Setenv("TSPROV_TOKEN", testAdminToken)
	return startServerProcessEnv(t, dataDir, []string{"TSPROV_ADMIN_TOKEN=" + testAdminToken}, extra...)
}

// startServerProcessEnv is startServerProcess with env added to the
// process's environment.
func startServerProcessEnv(t *testing.T, dataDir string, env []string, extra ...string) *serverProcess {
	t.Helper()
	args := append([]string{"serve", "--data", dataDir, "--listen", "127.0.0.1:0"}, extra...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "TSPROV_TEST_RUN_MAIN=1"), env...)
	stdout := &syncBuffer{}
	cmd.Stdout = stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serverProcess{cmd: cmd, token: testAdminToken, stdout: stdout}
	t.Cleanup(func() { p.kill() })
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			var line struct {
				Msg string `json:"msg"`
				URL string `json:"url"`
			}
			if !sent && json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "tsprov serving" {
				urls <- strings.TrimSuffix(line.URL, "/AdminService/wmi/")
				sent = true
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		close(urls)
	}()
	select {
	case u, ok := <-urls:
		if !ok {
			t.Fatal("server exited before it was ready")
		}
		p.url = u
	case <-time.After(30 * time.Second):
		t.Fatal("server not ready after 30 s")
	}
	return p
}

func (p *serverProcess) kill() {
	if p.cmd.Process != nil && p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
}
