package sqlite

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlstore"
	"github.com/tsprov/tsprov/schema"
)

// checkedFilter parses an OData filter and checks it against class c.
func checkedFilter(t *testing.T, c *cim.Class, filter string) query.Expr {
	t.Helper()
	e, err := query.ParseFilter(filter)
	if err != nil {
		t.Fatalf("ParseFilter(%q): %v", filter, err)
	}
	if err := query.Check(e, c, store.Searchable); err != nil {
		t.Fatalf("Check(%q): %v", filter, err)
	}
	return e
}

// queryPlan is SQLite's plan for selecting the instances of c that the
// OData filter selects, as the store compiles it, and the WHERE clause.
func queryPlan(t *testing.T, s *Store, c *cim.Class, filter string) (plan, where string) {
	t.Helper()
	tbl := s.tables[strings.ToLower(c.Name)]
	where, args, err := tbl.where(checkedFilter(t, c, filter))
	if err != nil {
		t.Fatal(err)
	}
	var id, parent, unused int
	if err := s.writer.QueryRowContext(t.Context(), "EXPLAIN QUERY PLAN SELECT t._key FROM "+tbl.ident+" AS t"+where, args...).Scan(&id, &parent, &unused, &plan); err != nil {
		t.Fatal(err)
	}
	return plan, where
}

// names lists the Ids of the T_Things that filter selects, in key order.
func names(t *testing.T, s *Store, c *cim.Class, filter string) []string {
	t.Helper()
	e := checkedFilter(t, c, filter)
	var ids []string
	err := s.Read(t.Context(), func(tx store.ReadTx) error {
		recs, err := tx.List(t.Context(), c, store.ListOptions{Filter: e})
		for _, r := range recs {
			ids = append(ids, r.Instance.Values["Id"].(string))
		}
		return err
	})
	if err != nil {
		t.Fatalf("List(%q): %v", filter, err)
	}
	return ids
}

// TestSubstringIndex: contains and LIKE '%x%' on Name find exactly the
// rows whose name holds the text, in any case, after inserts, renames and
// deletes; the index is really consulted (emptied behind the store's
// back, it hides the rows from a three-letter search but not from a
// two-letter one, which it cannot serve); and a file whose index is
// missing gets it rebuilt from its rows when opened.
func TestSubstringIndex(t *testing.T) {
	dir := t.TempDir()
	reg := registry(t, mofV1)
	c := class(t, reg, "T_Thing")
	s := open(t, dir, reg)
	for id, name := range map[string]string{"a": "Deploy Windows 11", "b": "CAFÉ deploy", "c": "Capture [x*] image", "d": "nothing here", "e": "Upgrade WINDOWS 10"} {
		in := cim.NewInstance(c)
		in.Set("Id", id)
		in.Set("Name", name)
		insert(t, s, in)
	}
	in := cim.NewInstance(c)
	in.Set("Id", "f") // no Name
	insert(t, s, in)
	err := s.Write(t.Context(), func(tx store.Tx) error {
		rec, err := tx.Get(t.Context(), c, "d", false)
		if err != nil {
			return err
		}
		rec.Instance.Set("Name", "now a windows thing")
		if err := tx.Update(t.Context(), rec); err != nil {
			return err
		}
		return tx.Delete(t.Context(), c, "e")
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		filter string
		want   []string
	}{
		{"contains(Name,'windows')", []string{"a", "d"}},
		{"contains(Name,'WINDOWS') and contains(Name,'thing')", []string{"d"}},
		{"contains(Name,'café')", []string{"b"}},
		{"contains(Name,'Café DEPLOY')", []string{"b"}},
		{"contains(Name,'[x*]')", []string{"c"}},
		{"contains(Name,'x*]')", []string{"c"}},
		{"contains(Name,'nothing')", nil},
		{"contains(Name,'deploy') or Id eq 'f'", []string{"a", "b", "f"}},
		{"not contains(Name,'deploy')", []string{"c", "d", "f"}}, // not of null holds (docs/rest.md)
		{"endswith(Name,'deploy')", []string{"b"}},
		{"Name eq 'cafÉ DEPLOY'", []string{"b"}},
	}
	for _, tc := range cases {
		if got := names(t, s, c, tc.filter); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.filter, got, tc.want)
		}
	}

	// The index is consulted: emptied, it hides what it held.
	if _, err := s.writer.ExecContext(t.Context(), "DELETE FROM "+trigramTable(s.tables["t_thing"])); err != nil {
		t.Fatal(err)
	}
	if got := names(t, s, c, "contains(Name,'dow')"); len(got) != 0 {
		t.Errorf("with the index emptied, contains(Name,'dow') = %v: the index was not used", got)
	}
	if got := names(t, s, c, "contains(Name,'ow')"); !slices.Equal(got, []string{"a", "d"}) {
		t.Errorf("contains(Name,'ow') = %v, want [a d] (too short for the index)", got)
	}

	// Dropped, it is rebuilt at the next Open.
	for _, stmt := range []string{
		"DROP TABLE " + trigramTable(s.tables["t_thing"]),
		`DROP TRIGGER "tsprov_trigram_T_Thing_Name_insert"`,
		`DROP TRIGGER "tsprov_trigram_T_Thing_Name_update"`,
		`DROP TRIGGER "tsprov_trigram_T_Thing_Name_delete"`,
	} {
		if _, err := s.writer.ExecContext(t.Context(), stmt); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir, reg)
	if got := names(t, s, c, "contains(Name,'windows')"); !slices.Equal(got, []string{"a", "d"}) {
		t.Errorf("after rebuild, contains(Name,'windows') = %v, want [a d]", got)
	}
}

// TestIndexedColumns: every list an index can answer (sqlstore.PlanCases:
// an equality, an order, a page after a position and a prefix on each
// property the schema indexes, the key included) reads that index, and
// takes its order from it where the case says so, as SQLite plans the
// statement List runs.
func TestIndexedColumns(t *testing.T) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	s := open(t, t.TempDir(), reg)
	c := class(t, reg, "SMS_TaskSequencePackage")
	cases, err := sqlstore.PlanCases(c)
	if err != nil {
		t.Fatal(err)
	}
	var indexed []string
	for _, p := range store.Columns(c) {
		if sqlstore.Indexed(p) {
			indexed = append(indexed, p.Name)
		}
	}
	for _, want := range []string{"PackageID", "Name", "PkgSourcePath", "Duration", "SourceDate", "LastRefreshTime"} {
		if !slices.Contains(indexed, want) {
			t.Errorf("indexed properties of %s: %v, want %s among them (docs/choices.md, Indexes)", c.Name, indexed, want)
		}
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
		plan := explain(t, s, stmt, args)
		index := "sqlite_autoindex_" + c.Name + "_1" // the key column's
		if pc.Index != "" {
			index = sqlstore.IndexName(c.Name, pc.Index)
		}
		if !regexp.MustCompile(`INDEX ` + regexp.QuoteMeta(index) + `( |;|$)`).MatchString(plan) {
			t.Errorf("%s: plan %q does not read the index %s", pc.Name, plan, index)
		}
		if pc.Ordered && strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%s: plan %q sorts instead of reading the order of %s", pc.Name, plan, index)
		}
	}
}

// explain is SQLite's query plan of stmt, its lines joined by "; ".
func explain(t *testing.T, s *Store, stmt string, args []any) string {
	t.Helper()
	rows, err := s.writer.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+stmt, args...)
	if err != nil {
		t.Fatalf("EXPLAIN QUERY PLAN %s: %v", stmt, err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "; ")
}
