package bench

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os/exec"
	"syscall"
	"testing"
)

// BenchmarkLint2MB: POST /tsprov/v1/lint of the 1.9 MB sequence as XML
// through the real server stack (JSON in, parse, every rule, the site's
// package facts from the store, JSON out), in turn with `xmllint --noout`
// on the same file.
func BenchmarkLint2MB(b *testing.B) {
	path, data := bigSequence(b)
	ref := xmllint(b, path)
	ts := tsprovServer(b)
	body, err := json.Marshal(map[string]any{"Sequence": string(data)})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	t, r := abab(b.N, func(int) {
		resp := ts.postRaw(b, "/tsprov/v1/lint", body, http.StatusOK)
		if !bytes.Contains(resp, []byte(`"findings"`)) {
			b.Fatalf("lint: %.300s", resp)
		}
	}, ref)
	b.StopTimer()
	report(b, t, r)
}

// BenchmarkTSLint2MB: `tsprov ts lint` of the 1.9 MB file, the whole
// process (start, schema, parse, size, every rule, the report), next to
// `xmllint --noout` on the same file, in turn; also the process's peak
// resident memory (maxRSS-MB).
func BenchmarkTSLint2MB(b *testing.B) {
	path, data := bigSequence(b)
	dir := b.TempDir()
	tsprov := build(b, dir, "./cmd/tsprov")
	ref := xmllint(b, path)
	var peak int64
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	t, r := abab(b.N, func(int) {
		var stderr bytes.Buffer
		cmd := exec.Command(tsprov, "ts", "lint", "--format", "json", path)
		cmd.Stdout, cmd.Stderr = devNull{}, &stderr
		err := cmd.Run()
		if code := cmd.ProcessState.ExitCode(); code != 0 && code != 3 && code != 4 && code != 5 {
			b.Fatalf("tsprov ts lint: %v %s", err, stderr.Bytes())
		}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			peak = max(peak, ru.Maxrss)
		}
	}, ref)
	b.StopTimer()
	report(b, t, r)
	b.ReportMetric(float64(peak)/1024, "maxRSS-MB")
}
