package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store/postgres"
	"github.com/tsprov/tsprov/internal/store/postgres/pgtest"
	"github.com/tsprov/tsprov/internal/store/sqlite"
	"github.com/tsprov/tsprov/schema"
)

// TestOpenStoreChooses: no database is the SQLite file in the data
// folder; a database that is not a PostgreSQL URL is refused.
func TestOpenStoreChooses(t *testing.T) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, where, err := openStore(t.Context(), Config{DataDir: dir}, reg)
	if err != nil {
		t.Fatalf("openStore with no database: %v", err)
	}
	st.Close()
	if _, ok := st.(*sqlite.Store); !ok {
		t.Errorf("openStore with no database: a %T, want *sqlite.Store", st)
	}
	if want := filepath.Join(dir, databaseFile); where != want {
		t.Errorf("where = %q, want %q", where, want)
	}
	if _, err := os.Stat(filepath.Join(dir, databaseFile)); err != nil {
		t.Errorf("the SQLite file: %v", err)
	}
	for _, db := range []string{"mysql://u@h/db", "tsprov.db", "host=127.0.0.1 dbname=x", "POSTGRES://h/db"} {
		if _, _, err := openStore(t.Context(), Config{DataDir: dir, Database: db}, reg); errs.KindOf(err) != errs.Invalid {
			t.Errorf("openStore(%q): %v, want an Invalid error", db, err)
		}
	}
}

// TestServeOnPostgres runs two real servers at once on one PostgreSQL
// schema (scale-out): both start (the second waits for the first to make
// the tables), answer /healthz, and the tables they made are in that
// schema; neither touches the SQLite file.
func TestServeOnPostgres(t *testing.T) {
	url := pgtest.URL(t, t.Name())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	const servers = 2
	addrs := make(chan string, servers)
	errc := make(chan error, servers)
	dirs := make([]string, servers)
	var wg sync.WaitGroup
	for i := range servers {
		dirs[i] = t.TempDir()
		cfg := Config{DataDir: dirs[i], Database: url, Listen: "127.0.0.1:0", Logger: log, Stdout: io.Discard}
		wg.Go(func() { errc <- Run(ctx, cfg, func(addr string) { addrs <- addr }) })
	}
	for range servers {
		select {
		case addr := <-addrs:
			res, err := http.Get("http://" + addr + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Errorf("/healthz: %s", res.Status)
			}
		case err := <-errc:
			t.Fatalf("Run: %v", err)
		case <-time.After(60 * time.Second):
			t.Fatal("no server ready after 60s")
		}
	}
	cancel()
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, databaseFile)); !os.IsNotExist(err) {
			t.Errorf("a server on PostgreSQL made the SQLite file (%v)", err)
		}
	}
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM tsprov_class_columns WHERE class = 'sms_tasksequencepackage'`).Scan(&n); err != nil || n == 0 {
		t.Errorf("layout of SMS_TaskSequencePackage in the schema: %d rows (%v)", n, err)
	}

	// what the servers made is a store the backend opens
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	st, err := postgres.Open(t.Context(), url, reg)
	if err != nil {
		t.Fatalf("postgres.Open after the servers: %v", err)
	}
	st.Close()
}
