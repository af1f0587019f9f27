package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/adminservice"
	"github.com/tsprov/tsprov/internal/auth/authtest"
	"github.com/tsprov/tsprov/internal/provider"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/postgres"
	"github.com/tsprov/tsprov/internal/store/postgres/pgtest"
	"github.com/tsprov/tsprov/internal/store/sqlite"
	"github.com/tsprov/tsprov/schema"
)

// The PostgreSQL benchmarks compare tsprov on PostgreSQL (the database
// TSPROV_TEST_POSTGRES names, a fresh schema) with tsprov on SQLite, the
// reference, through the same HTTP requests in the same run. They skip
// when TSPROV_TEST_POSTGRES is unset.

// storeServers starts the AdminService handler twice: over PostgreSQL and
// over a new SQLite file.
func storeServers(b *testing.B) (pg, lite *httptest.Server) {
	b.Helper()
	url := pgtest.URL(b, b.Name())
	reg, err := schema.Registry()
	if err != nil {
		b.Fatal(err)
	}
	ps, err := postgres.Open(context.Background(), url, reg)
	if err != nil {
		b.Fatal(err)
	}
	ls, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "tsprov.db"), reg)
	if err != nil {
		ps.Close()
		b.Fatal(err)
	}
	return serverOver(b, ps), serverOver(b, ls)
}

