package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/adminservice"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/server"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlite"
	"github.com/tsprov/tsprov/schema"
)

const (
	queryPackages = 100_000
	queryClass    = "SMS_TaskSequencePackage"
	queryBatch    = 2000 // inserts a transaction while building the store
	queryTop      = 100
)

var querySamples = flag.Int("query.samples", 50, "BenchmarkQuery: queries timed per shape, for tsprov and for sqlite3 each")

// queryDB is the store of queryPackages packages, built once for the whole
// test process in a temporary folder that TestMain removes.
var queryDB struct {
	once sync.Once
	dir  string
	path string
	took time.Duration
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if queryDB.dir != "" {
		os.RemoveAll(queryDB.dir)
	}
	os.Exit(code)
}

// The values the packages are spread over.
var (
	queryOSes = []string{
		"Windows 11 23H2", "Windows 11 24H2", "Windows 10 22H2", "Windows 11 22H2 Enterprise",
		"Windows Server 2022", "Windows Server 2019", "Windows 11 IoT LTSC", "Windows 10 LTSC 2021",
		"Windows 11 23H2 Education", "Windows Server 2025",
	}
	queryArchs         = []string{"x64", "x86", "arm64"}
	queryDurations     = []int{15, 30, 45, 60, 90, 120}
	queryLanguages     = []string{"en-US", "de-DE", "fr-FR", "ja-JP", "es-ES"}
	queryManufacturers = []string{"Contoso IT", "Fabrikam", "Microsoft", "Northwind Traders"}
	queryVersions      = []string{"1.0", "1.1", "2.0", "2.3", "3.0.1"}
	queryDescriptions  = []string{
		"Bare metal deployment", "In-place upgrade", "Refresh, user state kept",
		"Replace: capture on the old device, restore on the new", "Build and capture of the reference image",
	}
)

// queryPermute scatters names over keys, so that rows with similar names
// are not neighbours in key order (7,919 is prime to 100,000).
func queryPermute(i int) int { return i * 7919 % queryPackages }

// queryName is the Name of the package with sequence number i (0-based):
// unique, "Windows 11 23H2 - Site 0042 - x64".
func queryName(i int) string {
	j := queryPermute(i)
	return fmt.Sprintf("%s - Site %04d - %s", queryOSes[j%len(queryOSes)], j/30, queryArchs[j/len(queryOSes)%len(queryArchs)])
}

// queryID is the PackageID of the package with sequence number i.
func queryID(i int) string { return fmt.Sprintf("PS1%05X", i+1) }

// queryStorePath builds the store once and returns its file.
func queryStorePath(b *testing.B) string {
	b.Helper()
	queryDB.once.Do(func() {
		start := time.Now()
		queryDB.dir, queryDB.err = os.MkdirTemp("", "tsprov-bench-query-")
		if queryDB.err != nil {
			return
		}
		queryDB.path = filepath.Join(queryDB.dir, server.DatabaseFile)
		queryDB.err = buildQueryStore(queryDB.path)
		queryDB.took = time.Since(start)
	})
	if queryDB.err != nil {
		b.Fatal(queryDB.err)
	}
	return queryDB.path
}

// buildQueryStore writes queryPackages packages, each made as the provider
// makes one on Create: the class defaults, then what the server assigns,
// then the values a client sends.
func buildQueryStore(path string) error {
	reg, err := schema.Registry()
	if err != nil {
		return err
	}
	st, err := sqlite.Open(context.Background(), path, reg)
	if err != nil {
		return err
	}
	if err := fillQueryStore(st, reg); err != nil {
		st.Close()
		return err
	}
	return st.Close()
}

