package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/tsprov/tsprov/internal/adminservice"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/server"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/postgres"
	"github.com/tsprov/tsprov/internal/store/postgres/pgtest"
	"github.com/tsprov/tsprov/schema"
)

// The indexed-query benchmarks: queries an index answers, over
// queryPackages packages, through the real server stack, each in turn
// with the same SQL the store runs, executed in this process through
// database/sql on the same database (no process start, no HTTP): the
// reference is what the database itself costs.

// indexedShape is one query: its AdminService (or WQL) path and the SQL
// and arguments the store runs for it, in a dialect.
type indexedShape struct {
	name string
	make func(rng *rand.Rand, d sqlDialect) (path, query string, args []any)
}

// sqlDialect writes the store's SQL for one backend, as its store does
// (store/sqlite, store/postgres: list.go, filter.go).
type sqlDialect struct {
	name    string
	sel     string                         // the list's SELECT … FROM … AS t with its joins
	param   func(n int) string             // the n-th parameter marker
	foldEq  func(col, param string) string // a string equality without regard to case
	like    func(col, param string) string // a LIKE without regard to case
	byKey   string                         // the key order
	orderBy func(col string) string        // an order by a column, then the key
}

func sqliteDialect(c *cim.Class) sqlDialect {
	return sqlDialect{
		name:    "SQLite",
		sel:     refSelect(c),
		param:   func(int) string { return "?" },
		foldEq:  func(col, p string) string { return col + " = " + p + " COLLATE NOCASE" },
		like:    func(col, p string) string { return col + " LIKE " + p + ` ESCAPE '\'` },
		byKey:   "t._key ASC",
		orderBy: func(col string) string { return col + " ASC, t._key ASC" },
	}
}

func postgresDialect(c *cim.Class) sqlDialect {
	sel := "SELECT t.*"
	for _, p := range store.ApartProperties(c) {
		if !p.IsLazy() {
			sel += fmt.Sprintf(", (SELECT a.value FROM tsprov_apart_values AS a WHERE a.class = %s AND a.key = tsprov_fold(t._key) AND a.property = %s)",
				sqlString(strings.ToLower(c.Name)), sqlString(strings.ToLower(p.Name)))
		}
	}
	fold := func(e string) string { return "tsprov_fold((" + e + ")::text) COLLATE \"C\"" }
	return sqlDialect{
		name:    "Postgres",
		sel:     sel + ` FROM "` + c.Name + `" AS t`,
		param:   func(n int) string { return "$" + strconv.Itoa(n) + "::text" },
		foldEq:  func(col, p string) string { return fold(col) + " = " + fold(p) },
		like:    func(col, p string) string { return fold(col) + " LIKE " + fold(p) + ` ESCAPE '\'` },
		byKey:   "tsprov_fold(t._key) ASC",
		orderBy: func(col string) string { return col + " ASC NULLS FIRST, tsprov_fold(t._key) ASC" },
	}
}

// indexedShapes are the queries the benchmark times: by key, by an
// indexed equality (string and integer), a count with a prefix filter, and
// an order by an indexed DateTime.
func indexedShapes() []indexedShape {
	coll := adminservice.Prefix + queryClass
	filter := func(f string, top int) string {
		q := url.Values{"$filter": {f}}
		if top > 0 {
			q.Set("$top", strconv.Itoa(top))
		}
		return coll + "?" + q.Encode()
	}
	page := func(d sqlDialect, where string, limit int) string {
		return fmt.Sprintf("%s WHERE %s ORDER BY %s LIMIT %d", d.sel, where, d.byKey, limit)
	}
	full := adminservice.DefaultPageSize + 1 // a page and one more, as the server asks
	return []indexedShape{
		{"KeyEq", func(rng *rand.Rand, d sqlDialect) (string, string, []any) {
			id := queryID(rng.IntN(queryPackages))
			return filter("PackageID eq "+odataString(id), 0), page(d, d.foldEq(`t."PackageID"`, d.param(1)), full), []any{id}
		}},
		{"WQLKeyEq", func(rng *rand.Rand, d sqlDialect) (string, string, []any) {
			id := queryID(rng.IntN(queryPackages))
			q := url.Values{"q": {"SELECT * FROM " + queryClass + " WHERE PackageID = " + sqlString(id)}}
			return adminservice.WQLPath + "?" + q.Encode(), page(d, d.foldEq(`t."PackageID"`, d.param(1)), full), []any{id}
		}},
		{"NameEq", func(rng *rand.Rand, d sqlDialect) (string, string, []any) {
			name := queryName(rng.IntN(queryPackages))
			return filter("Name eq "+odataString(name), 0), page(d, d.foldEq(`t."Name"`, d.param(1)), full), []any{name}
		}},
		{"DurationEq", func(rng *rand.Rand, d sqlDialect) (string, string, []any) {
			n := queryDurations[rng.IntN(len(queryDurations))]
			return filter(fmt.Sprintf("Duration eq %d", n), queryTop), page(d, fmt.Sprintf(`t."Duration" = %d`, n), queryTop+1), nil
		}},
		{"CountPrefix", func(rng *rand.Rand, d sqlDialect) (string, string, []any) {
			prefix := fmt.Sprintf("%s - Site %02d", queryOSes[rng.IntN(len(queryOSes))], rng.IntN(queryPackages/30/100))
			q := url.Values{"$filter": {"startswith(Name," + odataString(prefix) + ") eq true"}}
			return coll + "/$count?" + q.Encode(),
				fmt.Sprintf(`SELECT COUNT(*) FROM "%s" AS t WHERE %s`, queryClass, d.like(`t."Name"`, d.param(1))), []any{prefix + "%"}
		}},
		{"OrderBySourceDate", func(rng *rand.Rand, d sqlDialect) (string, string, []any) {
			return coll + fmt.Sprintf("?$orderby=SourceDate&$top=%d", queryTop),
				fmt.Sprintf("%s ORDER BY %s LIMIT %d", d.sel, d.orderBy(`substr(t."SourceDate", 1, 25)`), queryTop+1), nil
		}},
	}
}

