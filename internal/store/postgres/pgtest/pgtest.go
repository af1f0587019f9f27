// Package pgtest gives tests a PostgreSQL schema of their own. The
// database is the one the TSPROV_TEST_POSTGRES environment variable names
// (a postgres:// URL); when it is unset the tests skip with a message, and
// when it is set they must reach it: a database that cannot be reached
// fails the test. CI (.ci/run) sets it.
package pgtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Env is the environment variable that holds the test database's URL.
const Env = "TSPROV_TEST_POSTGRES"

// made records the schemas this process has made, so that a second URL
// call for one name (a store reopened) keeps what the first one made.
var made sync.Map

// URL returns a connection URL to the test database whose search_path is
// a schema for name and this process (the same name gives the same schema
// within one process; test processes running at once never share one),
// empty the first time, dropped when the test that first asked
// for it ends. It skips the test when Env is unset and fails it when Env
// is not a postgres URL or the database cannot be reached.
func URL(t testing.TB, name string) string {
	t.Helper()
	base := os.Getenv(Env)
	if base == "" {
		t.Skipf("%s is not set: skipping the PostgreSQL tests (set it to a URL such as postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)", Env)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL", Env)
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%d\x00%s", os.Getpid(), name))
	schema := "tsprov_test_" + hex.EncodeToString(sum[:10])
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	if _, loaded := made.LoadOrStore(schema, true); !loaded {
		ident := pgx.Identifier{schema}.Sanitize()
		exec(t, base, "DROP SCHEMA IF EXISTS "+ident+" CASCADE; CREATE SCHEMA "+ident)
		t.Cleanup(func() {
			exec(t, base, "DROP SCHEMA IF EXISTS "+ident+" CASCADE")
			made.Delete(schema)
		})
	}
	return u.String()
}

// exec runs sql on a connection of its own to the database at base.
func exec(t testing.TB, base, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("%s is set but the database cannot be reached: %v", Env, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("test database: %s: %v", sql, err)
	}
}
