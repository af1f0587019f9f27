// Package bench holds tsprov's benchmarks. Each reports tsprov's cost next
// to a reference measured in the same run, and their ratio (x-ref).
// Run by hand: go test -run '^$' -bench . -benchtime 2000x ./bench/
package bench

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/tsprov/tsprov/internal/store/sqlite"
	"github.com/tsprov/tsprov/schema"
)

// tsprovServer starts the AdminService handler over a new SQLite file.
func tsprovServer(b *testing.B) *httptest.Server {
	b.Helper()
	return tsprovServerOn(b, filepath.Join(b.TempDir(), "tsprov.db"))
}

// tsprovServerOn starts the AdminService handler over the SQLite file at
// path.
func tsprovServerOn(b *testing.B, path string) *httptest.Server {
	b.Helper()
	reg, err := schema.Registry()
	if err != nil {
		b.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), path, reg)
	if err != nil {
		b.Fatal(err)
	}
	return serverOver(b, st)
}

// referenceServer is the floor tsprov is compared with: a bare net/http
// handler that decodes the same JSON body and inserts or reads one row of a
// SQLite table opened with the same durability settings (WAL,
// synchronous=FULL), answering with a small JSON object.
func referenceServer(b *testing.B) *httptest.Server {
	b.Helper()
	dsn := "file:" + filepath.Join(b.TempDir(), "ref.db") + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(5000)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE pkg (id INTEGER PRIMARY KEY, name TEXT, description TEXT)`); err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /pkg", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Name, Description string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		res, err := db.Exec(`INSERT INTO pkg (name, description) VALUES (?, ?)`, in.Name, in.Description)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		id, _ := res.LastInsertId()
		w.WriteHeader(201)
		_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "name": in.Name})
	})
	mux.HandleFunc("GET /pkg/{id}", func(w http.ResponseWriter, r *http.Request) {
		var name, desc string
		if err := db.QueryRow(`SELECT name, description FROM pkg WHERE id = ?`, r.PathValue("id")).Scan(&name, &desc); err != nil {
			http.Error(w, err.Error(), 404)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"value": []any{map[string]any{"name": name, "description": desc}}})
	})
	srv := httptest.NewServer(mux)
	b.Cleanup(func() { srv.Close(); db.Close() })
	return srv
}

func post(b *testing.B, url string, body any, want int) []byte {
	data, _ := json.Marshal(body)
	resp, err := httpClient.Post(url, "application/json", bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		b.Fatalf("POST %s: %d %s", url, resp.StatusCode, out)
	}
	return out
}

func get(b *testing.B, url string) {
	resp, err := httpClient.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
}

// timeLoop runs fn n times and returns the mean time per call.
func timeLoop(n int, fn func(i int)) time.Duration {
	start := time.Now()
	for i := 0; i < n; i++ {
		fn(i)
	}
	return time.Since(start) / time.Duration(n)
}

func report(b *testing.B, tsprov, ref time.Duration) {
	b.ReportMetric(float64(tsprov.Microseconds()), "tsprov-µs/op")
	b.ReportMetric(float64(ref.Microseconds()), "ref-µs/op")
	b.ReportMetric(float64(tsprov)/float64(ref), "x-ref")
}

// newPackage is the body of the i-th package the create benchmarks post.
func newPackage(i int) map[string]any {
	return map[string]any{"Name": fmt.Sprintf("Windows 11 build %d", i), "Description": "Bare metal deployment"}
}

// BenchmarkCreate: POST a package through HTTP (one durable transaction).
func BenchmarkCreate(b *testing.B) {
	ts, ref := tsprovServer(b), referenceServer(b)
	b.ResetTimer()
	t := timeLoop(b.N, func(i int) { post(b, ts.URL+"/AdminService/wmi/SMS_TaskSequencePackage", newPackage(i), 201) })
	r := timeLoop(b.N, func(i int) { post(b, ref.URL+"/pkg", newPackage(i), 201) })
	b.StopTimer()
	report(b, t, r)
}

// BenchmarkGetByKey: GET one package by key through HTTP, lazy values
// filled, out of a store of 1,000.
func BenchmarkGetByKey(b *testing.B) {
	ts, ref := tsprovServer(b), referenceServer(b)
	const n = 1000
	ids := make([]string, n)
	for i := range ids {
		out := post(b, ts.URL+"/AdminService/wmi/SMS_TaskSequencePackage", map[string]any{"Name": fmt.Sprint("pkg ", i), "Description": "d"}, 201)
		var e map[string]any
		_ = json.Unmarshal(out, &e)
		ids[i] = e["PackageID"].(string)
		post(b, ref.URL+"/pkg", map[string]any{"Name": fmt.Sprint("pkg ", i), "Description": "d"}, 201)
	}
	b.ResetTimer()
	t := timeLoop(b.N, func(i int) { get(b, ts.URL+"/AdminService/wmi/SMS_TaskSequencePackage('"+ids[i%n]+"')") })
	r := timeLoop(b.N, func(i int) { get(b, fmt.Sprintf("%s/pkg/%d", ref.URL, i%n+1)) })
	b.StopTimer()
	report(b, t, r)
}

// httpClient is shared by the benchmarks, with a timeout for large bodies.
var httpClient = &http.Client{Timeout: 2 * time.Minute}
