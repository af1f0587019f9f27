package bench

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkContentSnapshot: snapshot + hash of a package source folder of
// -content.mb MiB (1 GiB by default; made by the benchmark: mixed file
// sizes from 4 KiB to 64 MiB in nested folders) through the real server:
// a `tsprov serve` process creates an SMS_Package with that PkgSourcePath
// (the snapshot into a new, empty content library) and answers
// GetPackageDefaultHash; next to `sha256sum` over the same files, in turn
// (A B A B …). Reports both times, x-ref (tsprov's time over sha256sum's:
// 1.25 is 80 % of its throughput), both throughputs and both peak RSS.
// Linux only (peak RSS from /proc and rusage).
//
//	go test ./bench/ -run '^$' -bench ContentSnapshot -benchtime 3x
//	go test ./bench/ -run '^$' -bench ContentSnapshot -benchtime 1x -content.mb 16   # a quick check
var contentMB = flag.Int("content.mb", 1024, "BenchmarkContentSnapshot: MiB of files in the source folder")

// contentSizes are the file sizes the source folder cycles through.
var contentSizes = []int64{64 << 20, 16 << 20, 4 << 20, 1 << 20, 256 << 10, 64 << 10, 4 << 10}

// buildContentFolder writes about total bytes of random files under dir
// and returns the files' paths.
func buildContentFolder(b *testing.B, dir string, total int64) []string {
	b.Helper()
	rng := rand.NewChaCha8([32]byte{'t', 's', 'p', 'r', 'o', 'v'})
	buf := make([]byte, 1<<20)
	var paths []string
	var written int64
	for i := 0; written < total; i++ {
		size := min(contentSizes[i%len(contentSizes)], total-written)
		sub := filepath.Join(dir, fmt.Sprintf("part%02d", i%8), fmt.Sprintf("set%d", i%3))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			b.Fatal(err)
		}
		p := filepath.Join(sub, fmt.Sprintf("file%04d.bin", i))
		f, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		for left := size; left > 0; {
			n := min(left, int64(len(buf)))
			_, _ = rng.Read(buf[:n])
			if _, err := f.Write(buf[:n]); err != nil {
				b.Fatal(err)
			}
			left -= n
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		paths = append(paths, p)
		written += size
	}
	return paths
}

func BenchmarkContentSnapshot(b *testing.B) {
	sum, err := exec.LookPath("sha256sum")
	if err != nil {
		b.Skip("needs sha256sum")
	}
	timeBin, err := exec.LookPath("time")
	if err != nil {
		timeBin = "/usr/bin/time"
	}
	if _, err := os.Stat(timeBin); err != nil {
		b.Skip("needs GNU time (Debian package time) for sha256sum's peak RSS")
	}
	work := b.TempDir()
	bin := build(b, work, "./cmd/tsprov")
	src := filepath.Join(work, "source")
	total := int64(*contentMB) << 20
	files := buildContentFolder(b, src, total)

	var tsPeak, refPeak int64
	var hash string
	var tTs, tRef time.Duration
	for i := 0; i < b.N; i++ {
		// tsprov: a fresh server and library each time, so that every run
		// stores every file (the first snapshot of a package).
		lib := filepath.Join(work, fmt.Sprintf("content%d", i))
		s := startServeProcess(b, bin, "--data", filepath.Join(work, fmt.Sprintf("data%d", i)), "--content", lib)
		s.resetPeak(b)
		start := time.Now()
		var pkg struct{ PackageID string }
		body, _ := json.Marshal(map[string]any{"Name": "Bench", "PkgSourcePath": src, "PkgSourceFlag": 2})
		if err := json.Unmarshal(s.call(b, "POST", s.url+"/AdminService/wmi/SMS_Package", body, http.StatusCreated), &pkg); err != nil {
			b.Fatal(err)
		}
		q, _ := json.Marshal(map[string]any{"PackageID": pkg.PackageID, "SourceVersion": 1})
		var res struct{ Hash string }
		if err := json.Unmarshal(s.call(b, "POST", s.url+"/AdminService/wmi/SMS_TaskSequencePackage.GetPackageDefaultHash", q, http.StatusOK), &res); err != nil {
			b.Fatal(err)
		}
		tTs += time.Since(start)
		_, peak := s.rss(b)
		tsPeak = max(tsPeak, peak)
		if hash != "" && res.Hash != hash || len(res.Hash) != 64 {
			b.Fatalf("content hash %q, earlier %q", res.Hash, hash)
		}
		hash = res.Hash
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		if err := os.RemoveAll(lib); err != nil {
			b.Fatal(err)
		}

		// sha256sum over the same files, its peak RSS as GNU time reports
		// it (the rusage of a child Go starts counts the Go process it
		// was cloned from).
		cmd := exec.Command(timeBin, append([]string{"-f", "%M", sum}, files...)...)
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		start = time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatalf("sha256sum: %v %s", err, errOut.Bytes())
		}
		tRef += time.Since(start)
		fields := strings.Fields(errOut.String())
		if kb, err := strconv.ParseInt(fields[len(fields)-1], 10, 64); err == nil {
			refPeak = max(refPeak, kb<<10)
		}
	}
	n := time.Duration(max(b.N, 1))
	report(b, tTs/n, tRef/n)
	mib := float64(total) / (1 << 20)
	b.ReportMetric(mib/(tTs/n).Seconds(), "tsprov-MiB/s")
	b.ReportMetric(mib/(tRef/n).Seconds(), "ref-MiB/s")
	b.ReportMetric(float64(tsPeak)/(1<<20), "tsprov-peak-RSS-MiB")
	b.ReportMetric(float64(refPeak)/(1<<20), "ref-peak-RSS-MiB")
}
