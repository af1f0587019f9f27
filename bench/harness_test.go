package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/server"
)

// The harness: every HTTP benchmark sends its requests to tsprov's real
// server stack, the code `tsprov serve` runs (server.Run: TLS off on
// loopback, token authentication, the rate limiter, request logging,
// metrics, scopes and the audit trail), on a loopback listener, with a
// real API token in Authorization: Bearer. tsprov and its reference are
// called in turn (A B A B …, see abab) so that the machine's noise falls
// on both.

// benchRateLimit is the per-address request rate the benchmarked servers
// allow: the limiter runs on every request, as it does by default, but a
// benchmark's single client address is never refused.
const benchRateLimit = 1e9

// adminToken is the first Full Administrator's token of every server a
// benchmark starts in this process (servers sharing one database, or a
// data folder reused across runs, thus accept the same token).
var adminToken = sync.OnceValue(func() string {
	token, _, err := auth.NewToken()
	if err != nil {
		panic(err)
	}
	return token
})

// target is a server a benchmark sends requests to: a tsprov server (with
// its token) or a reference (no token).
type target struct {
	url   string
	token string // sent as Authorization: Bearer when not empty
}

// startTsprov runs a tsprov server (server.Run) until the benchmark ends:
// over the SQLite file in dataDir (a new temporary folder when empty), or
// over the PostgreSQL database at database when not empty. The log is
// written in JSON, as `tsprov serve --log-format json` writes it, and
// discarded. Each of with changes the configuration first.
func startTsprov(b *testing.B, dataDir, database string, with ...func(*server.Config)) target {
	b.Helper()
	if dataDir == "" {
		dataDir = b.TempDir()
	}
	log, err := server.NewLogger(io.Discard, server.LogJSON, slog.LevelInfo)
	if err != nil {
		b.Fatal(err)
	}
	cfg := server.Config{
		DataDir: dataDir, Database: database, Listen: "127.0.0.1:0", ServerName: "BENCH",
		AdminToken: adminToken(), RateLimit: benchRateLimit, Logger: log, Stdout: io.Discard,
	}
	for _, f := range with {
		f(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan string, 1)
	errc := make(chan error, 1)
	go func() { errc <- server.Run(ctx, cfg, func(addr string) { addrs <- addr }) }()
	select {
	case addr := <-addrs:
		b.Cleanup(func() {
			cancel()
			if err := <-errc; err != nil {
				b.Errorf("server.Run: %v", err)
			}
		})
		return target{url: "http://" + addr, token: adminToken()}
	case err := <-errc:
		cancel()
		b.Fatalf("server.Run: %v", err)
	case <-time.After(2 * time.Minute):
		cancel()
		b.Fatal("server not ready after 2 minutes")
	}
	return target{}
}

// tsprovServer starts tsprov over a new SQLite file.
func tsprovServer(b *testing.B) target {
	b.Helper()
	return startTsprov(b, "", "")
}

// request sends one request and returns the status and body.
func (t target) request(client *http.Client, method, path string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, t.url+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if t.token != "" {
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// post sends body as JSON and fails the benchmark unless the status is
// want; it returns the answer's body.
func (t target) post(b *testing.B, path string, body any, want int) []byte {
	data, err := json.Marshal(body)
	if err != nil {
		b.Fatal(err)
	}
	return t.postRaw(b, path, data, want)
}

// postRaw sends data as the JSON body and fails the benchmark unless the
// status is want; it returns the answer's body.
func (t target) postRaw(b *testing.B, path string, data []byte, want int) []byte {
	status, out, err := t.request(httpClient, http.MethodPost, path, data)
	if err != nil {
		b.Fatal(err)
	}
	if status != want {
		b.Fatalf("POST %s: %d %.300s", path, status, out)
	}
	return out
}

// importSequence converts sequence XML with ImportSequence and returns
// the JSON of its TaskSequence.
func (t target) importSequence(b *testing.B, xml []byte) json.RawMessage {
	var imported struct{ TaskSequence json.RawMessage }
	if err := json.Unmarshal(t.post(b, packagesPath+".ImportSequence", map[string]any{"SequenceXML": string(xml)}, http.StatusOK), &imported); err != nil {
		b.Fatal(err)
	}
	return imported.TaskSequence
}

// setSequenceBody is the body of a SetSequence of seq (JSON) into package
// id, or into a new package named name when id is empty.
func setSequenceBody(id, name string, seq json.RawMessage) []byte {
	pkg := `{"@odata.type":"#AdminService.SMS_TaskSequencePackage","Name":` + strconv.Quote(name)
	if id != "" {
		pkg = `{"@odata.type":"#AdminService.SMS_TaskSequencePackage","PackageID":` + strconv.Quote(id)
	}
	return []byte(`{"TaskSequencePackage":` + pkg + `},"TaskSequence":` + string(seq) + `}`)
}

// setSequence stores seq with SetSequence (setSequenceBody) and returns
// the package's PackageID.
func (t target) setSequence(b *testing.B, id, name string, seq json.RawMessage) string {
	var saved struct{ SavedTaskSequencePackagePath string }
	if err := json.Unmarshal(t.postRaw(b, packagesPath+".SetSequence", setSequenceBody(id, name, seq), http.StatusOK), &saved); err != nil {
		b.Fatal(err)
	}
	return strings.TrimSuffix(strings.TrimPrefix(saved.SavedTaskSequencePackagePath, `SMS_TaskSequencePackage.PackageID="`), `"`)
}

// get fails the benchmark unless the answer is 200; it returns the body.
func (t target) get(b *testing.B, path string) []byte {
	status, out, err := t.request(httpClient, http.MethodGet, path, nil)
	if err != nil {
		b.Fatal(err)
	}
	if status != http.StatusOK {
		b.Fatalf("GET %s: %d %.300s", path, status, out)
	}
	return out
}

// abab calls a and then ref, n times each, in turn (a ref a ref …), and
// returns the mean time of a call of each.
func abab(n int, a, ref func(i int)) (ta, tref time.Duration) {
	for i := 0; i < n; i++ {
		start := time.Now()
		a(i)
		mid := time.Now()
		ref(i)
		ta += mid.Sub(start)
		tref += time.Since(mid)
	}
	return ta / time.Duration(max(n, 1)), tref / time.Duration(max(n, 1))
}

// report records tsprov's and the reference's time per operation and
// their ratio (x-ref: tsprov's time divided by the reference's).
func report(b *testing.B, tsprov, ref time.Duration) {
	b.ReportMetric(float64(tsprov.Microseconds()), "tsprov-µs/op")
	b.ReportMetric(float64(ref.Microseconds()), "ref-µs/op")
	b.ReportMetric(float64(tsprov)/float64(ref), "x-ref")
}

// httpClient is shared by the benchmarks, with a timeout for large bodies.
var httpClient = &http.Client{Timeout: 2 * time.Minute}

// createPackage POSTs a package to tsprov and returns its PackageID.
func createPackage(b *testing.B, t target, body any) string {
	var e struct{ PackageID string }
	if err := json.Unmarshal(t.post(b, packagesPath, body, http.StatusCreated), &e); err != nil {
		b.Fatal(err)
	}
	if e.PackageID == "" {
		b.Fatal("created package has no PackageID")
	}
	return e.PackageID
}

// packagesPath is the AdminService collection of task sequence packages.
const packagesPath = "/AdminService/wmi/SMS_TaskSequencePackage"

// packagePath is the AdminService path of one package by key.
func packagePath(id string) string { return fmt.Sprintf("%s('%s')", packagesPath, id) }
