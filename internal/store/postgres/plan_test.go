package postgres

import (
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tsprov/tsprov/internal/store/postgres/pgtest"
	"github.com/tsprov/tsprov/internal/store/sqlstore"
)

// TestIndexedColumns: every list an index can answer (sqlstore.PlanCases:
// an equality, an order, a page after a position and a prefix on each
// property the schema indexes, the key included) can be planned through
// that index, and takes its order from it where the case says so, as
// PostgreSQL plans the statement List runs. The tables are empty, so
// sequential scans are priced out (enable_seqscan), and sorts where the
// index must give the order (enable_sort): what is tested is that the index fits the statement
// (folded expressions, collation, nulls first), not the planner's costs.
func TestIndexedColumns(t *testing.T) {
	reg := registry(t)
	s := open(t, pgtest.URL(t, t.Name()), reg)
	c := pkgClass(t, reg)
	cases, err := sqlstore.PlanCases(c)
	if err != nil {
		t.Fatal(err)
	}
	tbl := s.tables[strings.ToLower(c.Name)]
	for _, pc := range cases {
		stmt, args, err := tbl.listSQL(pc.Opts)
		if pc.Count {
			stmt, args, err = tbl.countStatement(pc.Opts.Filter)
		}
		if err != nil {
			t.Fatalf("%s: %v", pc.Name, err)
		}
		plan := explain(t, s, stmt, args, pc.Ordered)
		index := strings.Trim(indexName(c.Name, sqlstore.KeyColumn), `"`)
		if pc.Index != "" {
			index = strings.Trim(indexName(c.Name, pc.Index), `"`)
		}
		if !regexp.MustCompile(`Index (Only )?Scan (Backward )?using "?` + regexp.QuoteMeta(index) + `"? on `).MatchString(plan) {
			t.Errorf("%s: plan does not read the index %s:\n%s", pc.Name, index, plan)
		}
		if strings.Contains(plan, "Seq Scan on "+c.Name) {
			t.Errorf("%s: plan scans the table:\n%s", pc.Name, plan)
		}
		if pc.Ordered && regexp.MustCompile(`(?m)^\s*(->\s*)?(Incremental )?Sort`).MatchString(plan) {
			t.Errorf("%s: plan sorts instead of reading the order of %s:\n%s", pc.Name, index, plan)
		}
	}
}

// explain is PostgreSQL's plan of stmt with sequential scans priced out,
// and sorts too when noSort.
func explain(t *testing.T, s *Store, stmt string, args []any, noSort bool) string {
	t.Helper()
	var lines []string
	err := pgx.BeginFunc(t.Context(), s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(t.Context(), "SET LOCAL enable_seqscan = off"); err != nil {
			return err
		}
		if noSort {
			if _, err := tx.Exec(t.Context(), "SET LOCAL enable_sort = off"); err != nil {
				return err
			}
		}
		rows, err := tx.Query(t.Context(), "EXPLAIN "+stmt, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				return err
			}
			lines = append(lines, line)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatalf("EXPLAIN %s: %v", stmt, err)
	}
	return strings.Join(lines, "\n")
}
