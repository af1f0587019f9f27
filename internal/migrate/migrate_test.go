package migrate_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/migrate"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlite"
	"github.com/tsprov/tsprov/schema"
)

func openSQLite(t *testing.T, reg *cim.Registry) store.Store {
	t.Helper()
	return openSQLiteAt(t, reg, filepath.Join(t.TempDir(), "tsprov.db"))
}

func openSQLiteAt(t *testing.T, reg *cim.Registry, path string) store.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path, reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// behindTheStore runs one SQL statement on the SQLite file at path with a
// connection of its own, as a tool other than tsprov would.
func behindTheStore(t *testing.T, path, stmt string, args ...any) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.ExecContext(t.Context(), stmt, args...)
	if err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("%s: %d rows changed, want 1", stmt, n)
	}
}

// fill writes n packages with lazy values, updates every third, deletes
// every seventh and draws a counter, so that versions, lazy values, the
// counters and the change feed all have something to copy.
func fill(t *testing.T, reg *cim.Registry, s store.Store, n int) {
	t.Helper()
	c, _ := reg.Class("SMS_TaskSequencePackage")
	pkg := func(i int, name string) *cim.Instance {
		in := cim.NewInstance(c)
		in.Set("PackageID", fmt.Sprintf("PS1%05X", i))
		in.Set("Name", name)
		in.Set("Sequence", fmt.Sprintf(`<sequence version="3.00"><step name="Step %d" type="SMS_TaskSequence_RunCommandLineAction"/></sequence>`, i))
		in.Set("SecuredScopeNames", []any{"Default"})
		return in
	}
	for from := 1; from <= n; from += 500 {
		err := s.Write(t.Context(), func(tx store.Tx) error {
			for i := from; i < from+500 && i <= n; i++ {
				if _, err := tx.NextSequence(t.Context(), "PS1"); err != nil {
					return err
				}
				if err := tx.Insert(t.Context(), &store.Record{Instance: pkg(i, fmt.Sprintf("Package %d", i))}); err != nil {
					return err
				}
				if i%3 == 0 {
					if err := tx.Update(t.Context(), &store.Record{Instance: pkg(i, fmt.Sprintf("Package %d, renamed", i))}); err != nil {
						return err
					}
				}
				if i%7 == 0 {
					if err := tx.Delete(t.Context(), c, fmt.Sprintf("PS1%05X", i)); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("fill: %v", err)
		}
	}
}

// TestCopy: a copy holds what the source holds (Diff finds nothing), it
// reports its progress up to the total, it refuses a destination that is
// not empty, and Diff does find a changed lazy value.
func TestCopy(t *testing.T) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	from, to := openSQLite(t, reg), openSQLite(t, reg)
	fill(t, reg, from, 1200)

	var last, total int64
	counts, err := migrate.Copy(t.Context(), reg, from, to, func(done, all int64) { last, total = done, all })
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}
	const live, events = 1200 - 1200/7, 1200 + 1200/3 + 1200/7
	if counts.Instances != live || counts.Events != events || counts.Counters != 1 {
		t.Errorf("Copy moved %+v, want %d instances, %d events, 1 counter", counts, live, events)
	}
	if last != total || total != live+events {
		t.Errorf("progress ended at %d of %d, want %d of %d", last, total, live+events, live+events)
	}
	diffs, err := migrate.Diff(t.Context(), reg, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) > 0 {
		t.Errorf("the copy differs:\n%s", strings.Join(diffs, "\n"))
	}

	if _, err := migrate.Copy(t.Context(), reg, from, to, nil); errs.KindOf(err) != errs.Conflict {
		t.Errorf("Copy into a full store: error %v, want kind Conflict", err)
	}

	c, _ := reg.Class("SMS_TaskSequencePackage")
	err = to.Write(t.Context(), func(tx store.Tx) error {
		rec, err := tx.Get(t.Context(), c, "PS100001", true)
		if err != nil {
			return err
		}
		rec.Instance.Set("Sequence", `<sequence version="3.00"/>`)
		return tx.Update(t.Context(), rec)
	})
	if err != nil {
		t.Fatal(err)
	}
	diffs, err = migrate.Diff(t.Context(), reg, from, to)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`SMS_TaskSequencePackage "PS100001": version 1 and 2`, `SMS_TaskSequencePackage "PS100001": Sequence differs`}
	if len(diffs) < len(want) || diffs[0] != want[0] || diffs[1] != want[1] {
		t.Errorf("Diff after a change = %q, want it to start with %q", diffs, want)
	}
	feedLines := 0
	for _, d := range diffs {
		if strings.Contains(d, "change feed") {
			feedLines++
		}
	}
	if feedLines != 1 || !strings.Contains(diffs[len(diffs)-1], "the change feeds end apart") {
		t.Errorf("the one change more in the second feed is reported %d times: %q", feedLines, diffs)
	}
}