// fillQueryStore writes queryPackages packages into st (see
// buildQueryStore).
func fillQueryStore(st store.Store, reg *cim.Registry) error {
	ctx := context.Background()
	c, ok := reg.Class(queryClass)
	if !ok {
		return fmt.Errorf("no class %s", queryClass)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2023, 1, 2, 8, 0, 0, 0, time.UTC)
	for start := 0; start < queryPackages; start += queryBatch {
		err := st.Write(ctx, func(tx store.Tx) error {
			for i := start; i < min(start+queryBatch, queryPackages); i++ {
				in := cim.NewInstance(c)
				for _, p := range c.Properties {
					if p.Default != nil {
						in.Values[p.Name] = cim.CloneValue(p.Default)
					}
				}
				created := cim.DateTimeValue{Time: base.Add(time.Duration(i) * 7 * time.Minute)}
				j := queryPermute(i)
				in.Set("PackageID", queryID(i))
				in.Set("SourceSite", "PS1")
				in.Set("SourceVersion", int64(1+rng.IntN(5)))
				in.Set("SedoObjectVersion", queryGUID(rng))
				in.Set("SourceDate", created)
				in.Set("LastRefreshTime", created)
				in.Set("Name", queryName(i))
				in.Set("Description", queryDescriptions[j%len(queryDescriptions)])
				in.Set("Duration", int64(queryDurations[j/7%len(queryDurations)]))
				in.Set("Language", queryLanguages[j/11%len(queryLanguages)])
				in.Set("Manufacturer", queryManufacturers[j/13%len(queryManufacturers)])
				in.Set("Version", queryVersions[j/3%len(queryVersions)])
				if err := tx.Insert(ctx, &store.Record{Instance: in}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("build query store: %w", err)
		}
	}
	return nil
}

// queryGUID is a SedoObjectVersion in the provider's form.
func queryGUID(rng *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%X-%X-%X-%X-%X", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// queryServer serves the store at path, the SQLite file of a data folder,
// with the real server stack (server.Run).
func queryServer(b *testing.B, path string) target {
	b.Helper()
	if filepath.Base(path) != server.DatabaseFile {
		b.Fatalf("%s: a data folder's database is named %s", path, server.DatabaseFile)
	}
	return startTsprov(b, filepath.Dir(path), "")
}

// sqlString is s as an SQL string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// odataString is s as an OData string literal.
func odataString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// refSelect is the SELECT the store runs for rows of the class (layout.go
// buildSQL): every row column, and each large, non-lazy value joined from
// tsprov_apart_values.
func refSelect(c *cim.Class) string {
	sel := "SELECT t.*"
	var joins string
	n := 0
	for _, p := range store.ApartProperties(c) {
		if p.IsLazy() {
			continue
		}
		a := fmt.Sprintf("l%d", n)
		n++
		sel += ", " + a + ".value"
		joins += fmt.Sprintf(" LEFT JOIN tsprov_apart_values AS %[1]s ON %[1]s.class = %[2]s AND %[1]s.key = t._key AND %[1]s.property = %[3]s",
			a, sqlString(c.Name), sqlString(p.Name))
	}
	return sel + ` FROM "` + c.Name + `" AS t` + joins
}

// queryShape is one kind of query: for request i, the AdminService path
// and query, and the equivalent SQL.
type queryShape struct {
	name string
	make func(rng *rand.Rand) (path string, sql string)
	rows func(body []byte) int // how many instances a tsprov answer holds
}

func queryShapes(c *cim.Class) []queryShape {
	sel := refSelect(c)
	coll := adminservice.Prefix + queryClass
	list := func(filter string, top int) string {
		q := url.Values{"$filter": {filter}}
		if top > 0 {
			q.Set("$top", fmt.Sprint(top))
		}
		return coll + "?" + q.Encode()
	}
	page := func(where string, limit int) string {
		return fmt.Sprintf("%s WHERE %s ORDER BY t._key ASC LIMIT %d;", sel, where, limit)
	}
	countValue := func(body []byte) int {
		var v struct{ Value []json.RawMessage }
		if json.Unmarshal(body, &v) != nil {
			return -1
		}
		return len(v.Value)
	}
	return []queryShape{
		{
			name: "ByKey",
			make: func(rng *rand.Rand) (string, string) {
				id := queryID(rng.IntN(queryPackages))
				return coll + "('" + id + "')",
					fmt.Sprintf("%s WHERE t._key = %s; SELECT property, value FROM tsprov_apart_values WHERE class = %s AND key = %s;",
						sel, sqlString(id), sqlString(c.Name), sqlString(id))
			},
			rows: countValue, // a one-element value array
		},
		{
			name: "NameEq",
			make: func(rng *rand.Rand) (string, string) {
				name := queryName(rng.IntN(queryPackages))
				return list("Name eq "+odataString(name), 0),
					page(`(t."Name" = `+sqlString(name)+` COLLATE NOCASE)`, adminservice.DefaultPageSize)
			},
			rows: countValue,
		},
		{
			// "Windows Server 2019 - Site 01": 100 sites × 3 architectures.
			name: "Prefix",
			make: func(rng *rand.Rand) (string, string) {
				prefix := fmt.Sprintf("%s - Site %02d", queryOSes[rng.IntN(len(queryOSes))], rng.IntN(queryPackages/30/100))
				return list("startswith(Name,"+odataString(prefix)+")", queryTop),
					page(`(t."Name" LIKE `+sqlString(prefix+"%")+` ESCAPE '\')`, queryTop)
			},
			rows: countValue,
		},
		{
			// "Site 0042": 30 packages scattered over the table, so the
			// page is short; without the substring index the whole table
			// would be read. The reference runs the SQL tsprov runs: the
			// trigram index narrows, LIKE decides.
			name: "Infix",
			make: func(rng *rand.Rand) (string, string) {
				infix := fmt.Sprintf("Site %04d", rng.IntN(queryPackages/30))
				narrow := `t.rowid IN (SELECT rowid FROM "tsprov_trigram_` + queryClass + `_Name" WHERE v GLOB ` + sqlString("*"+strings.ToLower(infix)+"*") + `) AND `
				return list("contains(Name,"+odataString(infix)+")", queryTop),
					page(narrow+`(t."Name" LIKE `+sqlString("%"+infix+"%")+` ESCAPE '\')`, queryTop)
			},
			rows: countValue,
		},
		{
			// About one package in 30 matches; no index helps.
			name: "And",
			make: func(rng *rand.Rand) (string, string) {
				d := queryDurations[rng.IntN(len(queryDurations))]
				lang := queryLanguages[rng.IntN(len(queryLanguages))]
				return list(fmt.Sprintf("Duration eq %d and Language eq %s", d, odataString(lang)), queryTop),
					page(fmt.Sprintf(`((t."Duration" = %d) AND (t."Language" = %s COLLATE NOCASE))`, d, sqlString(lang)), queryTop)
			},
			rows: countValue,
		},
	}
}

// lines counts the rows sqlite3 printed (list mode: one a line; none of
// the values holds a newline).
func lines(out []byte) int { return bytes.Count(out, []byte("\n")) }

// BenchmarkQuery: five query shapes over 100,000 task sequence packages
// in the embedded store, each timed as requests through the real server
// stack, each in turn with the sqlite3 command running the equivalent
// SELECT on the same database file (one process a query). Each sub-benchmark reports the median latency of
// both and their ratio.
//
//	go test -run '^$' -bench Query -benchtime 1x ./bench/
//
// -query.samples sets how many queries of each kind a shape times (50).
func BenchmarkQuery(b *testing.B) {
	sqlite3, err := exec.LookPath("sqlite3")
	if err != nil {
		b.Skip("sqlite3 not on PATH (Debian package sqlite3): BenchmarkQuery compares tsprov with it")
	}
	reg, err := schema.Registry()
	if err != nil {
		b.Fatal(err)
	}
	c, _ := reg.Class(queryClass)
	path := queryStorePath(b)
	b.Logf("store: %d packages built in %v", queryPackages, queryDB.took.Round(time.Millisecond))
	srv := queryServer(b, path)

	runSQL := func(b *testing.B, sql string) []byte {
		var out, stderr bytes.Buffer
		cmd := exec.Command(sqlite3, path, sql)
		cmd.Stdout, cmd.Stderr = &out, &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			b.Fatalf("sqlite3 %q: %v %s", sql, err, stderr.Bytes())
		}
		return out.Bytes()
	}

	for _, shape := range queryShapes(c) {
		b.Run(shape.name, func(b *testing.B) {
			n := *querySamples * b.N
			rng := rand.New(rand.NewPCG(42, uint64(len(shape.name))))
			// Warm up both, and check that they answer alike.
			for k := range 3 {
				p, sql := shape.make(rng)
				body := srv.get(b, p)
				got, want := shape.rows(body), lines(runSQL(b, sql))
				if k == 0 {
					b.Logf("a page of %d instances is %d bytes of JSON", got, len(body))
				}
				if shape.name == "ByKey" {
					want = min(want, 1) // the row, then its apart values
				}
				if got != want || got < 0 {
					b.Fatalf("%s: tsprov answered %d instances, sqlite3 %d rows\n%s\n%s", shape.name, got, want, p, sql)
				}
			}
			ts := make([]time.Duration, n)
			ref := make([]time.Duration, n)
			b.ResetTimer()
			for i := range n {
				p, sql := shape.make(rng)
				start := time.Now()
				srv.get(b, p)
				ts[i] = time.Since(start)
				start = time.Now()
				runSQL(b, sql)
				ref[i] = time.Since(start)
			}
			b.StopTimer()
			t, r := median(ts), median(ref)
			b.ReportMetric(float64(t)/float64(time.Millisecond), "tsprov-ms/op")
			b.ReportMetric(float64(r)/float64(time.Millisecond), "ref-ms/op")
			b.ReportMetric(float64(t)/float64(r), "x-ref")
		})
	}
}

// median returns the middle of ds (the mean of the two middle ones for an
// even count).
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
