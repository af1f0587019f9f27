package bench

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// build compiles a main package of this module into dir.
func build(b *testing.B, dir, pkg string) string {
	b.Helper()
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = ".."
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build %s: %v\n%s", pkg, err, msg)
	}
	return out
}

// timeToReady starts the binary and returns the time until it answers
// /healthz, then kills it.
func timeToReady(b *testing.B, bin string, args ...string) time.Duration {
	start := time.Now()
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		i := strings.Index(line, `"url":"`)
		if i < 0 {
			continue
		}
		u := line[i+len(`"url":"`):]
		u = u[:strings.Index(u, "/AdminService/")]
		for time.Since(start) < 30*time.Second {
			resp, err := http.Get(u + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					d := time.Since(start)
					go func() { _, _ = bufio.NewReader(stderr).WriteTo(devNull{}) }()
					return d
				}
			}
			time.Sleep(time.Millisecond)
		}
	}
	b.Fatalf("%s never became ready", bin)
	return 0
}

type devNull struct{}

func (devNull) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkServeReady: from exec to the first answered /healthz, on an
// existing data folder, next to the smallest net/http server binary.
func BenchmarkServeReady(b *testing.B) {
	dir := b.TempDir()
	tsprov := build(b, dir, "./cmd/tsprov")
	ref := build(b, dir, "./bench/refserver")
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		b.Fatal(err)
	}
	args := []string{"serve", "--data", data, "--listen", "127.0.0.1:0"}
	timeToReady(b, tsprov, args...) // first start creates the database
	b.ResetTimer()
	var t, r time.Duration
	for i := 0; i < b.N; i++ {
		t += timeToReady(b, tsprov, args...)
		r += timeToReady(b, ref)
	}
	b.StopTimer()
	report(b, t/time.Duration(b.N), r/time.Duration(b.N))
}