// runIndexed times each shape through srv in turn with its SQL on db,
// every value of every row read.
func runIndexed(b *testing.B, srv target, db *sql.DB, d sqlDialect) {
	rows := func(query string, args []any) int {
		rs, err := db.Query(query, args...)
		if err != nil {
			b.Fatalf("%s: %v", query, err)
		}
		defer rs.Close()
		cols, err := rs.Columns()
		if err != nil {
			b.Fatal(err)
		}
		vals := make([]any, len(cols)) // every value read, as the store reads it
		for i := range vals {
			vals[i] = new(sql.RawBytes)
		}
		n := 0
		for rs.Next() {
			if err := rs.Scan(vals...); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if err := rs.Err(); err != nil {
			b.Fatal(err)
		}
		return n
	}
	for _, shape := range indexedShapes() {
		b.Run(shape.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(7, uint64(len(shape.name))))
			p, q, args := shape.make(rng, d)
			body := srv.get(b, p) // warm up both, and check they agree
			if rows(q, args) == 0 || len(body) == 0 {
				b.Fatalf("%s: no rows for %s", shape.name, q)
			}
			var v struct{ Value []json.RawMessage }
			if json.Unmarshal(body, &v) == nil && len(v.Value) == 0 {
				b.Fatalf("%s: tsprov found nothing: %s", shape.name, p)
			}
			paths, queries, argss := make([]string, b.N), make([]string, b.N), make([][]any, b.N)
			for i := range b.N {
				paths[i], queries[i], argss[i] = shape.make(rng, d)
			}
			b.ResetTimer()
			t, r := abab(b.N, func(i int) { srv.get(b, paths[i]) }, func(i int) { rows(queries[i], argss[i]) })
			b.StopTimer()
			report(b, t, r)
		})
	}
}

// BenchmarkIndexedQuery: the indexed queries over 100,000 packages,
// through the real server stack in turn with the same SQL run in-process
// through database/sql on the same database: on SQLite, and on PostgreSQL
// when TSPROV_TEST_POSTGRES is set (filling it takes a minute or two).
//
//	TSPROV_TEST_POSTGRES=… go test -run '^$' -bench IndexedQuery -benchtime 200x ./bench/
func BenchmarkIndexedQuery(b *testing.B) {
	reg, err := schema.Registry()
	if err != nil {
		b.Fatal(err)
	}
	c, _ := reg.Class(queryClass)
	b.Run("SQLite", func(b *testing.B) {
		path := queryStorePath(b)
		srv := queryServer(b, path)
		db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		runIndexed(b, srv, db, sqliteDialect(c))
	})
	b.Run("Postgres", func(b *testing.B) {
		dbURL := postgresQueryStore(b, reg)
		srv := startTsprov(b, "", dbURL)
		db, err := sql.Open("pgx", dbURL)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		runIndexed(b, srv, db, postgresDialect(c))
	})
}

// postgresQueryStore fills a fresh PostgreSQL schema with queryPackages
// packages once per process and returns its URL.
func postgresQueryStore(b *testing.B, reg *cim.Registry) string {
	b.Helper()
	dbURL := pgtest.URL(b, "BenchmarkIndexedQuery")
	pgQueryDB.Do(func() {
		st, err := postgres.Open(context.Background(), dbURL, reg)
		if err != nil {
			pgQueryDB.err = err
			return
		}
		pgQueryDB.err = fillQueryStore(st, reg)
		if err := st.Close(); pgQueryDB.err == nil {
			pgQueryDB.err = err
		}
	})
	if pgQueryDB.err != nil {
		b.Fatal(pgQueryDB.err)
	}
	return dbURL
}

var pgQueryDB struct {
	sync.Once
	err error
}

// BenchmarkPageDepth: reading page 1,000 of a list of 100,000 packages
// ordered by Name, 100 a page, through its @odata.nextLink ($skiptoken),
// in turn with page 1 (the reference): keyset paging makes them cost the
// same. SkipFar reads the same page with $skip=99900 (what the link
// carried before), for comparison.
//
//	go test -run '^$' -bench PageDepth -benchtime 200x ./bench/
func BenchmarkPageDepth(b *testing.B) {
	path := queryStorePath(b)
	srv := startTsprov(b, filepath.Dir(path), "", func(c *server.Config) { c.PageSize = queryTop })
	first := adminservice.Prefix + queryClass + "?$orderby=Name"
	link := first
	for range queryPackages/queryTop - 1 {
		var page struct {
			Next string `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(srv.get(b, link), &page); err != nil || page.Next == "" {
			b.Fatalf("%s: no nextLink (%v)", link, err)
		}
		link = strings.TrimPrefix(page.Next, srv.url)
	}
	b.Run("SkipToken", func(b *testing.B) {
		t, r := abab(b.N, func(int) { srv.get(b, link) }, func(int) { srv.get(b, first) })
		report(b, t, r)
	})
	b.Run("SkipFar", func(b *testing.B) {
		far := fmt.Sprintf("%s&$skip=%d", first, queryPackages-queryTop)
		t, r := abab(b.N, func(int) { srv.get(b, far) }, func(int) { srv.get(b, first) })
		report(b, t, r)
	})
}
