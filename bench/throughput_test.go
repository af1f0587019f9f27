package bench

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var (
	throughputTool        = flag.String("throughput.tool", "auto", "BenchmarkGetByKeyThroughput: load generator, wrk or go (auto: wrk when on PATH)")
	throughputConnections = flag.Int("throughput.connections", 32, "BenchmarkGetByKeyThroughput: connections kept open at once")
	throughputRound       = flag.Duration("throughput.round", 2*time.Second, "BenchmarkGetByKeyThroughput: how long each server is loaded in each round")
)

// BenchmarkGetByKeyThroughput: requests per second of GET by key through
// the real server stack (server.Run: token authentication, rate limiter,
// request log, metrics, scopes, audit) against a bare net/http handler
// that serves the same body with the same Content-Type, under the same
// load: -throughput.connections connections at once, from wrk (-t2) or a
// Go load generator. Each of the b.N rounds loads tsprov and then the bare
// handler for -throughput.round each (ABAB…). It reports both rates and
// their ratio (x-bare: tsprov's rate over the bare handler's, the goal is
// at least 0.5; x-bare-median, the median of each round's ratio, which a
// burst of other work on the machine moves less), the heap allocations
// per tsprov request (the server's alone when wrk generates the load) and
// the CPU time this process spent per request of each server
// (tsprov-cpu-µs/req, bare-cpu-µs/req: user and system time from getrusage
// over each server's rounds; the servers' alone when wrk generates the
// load, the load generator's too when Go does). The CPU per request moves
// much less with the machine's other work than the rates do, so it is the
// figure to compare two trees by on a shared machine.
//
//	go test -run '^$' -bench GetByKeyThroughput -benchtime 3x ./bench/
func BenchmarkGetByKeyThroughput(b *testing.B) {
	ts := tsprovServer(b)
	id := createPackage(b, ts, map[string]any{"Name": "Windows 11 24H2 - x64", "Description": "Bare metal deployment"})
	path := packagePath(id)
	status, body, header, err := fetchWithHeader(ts, path)
	if err != nil || status != http.StatusOK {
		b.Fatalf("GET %s: %d %v %.300s", path, status, err, body)
	}
	bare := bareServer(b, body, header.Get("Content-Type"))
	load := loadGenerator(b)
	b.Logf("load: %s, %d connections, %v a round a server; body %d bytes", *throughputTool, *throughputConnections, *throughputRound, len(body))

	var tsN, bareN int64
	var tsTook, bareTook, tsCPU, bareCPU time.Duration
	var mallocs uint64
	var ms runtime.MemStats
	var ratios []float64 // of each round's two rates
	b.ResetTimer()
	for range b.N {
		runtime.ReadMemStats(&ms)
		before, cpu := ms.Mallocs, processCPU(b)
		n, d := load(ts, path)
		tsCPU += processCPU(b) - cpu
		runtime.ReadMemStats(&ms)
		mallocs += ms.Mallocs - before
		tsN, tsTook = tsN+n, tsTook+d
		rate := float64(n) / d.Seconds()
		cpu = processCPU(b)
		n, d = load(bare, path)
		bareCPU += processCPU(b) - cpu
		bareN, bareTook = bareN+n, bareTook+d
		ratios = append(ratios, rate/(float64(n)/d.Seconds()))
	}
	b.StopTimer()
	tsRate, bareRate := float64(tsN)/tsTook.Seconds(), float64(bareN)/bareTook.Seconds()
	b.ReportMetric(tsRate, "tsprov-req/s")
	b.ReportMetric(bareRate, "bare-req/s")
	b.ReportMetric(tsRate/bareRate, "x-bare")
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "x-bare-median")
	b.ReportMetric(float64(mallocs)/float64(max(tsN, 1)), "tsprov-allocs/req")
	b.ReportMetric(float64(tsCPU.Microseconds())/float64(max(tsN, 1)), "tsprov-cpu-µs/req")
	b.ReportMetric(float64(bareCPU.Microseconds())/float64(max(bareN, 1)), "bare-cpu-µs/req")
}