// serverOver serves the AdminService over st, which it closes at the end.
func serverOver(b *testing.B, st store.Store) *httptest.Server {
	b.Helper()
	reg, err := schema.Registry()
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	prov, err := provider.New(provider.Config{Registry: reg, Store: st, SiteCode: "PS1", ServerName: "BENCH", Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	h, err := adminservice.NewHandler(prov, adminservice.Options{Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(authtest.AsFullAdministrator(h))
	b.Cleanup(func() { srv.Close(); st.Close() })
	return srv
}

// BenchmarkPostgresCreate: POST a package through HTTP, tsprov on
// PostgreSQL against tsprov on SQLite.
func BenchmarkPostgresCreate(b *testing.B) {
	pg, lite := storeServers(b)
	b.ResetTimer()
	t := timeLoop(b.N, func(i int) { post(b, pg.URL+"/AdminService/wmi/SMS_TaskSequencePackage", newPackage(i), 201) })
	r := timeLoop(b.N, func(i int) { post(b, lite.URL+"/AdminService/wmi/SMS_TaskSequencePackage", newPackage(i), 201) })
	b.StopTimer()
	report(b, t, r)
}

// BenchmarkPostgresGetByKey: GET one package by key through HTTP out of
// 1,000, lazy values filled, tsprov on PostgreSQL against tsprov on
// SQLite.
func BenchmarkPostgresGetByKey(b *testing.B) {
	pg, lite := storeServers(b)
	const n = 1000
	create := func(url string, i int) string {
		out := post(b, url+"/AdminService/wmi/SMS_TaskSequencePackage", map[string]any{"Name": fmt.Sprint("pkg ", i), "Description": "d"}, 201)
		var e map[string]any
		if err := json.Unmarshal(out, &e); err != nil {
			b.Fatal(err)
		}
		return e["PackageID"].(string)
	}
	pgIDs, liteIDs := make([]string, n), make([]string, n)
	for i := range n {
		pgIDs[i], liteIDs[i] = create(pg.URL, i), create(lite.URL, i)
	}
	b.ResetTimer()
	t := timeLoop(b.N, func(i int) { get(b, pg.URL+"/AdminService/wmi/SMS_TaskSequencePackage('"+pgIDs[i%n]+"')") })
	r := timeLoop(b.N, func(i int) { get(b, lite.URL+"/AdminService/wmi/SMS_TaskSequencePackage('"+liteIDs[i%n]+"')") })
	b.StopTimer()
	report(b, t, r)
}

// scaleWorkers is how many clients send requests at once in
// BenchmarkScaleOut.
const scaleWorkers = 16

// scaleClient keeps a connection open for each worker.
var scaleClient = &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 2 * scaleWorkers}}

// BenchmarkScaleOut: throughput of creates and of GETs by key with
// scaleWorkers clients at once, against one server on SQLite (the
// reference), one server on PostgreSQL, and two servers on one PostgreSQL
// database (the clients spread over both), in one run. Each server is a
// provider and handler of its own over a store of its own, as a tsprov
// process is. It reports requests per second of each and the ratio of
// each PostgreSQL set-up to SQLite (above 1: faster than SQLite).
//
//	TSPROV_TEST_POSTGRES=… go test -run '^$' -bench ScaleOut -benchtime 2000x ./bench/
func BenchmarkScaleOut(b *testing.B) {
	url := pgtest.URL(b, b.Name())
	reg, err := schema.Registry()
	if err != nil {
		b.Fatal(err)
	}
	open := func() store.Store {
		s, err := postgres.Open(context.Background(), url, reg)
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	ls, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "tsprov.db"), reg)
	if err != nil {
		b.Fatal(err)
	}
	lite, pg1, pg2 := serverOver(b, ls), serverOver(b, open()), serverOver(b, open())
	setups := []struct {
		name    string
		servers []string
	}{{"sqlite", []string{lite.URL}}, {"pg1", []string{pg1.URL}}, {"pg2", []string{pg1.URL, pg2.URL}}}
	const coll = "/AdminService/wmi/SMS_TaskSequencePackage"

	created := map[string][]string{} // set-up → ids
	creates, gets := map[string]float64{}, map[string]float64{}
	var mu sync.Mutex
	b.ResetTimer()
	for _, s := range setups {
		rate := throughput(b, b.N, s.servers, func(base string, i int) error {
			out, err := tryPost(base+coll, map[string]any{"Name": fmt.Sprintf("scale %d", i), "Description": "d"})
			if err != nil {
				return err
			}
			var e map[string]any
			if err := json.Unmarshal(out, &e); err != nil {
				return err
			}
			mu.Lock()
			created[s.name] = append(created[s.name], e["PackageID"].(string))
			mu.Unlock()
			return nil
		})
		creates[s.name] = rate
	}
	for _, s := range setups {
		ids := created[s.name]
		gets[s.name] = throughput(b, b.N, s.servers, func(base string, i int) error {
			return tryGet(base + coll + "('" + ids[i%len(ids)] + "')")
		})
	}
	b.StopTimer()
	for _, s := range setups {
		b.ReportMetric(creates[s.name], s.name+"-creates/s")
		b.ReportMetric(gets[s.name], s.name+"-gets/s")
		if s.name != "sqlite" {
			b.ReportMetric(creates[s.name]/creates["sqlite"], s.name+"-creates-x-sqlite")
			b.ReportMetric(gets[s.name]/gets["sqlite"], s.name+"-gets-x-sqlite")
		}
	}
}

// throughput runs n calls of fn over scaleWorkers goroutines, each worker
// on one of the servers in turn, and returns calls per second.
func throughput(b *testing.B, n int, servers []string, fn func(base string, i int) error) float64 {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	start := time.Now()
	for w := range scaleWorkers {
		base := servers[w%len(servers)]
		wg.Go(func() {
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				if err := fn(base, int(i)); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	if err, ok := failed.Load().(error); ok {
		b.Fatal(err)
	}
	return float64(n) / took.Seconds()
}

func tryPost(url string, body any) ([]byte, error) {
	data, _ := json.Marshal(body)
	resp, err := scaleClient.Post(url, "application/json", bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 {
		return nil, fmt.Errorf("POST %s: %d %s", url, resp.StatusCode, out)
	}
	return out, nil
}

func tryGet(url string) error {
	resp, err := scaleClient.Get(url)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %d", url, resp.StatusCode)
	}
	return nil
}