// TestCopyIsWholeOrNothing: a source that holds strings no store keeps
// (a NUL character, written behind the store's back) is refused whole:
// Copy names every such object and property, and the destination holds
// nothing afterwards, though the objects before them were read and
// restored first; once the source is mended, the same destination takes
// the copy.
func TestCopyIsWholeOrNothing(t *testing.T) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tsprov.db")
	from, to := openSQLiteAt(t, reg, path), openSQLite(t, reg)
	fill(t, reg, from, 1200)
	behindTheStore(t, path, `UPDATE "SMS_TaskSequencePackage" SET "Description" = 'before' || char(0) || 'after' WHERE "Name" = 'Package 1100'`)
	behindTheStore(t, path, `UPDATE "SMS_TaskSequencePackage" SET "Name" = 'Package' || char(0) WHERE "Name" = 'Package 1104, renamed'`)

	_, err = migrate.Copy(t.Context(), reg, from, to, nil)
	if errs.KindOf(err) != errs.Invalid {
		t.Fatalf("Copy of a source with NUL characters: error %v, want kind Invalid", err)
	}
	for _, want := range []string{"2 objects or events hold strings that no store keeps", `SMS_TaskSequencePackage "PS10044C": SMS_TaskSequencePackage.Description`, `SMS_TaskSequencePackage "PS100450": SMS_TaskSequencePackage.Name`, "NUL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Copy's error does not say %q: %v", want, err)
		}
	}
	if diffs := emptyOrNot(t, reg, to); diffs != "" {
		t.Errorf("after a refused copy the destination holds %s", diffs)
	}

	behindTheStore(t, path, `UPDATE "SMS_TaskSequencePackage" SET "Description" = 'mended' WHERE "Name" = 'Package 1100'`)
	behindTheStore(t, path, `UPDATE "SMS_TaskSequencePackage" SET "Name" = 'Package 1104' WHERE "Name" = 'Package' || char(0)`)
	if _, err := migrate.Copy(t.Context(), reg, from, to, nil); err != nil {
		t.Fatalf("Copy after mending the source: %v", err)
	}
	diffs, err := migrate.Diff(t.Context(), reg, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) > 0 {
		t.Errorf("the copy differs:\n%s", strings.Join(diffs, "\n"))
	}
}

// emptyOrNot says what s holds of instances, counters and events ("" when
// nothing).
func emptyOrNot(t *testing.T, reg *cim.Registry, s store.Store) string {
	t.Helper()
	var held []string
	err := s.Read(t.Context(), func(tx store.ReadTx) error {
		for _, c := range reg.Classes() {
			if !c.IsStorable() {
				continue
			}
			n, err := tx.Count(t.Context(), c, nil)
			if err != nil {
				return err
			}
			if n > 0 {
				held = append(held, fmt.Sprintf("%d %s", n, c.Name))
			}
		}
		counters, err := tx.Counters(t.Context())
		if err != nil {
			return err
		}
		if len(counters) > 0 {
			held = append(held, fmt.Sprintf("counters %v", counters))
		}
		evs, err := tx.Events(t.Context(), 0, 0)
		if err != nil {
			return err
		}
		if len(evs) > 0 {
			held = append(held, fmt.Sprintf("%d events", len(evs)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(held, ", ")
}

// TestCopyHistory: the histories of task sequence packages, a deleted
// package's too, are copied with their numbers, times and authors, and a
// history that differs afterwards is reported.
func TestCopyHistory(t *testing.T) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	c, _ := reg.Class("SMS_TaskSequencePackage")
	from, to := openSQLite(t, reg), openSQLite(t, reg)
	err = from.Write(t.Context(), func(tx store.Tx) error {
		for i, id := range []string{"PS100001", "PS100002"} {
			in := cim.NewInstance(c)
			in.Set("PackageID", id)
			for n := 0; n < 3+i; n++ {
				in.Set("Name", fmt.Sprintf("%s v%d", id, n))
				in.Set("Sequence", fmt.Sprintf(`<sequence version="3.10"><!-- %d --></sequence>`, n))
				rec := &store.Record{Instance: in.Clone()}
				op := store.Modified
				if n == 0 {
					op = store.Created
					err = tx.Insert(t.Context(), rec)
				} else {
					err = tx.Update(t.Context(), rec)
				}
				if err != nil {
					return err
				}
				if err := tx.AddRevision(t.Context(), &store.Revision{Instance: in.Clone(), Op: op, User: "alice", Server: "SRV", Comment: fmt.Sprint(n)}); err != nil {
					return err
				}
			}
		}
		return tx.Delete(t.Context(), c, "PS100002")
	})
	if err != nil {
		t.Fatal(err)
	}
	counts, err := migrate.Copy(t.Context(), reg, from, to, nil)
	if err != nil {
		t.Fatal(err)
	}
	if counts.Revisions != 7 {
		t.Errorf("Copy moved %d revisions, want 7", counts.Revisions)
	}
	if diffs, err := migrate.Diff(t.Context(), reg, from, to); err != nil || len(diffs) > 0 {
		t.Errorf("the copy differs: %v %q", err, diffs)
	}
	err = to.Write(t.Context(), func(tx store.Tx) error {
		_, err := tx.TrimRevisions(t.Context(), c, "PS100002", 1)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	diffs, err := migrate.Diff(t.Context(), reg, from, to)
	if err != nil || len(diffs) == 0 || !strings.Contains(diffs[0], "history of SMS_TaskSequencePackage") {
		t.Errorf("a trimmed history in the copy: %v %q", err, diffs)
	}
}
