package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/apitest"
	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/taskseq"
	"github.com/tsprov/tsprov/schema"
)

// The memory benchmarks run `tsprov serve` as its own process (default
// settings, rate limit off) and read its peak resident set size (VmHWM)
// from /proc, reset through /proc/PID/clear_refs before the load so that
// the figure is the load's. Linux only.
//
//	go test -run '^$' -bench PeakRSS -benchtime 1x ./bench/

// rssServer is a `tsprov serve` process.
type rssServer struct {
	cmd   *exec.Cmd
	url   string
	token string
}

func startRSSServer(b *testing.B) *rssServer {
	b.Helper()
	dir := b.TempDir()
	bin := build(b, dir, "./cmd/tsprov")
	return startServeProcess(b, bin, "--data", filepath.Join(dir, "data"))
}

// startServeProcess runs the tsprov binary bin as `tsprov serve` on a
// free loopback port, rate limit off, with the flags args (--data …), and
// stops it when the benchmark ends (or when its stop is called).
func startServeProcess(b *testing.B, bin string, args ...string) *rssServer {
	b.Helper()
	if _, err := os.Stat("/proc/self/clear_refs"); err != nil {
		b.Skip("needs Linux's /proc to read peak resident memory")
	}
	tok, _, err := auth.NewToken()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--rate-limit", "-1"}, args...)...)
	cmd.Env = append(os.Environ(), "TSPROV_ADMIN_TOKEN="+tok)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		var line struct {
			Msg, URL string
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "tsprov serving" {
			go func() { _, _ = io.Copy(io.Discard, stderr) }()
			return &rssServer{cmd: cmd, url: strings.TrimSuffix(line.URL, "/AdminService/wmi/"), token: tok}
		}
	}
	b.Fatal("tsprov serve exited before it was ready")
	return nil
}

// resetPeak makes the process's peak RSS start again from its current RSS.
func (s *rssServer) resetPeak(b *testing.B) {
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.cmd.Process.Pid), []byte("5"), 0); err != nil {
		b.Fatal(err)
	}
}

// rss returns the current and the peak resident set size in bytes.
func (s *rssServer) rss(b *testing.B) (cur, peak int64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		name, v, _ := strings.Cut(line, ":")
		kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		switch name {
		case "VmRSS":
			cur = kb << 10
		case "VmHWM":
			peak = kb << 10
		}
	}
	return cur, peak
}

// call sends one request, waiting out a 503's Retry-After, and returns the
// answer's body; any other status than want fails the benchmark.
func (s *rssServer) call(b *testing.B, method, url string, body []byte, want int) []byte {
	for attempt := 0; attempt < 30; attempt++ {
		req, err := http.NewRequest(method, url, bytes.NewReader(body))
		if err != nil {
			b.Error(err)
			return nil
		}
		req.Header.Set("Authorization", "Bearer "+s.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := httpClient.Do(req)
		if err != nil {
			b.Error(err)
			return nil
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			time.Sleep(time.Duration(max(secs, 1)) * time.Second)
			continue
		}
		if resp.StatusCode != want {
			b.Errorf("%s %s: %d %.300s", method, url, resp.StatusCode, out)
		}
		return out
	}
	b.Errorf("%s %s: still busy after 30 attempts", method, url)
	return nil
}

// parallel runs fn n times at once and waits for all.
func parallel(n int, fn func()) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); fn() }()
	}
	wg.Wait()
}

func reportRSS(b *testing.B, idle, peak, input int64) {
	b.ReportMetric(float64(idle)/(1<<20), "idle-MiB")
	b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
	b.ReportMetric(float64(peak-idle)/float64(input), "x-input")
}

// BenchmarkPeakRSSImports16: 16 ImportSequence calls at once of a
// maximum-size task sequence (just under 2 MB, the steps of a real
// ConfigMgr export repeated). x-input is the growth of the peak over the
// server at rest, divided by the 16 inputs' total size.
func BenchmarkPeakRSSImports16(b *testing.B) {
	s := startRSSServer(b)
	xml := apitest.BigSequence(b, "../testdata/ts-corpus/gwblok__garytown__OSD_CloudOSD_OSDCloudTaskSequence__SMS_TaskSequencePackage_MEM000F8_object.xml",
		taskseq.MaxSequenceBytes-100_000, taskseq.MaxSequenceBytes)
	body, _ := json.Marshal(map[string]string{"SequenceXML": string(xml)})
	url := s.url + "/AdminService/wmi/SMS_TaskSequencePackage.ImportSequence"
	var peak, idle int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		idle, _ = s.rss(b)
		s.resetPeak(b)
		parallel(16, func() { s.call(b, "POST", url, body, 200) })
		_, p := s.rss(b)
		peak = max(peak, p)
	}
	b.StopTimer()
	reportRSS(b, idle, peak, 16*int64(len(xml)))
}

// BenchmarkPeakRSSLists8: 8 clients at once each read the whole
// collection of 1,000 packages whose every writable string property holds
// as many characters as its max(N) allows, following @odata.nextLink.
// x-input is the growth of the peak over the server at rest, divided by
// the size of one whole collection as JSON.
func BenchmarkPeakRSSLists8(b *testing.B) {
	s := startRSSServer(b)
	reg, err := schema.Registry()
	if err != nil {
		b.Fatal(err)
	}
	c, _ := reg.Class("SMS_TaskSequencePackage")
	pkg := map[string]any{}
	for _, p := range c.Properties {
		if n, ok := p.MaxLength(); ok && !p.IsReadOnly() && !p.IsKey() && !p.IsLazy() && p.Qualifiers.String("ValueMap") == "" {
			pkg[p.Name] = strings.Repeat("x", n)
		}
	}
	url := s.url + "/AdminService/wmi/SMS_TaskSequencePackage"
	for i := 0; i < 1000; i++ {
		pkg["Name"] = fmt.Sprintf("%-50d", i)
		body, _ := json.Marshal(pkg)
		s.call(b, "POST", url, body, 201)
	}
	var whole int64
	walk := func() {
		var n int64
		for next := url; next != ""; {
			out := s.call(b, "GET", next, nil, 200)
			n += int64(len(out))
			var page struct {
				Next string `json:"@odata.nextLink"`
			}
			_ = json.Unmarshal(out, &page)
			next = page.Next
		}
		whole = n
	}
	walk()
	var peak, idle int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		idle, _ = s.rss(b)
		s.resetPeak(b)
		parallel(8, walk)
		_, p := s.rss(b)
		peak = max(peak, p)
	}
	b.StopTimer()
	reportRSS(b, idle, peak, whole)
}
