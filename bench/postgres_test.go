package bench

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/store/postgres/pgtest"
)

// The PostgreSQL benchmarks compare tsprov on PostgreSQL (the database
// TSPROV_TEST_POSTGRES names, a fresh schema) with tsprov on SQLite, the
// reference, through the same HTTP requests in the same run. They skip
// when TSPROV_TEST_POSTGRES is unset.

// storeServers starts two tsprov servers (server.Run): over PostgreSQL and
// over a new SQLite file.
func storeServers(b *testing.B) (pg, lite target) {
	b.Helper()
	return startTsprov(b, "", pgtest.URL(b, b.Name())), tsprovServer(b)
}

// BenchmarkPostgresCreate: POST a package through the real server stack,
// tsprov on PostgreSQL in turn with tsprov on SQLite.
func BenchmarkPostgresCreate(b *testing.B) {
	pg, lite := storeServers(b)
	b.ResetTimer()
	t, r := abab(b.N,
		func(i int) { pg.post(b, packagesPath, newPackage(i), http.StatusCreated) },
		func(i int) { lite.post(b, packagesPath, newPackage(i), http.StatusCreated) })
	b.StopTimer()
	report(b, t, r)
}

// BenchmarkPostgresGetByKey: GET one package by key through the real
// server stack out of 1,000, lazy values filled, tsprov on PostgreSQL in
// turn with tsprov on SQLite.
func BenchmarkPostgresGetByKey(b *testing.B) {
	pg, lite := storeServers(b)
	const n = 1000
	pgIDs, liteIDs := make([]string, n), make([]string, n)
	for i := range n {
		body := map[string]any{"Name": fmt.Sprint("pkg ", i), "Description": "d"}
		pgIDs[i], liteIDs[i] = createPackage(b, pg, body), createPackage(b, lite, body)
	}
	b.ResetTimer()
	t, r := abab(b.N,
		func(i int) { pg.get(b, packagePath(pgIDs[i%n])) },
		func(i int) { lite.get(b, packagePath(liteIDs[i%n])) })
	b.StopTimer()
	report(b, t, r)
}

// scaleWorkers is how many clients send requests at once in
// BenchmarkScaleOut.
const scaleWorkers = 16

// scaleClient keeps a connection open for each worker.
var scaleClient = &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 2 * scaleWorkers}}

// scaleRounds is how many rounds BenchmarkScaleOut splits each kind of
// request into; in each round every set-up serves its share in turn.
const scaleRounds = 4

// BenchmarkScaleOut: throughput of creates and of GETs by key with
// scaleWorkers clients at once, against one server on SQLite (the
// reference), one server on PostgreSQL, and two servers on one PostgreSQL
// database (the clients spread over both), in one run. Each server is a
// real server (server.Run) over a store of its own, as a tsprov process
// is. The requests of each kind are sent in scaleRounds rounds, each
// set-up in turn in every round. It reports requests per second of each
// and the ratio of each PostgreSQL set-up to SQLite (above 1: faster than
// SQLite).
//
//	TSPROV_TEST_POSTGRES=… go test -run '^$' -bench ScaleOut -benchtime 2000x ./bench/
func BenchmarkScaleOut(b *testing.B) {
	url := pgtest.URL(b, b.Name())
	lite, pg1, pg2 := tsprovServer(b), startTsprov(b, "", url), startTsprov(b, "", url)
	setups := []struct {
		name    string
		servers []target
	}{{"sqlite", []target{lite}}, {"pg1", []target{pg1}}, {"pg2", []target{pg1, pg2}}}

	created := map[string][]string{} // set-up → ids
	var mu sync.Mutex
	took := map[string][2]time.Duration{} // set-up → creates, gets
	per := max(b.N/scaleRounds, 1)
	b.ResetTimer()
	for round := range scaleRounds {
		for _, s := range setups {
			d := throughput(b, round*per, per, s.servers, func(t target, i int) error {
				out, err := tryRequest(t, http.MethodPost, packagesPath, map[string]any{"Name": fmt.Sprintf("scale %d", i), "Description": "d"}, http.StatusCreated)
				if err != nil {
					return err
				}
				var e struct{ PackageID string }
				if err := json.Unmarshal(out, &e); err != nil {
					return err
				}
				mu.Lock()
				created[s.name] = append(created[s.name], e.PackageID)
				mu.Unlock()
				return nil
			})
			t := took[s.name]
			t[0] += d
			took[s.name] = t
		}
	}
	for round := range scaleRounds {
		for _, s := range setups {
			ids := created[s.name]
			d := throughput(b, round*per, per, s.servers, func(t target, i int) error {
				_, err := tryRequest(t, http.MethodGet, packagePath(ids[i%len(ids)]), nil, http.StatusOK)
				return err
			})
			t := took[s.name]
			t[1] += d
			took[s.name] = t
		}
	}
	b.StopTimer()
	n := float64(per * scaleRounds)
	rate := func(name string, kind int) float64 { return n / took[name][kind].Seconds() }
	for _, s := range setups {
		b.ReportMetric(rate(s.name, 0), s.name+"-creates/s")
		b.ReportMetric(rate(s.name, 1), s.name+"-gets/s")
		if s.name != "sqlite" {
			b.ReportMetric(rate(s.name, 0)/rate("sqlite", 0), s.name+"-creates-x-sqlite")
			b.ReportMetric(rate(s.name, 1)/rate("sqlite", 1), s.name+"-gets-x-sqlite")
		}
	}
}

// throughput runs n calls of fn, numbered from first, over scaleWorkers
// goroutines, each worker on one of the servers in turn, and returns the
// time they took.
func throughput(b *testing.B, first, n int, servers []target, fn func(t target, i int) error) time.Duration {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	start := time.Now()
	for w := range scaleWorkers {
		t := servers[w%len(servers)]
		wg.Go(func() {
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				if err := fn(t, first+int(i)); err != nil {
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
	return took
}

// tryRequest sends one request with body (JSON, when not nil) on
// scaleClient and returns the answer's body, or an error unless the
// status is want.
func tryRequest(t target, method, path string, body any, want int) ([]byte, error) {
	var data []byte
	if body != nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	status, out, err := t.request(scaleClient, method, path, data)
	if err != nil {
		return nil, err
	}
	if status != want {
		return nil, fmt.Errorf("%s %s: %d %.300s", method, path, status, out)
	}
	return out, nil
}
