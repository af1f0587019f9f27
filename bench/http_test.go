// Package bench holds tsprov's benchmarks. Each reports tsprov's cost next
// to a reference measured in the same run, the two called in turn, and
// their ratio (x-ref). The HTTP benchmarks go through the real server
// stack with a real token (harness_test.go).
// Run by hand: go test -run '^$' -bench . -benchtime 2000x ./bench/
package bench

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"
)

// referenceServer is the floor tsprov is compared with: a bare net/http
// handler that decodes the same JSON body and inserts or reads one row of a
// SQLite table opened with the same durability settings (WAL,
// synchronous=FULL), answering with a small JSON object.
func referenceServer(b *testing.B) target {
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
	return target{url: srv.URL}
}

// newPackage is the body of the i-th package the create benchmarks post.
func newPackage(i int) map[string]any {
	return map[string]any{"Name": fmt.Sprintf("Windows 11 build %d", i), "Description": "Bare metal deployment"}
}

// BenchmarkCreate: POST a package through the real server stack (one
// durable transaction), in turn with the reference's POST.
func BenchmarkCreate(b *testing.B) {
	ts, ref := tsprovServer(b), referenceServer(b)
	b.ResetTimer()
	t, r := abab(b.N,
		func(i int) { ts.post(b, packagesPath, newPackage(i), http.StatusCreated) },
		func(i int) { ref.post(b, "/pkg", newPackage(i), http.StatusCreated) })
	b.StopTimer()
	report(b, t, r)
}

// BenchmarkGetByKey: GET one package by key through the real server
// stack, lazy values filled, out of a store of 1,000, in turn with the
// reference's GET of one row.
func BenchmarkGetByKey(b *testing.B) {
	ts, ref := tsprovServer(b), referenceServer(b)
	const n = 1000
	ids := make([]string, n)
	for i := range ids {
		body := map[string]any{"Name": fmt.Sprint("pkg ", i), "Description": "d"}
		ids[i] = createPackage(b, ts, body)
		ref.post(b, "/pkg", body, http.StatusCreated)
	}
	b.ResetTimer()
	t, r := abab(b.N,
		func(i int) { ts.get(b, packagePath(ids[i%n])) },
		func(i int) { ref.get(b, fmt.Sprintf("/pkg/%d", i%n+1)) })
	b.StopTimer()
	report(b, t, r)
}
