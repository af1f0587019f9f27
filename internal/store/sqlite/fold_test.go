package sqlite

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/schema"
)

// TestFoldWideASCII: k and s share their case orbit with a non-ASCII
// letter (the Kelvin sign K, the long s ſ), which SQLite's LIKE does not
// fold to them; a pattern of ASCII text that holds k or s still finds
// those forms, as query.Eval and the PostgreSQL store do.
func TestFoldWideASCII(t *testing.T) {
	reg := registry(t, mofV1)
	c := class(t, reg, "T_Thing")
	s := open(t, t.TempDir(), reg)
	var all []*cim.Instance
	for id, name := range map[string]string{"a": "\u212Aelvin scale", "b": "Mi\u017F\u017Fion", "c": "kelvin", "d": "other"} {
		in := cim.NewInstance(c)
		in.Set("Id", id)
		in.Set("Name", name)
		insert(t, s, in)
		all = append(all, in)
	}
	for _, tc := range []struct {
		src  string
		wql  bool
		want []string
	}{
		{src: "contains(Name,'kelvin')", want: []string{"a", "c"}},
		{src: "contains(Name,'elvin')", want: []string{"a", "c"}},
		{src: "startswith(Name,'KEL')", want: []string{"a", "c"}},
		{src: "endswith(Name,'ssion')", want: []string{"b"}},
		{src: "contains(Name,'SS')", want: []string{"b"}},
		{src: "SELECT * FROM T_Thing WHERE Name LIKE '%kelvin%'", wql: true, want: []string{"a", "c"}},
		{src: "SELECT * FROM T_Thing WHERE Name LIKE 'mi_sion'", wql: true, want: []string{"b"}},
	} {
		var e query.Expr
		var err error
		if tc.wql {
			var st *query.Statement
			st, err = query.ParseWQL(tc.src)
			if err == nil {
				e = st.Where
			}
		} else {
			e, err = query.ParseFilter(tc.src)
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		if err := query.Check(e, c, store.Searchable); err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		var evalGot []string
		for _, in := range all {
			ok, err := query.Eval(e, in)
			if err != nil {
				t.Fatalf("%s: Eval: %v", tc.src, err)
			}
			if ok {
				evalGot = append(evalGot, in.Values["Id"].(string))
			}
		}
		slices.Sort(evalGot)
		if !slices.Equal(evalGot, tc.want) {
			t.Errorf("%s: query.Eval selects %v, want %v", tc.src, evalGot, tc.want)
		}
		var got []string
		err = s.Read(t.Context(), func(tx store.ReadTx) error {
			recs, err := tx.List(t.Context(), c, store.ListOptions{Filter: e})
			for _, r := range recs {
				got = append(got, r.Instance.Values["Id"].(string))
			}
			return err
		})
		if err != nil {
			t.Fatalf("%s: List: %v", tc.src, err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: the store selects %v, want %v", tc.src, got, tc.want)
		}
	}
}

// TestFoldWidePrefixIndexed: a prefix that holds k or s, matched on folded
// text, is still answered through the Name index (the folded range of the
// prefix narrows first).
func TestFoldWidePrefixIndexed(t *testing.T) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	s := open(t, t.TempDir(), reg)
	c := class(t, reg, "SMS_TaskSequencePackage")
	plan, where := queryPlan(t, s, c, "startswith(Name,'Windows')")
	if !strings.Contains(plan, "INDEX "+c.Name+"_Name_idx") {
		t.Errorf("startswith(Name,'Windows'): plan %q does not use the Name index (%s)", plan, where)
	}
}

// TestFoldReindexesOldFile: a file whose NOCASE indexes were built by
// SQLite's own NOCASE (a file of an earlier tsprov, or written by the
// sqlite3 tool) gets them rebuilt by tsprov's folding when opened, so
// that every instance is found by its key in any case.
func TestFoldReindexesOldFile(t *testing.T) {
	tool, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Skip("needs the sqlite3 tool to write a file with SQLite's own NOCASE")
	}
	dir := t.TempDir()
	reg := registry(t, mofV1)
	c := class(t, reg, "T_Thing")
	s := open(t, dir, reg)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	keys := []string{"Ê1", "é2", "É3", "a4", "B5", "ü6", "Z7", "ñ8", "Ö9"}
	var script strings.Builder
	for i, k := range keys {
		fmt.Fprintf(&script, "INSERT INTO T_Thing (_key, _version, Id, Name) VALUES ('%s', 1, '%s', 'n%d');\n", k, k, i)
	}
	// as a file of the release before the rebuild: its migrations end at 2
	// (and the later ones are undone)
	script.WriteString("DROP TABLE tsprov_revisions; DROP TABLE tsprov_event_trim; ALTER TABLE tsprov_events DROP COLUMN previous; ALTER TABLE tsprov_events DROP COLUMN target; ALTER TABLE tsprov_events DROP COLUMN method;\n")
	script.WriteString("DELETE FROM tsprov_goose_version WHERE version_id > 2;\n")
	cmd := exec.Command(tool, filepath.Join(dir, dbFile))
	cmd.Stdin = strings.NewReader(script.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sqlite3: %v\n%s", err, out)
	}
	s = open(t, dir, reg)
	var check string
	if err := s.writer.QueryRowContext(t.Context(), "PRAGMA integrity_check").Scan(&check); err != nil {
		t.Fatal(err)
	}
	if check != "ok" {
		t.Errorf("integrity_check after open: %s", check)
	}
	err = s.Read(t.Context(), func(tx store.ReadTx) error {
		for _, k := range keys {
			for _, spelling := range []string{k, strings.ToUpper(k), strings.ToLower(k)} {
				if _, err := tx.Get(t.Context(), c, spelling, false); err != nil {
					t.Errorf("Get(%q) of the instance stored as %q: %v", spelling, k, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