// processCPU is the user and system CPU time this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fetchWithHeader sends one GET and returns the status, body and header.
func fetchWithHeader(t target, path string) (int, []byte, http.Header, error) {
	req, err := http.NewRequest(http.MethodGet, t.url+path, nil)
	if err != nil {
		return 0, nil, nil, err
	}
	if t.token != "" {
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, resp.Header, err
}

// bareServer is the floor: a bare net/http server whose one handler writes
// body with contentType, whatever the path.
func bareServer(b *testing.B, body []byte, contentType string) target {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write(body)
	})}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { srv.Close() })
	return target{url: "http://" + ln.Addr().String()}
}

// loadGenerator returns the function that loads a server with GETs of path
// for one round and returns how many answers came and how long it took.
func loadGenerator(b *testing.B) func(t target, path string) (int64, time.Duration) {
	b.Helper()
	tool := *throughputTool
	if tool == "auto" {
		tool = "go"
		if _, err := exec.LookPath("wrk"); err == nil {
			tool = "wrk"
		}
		*throughputTool = tool
	}
	switch tool {
	case "wrk":
		bin, err := exec.LookPath("wrk")
		if err != nil {
			b.Skip("wrk not installed (Debian package wrk); -throughput.tool=go uses the Go load generator")
		}
		return func(t target, path string) (int64, time.Duration) { return wrkRound(b, bin, t, path) }
	case "go":
		return func(t target, path string) (int64, time.Duration) { return goRound(b, t, path) }
	}
	b.Fatalf("-throughput.tool=%s: want wrk, go or auto", tool)
	return nil
}

var (
	wrkRequests = regexp.MustCompile(`(\d+) requests in ([0-9.]+)(us|ms|s|m)`)
	wrkErrors   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)|Socket errors: .*`)
)

// wrkRound runs wrk -t2 against t for one round.
func wrkRound(b *testing.B, bin string, t target, path string) (int64, time.Duration) {
	args := []string{"-t2", "-c" + strconv.Itoa(*throughputConnections), "-d" + throughputRound.String()}
	if t.token != "" {
		args = append(args, "-H", "Authorization: Bearer "+t.token)
	}
	out, err := exec.Command(bin, append(args, t.url+path)...).CombinedOutput()
	if err != nil {
		b.Fatalf("wrk: %v\n%s", err, out)
	}
	if m := wrkErrors.Find(out); m != nil {
		b.Fatalf("wrk: %s\n%s", m, out)
	}
	m := wrkRequests.FindSubmatch(out)
	if m == nil {
		b.Fatalf("wrk: no request count in\n%s", out)
	}
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	d, err := time.ParseDuration(string(m[2]) + string(m[3]))
	if err != nil {
		b.Fatal(err)
	}
	return n, d
}

// goRound loads t with -throughput.connections goroutines, each on a
// connection of its own, for one round.
func goRound(b *testing.B, t target, path string) (int64, time.Duration) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *throughputConnections, MaxConnsPerHost: *throughputConnections}}
	defer client.CloseIdleConnections()
	var n atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(*throughputRound)
	for range *throughputConnections {
		wg.Go(func() {
			var buf bytes.Buffer
			for time.Now().Before(deadline) {
				req, _ := http.NewRequest(http.MethodGet, t.url+path, nil)
				if t.token != "" {
					req.Header.Set("Authorization", "Bearer "+t.token)
				}
				resp, err := client.Do(req)
				if err != nil {
					failed.Store(err)
					return
				}
				buf.Reset()
				_, _ = buf.ReadFrom(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Store(fmt.Errorf("GET %s: %d", path, resp.StatusCode))
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	if err, ok := failed.Load().(error); ok {
		b.Fatal(err)
	}
	return n.Load(), took
}
