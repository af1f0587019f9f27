package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/server"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/postgres"
	"github.com/tsprov/tsprov/internal/store/postgres/pgtest"
	"github.com/tsprov/tsprov/internal/store/sqlite"
	"github.com/tsprov/tsprov/schema"
)

// TestMigrateToPostgres: `tsprov migrate` moves a data folder of 10,000
// packages (lazy task sequences, versions above 1, deletions, the id
// counter, the change feed) into an empty PostgreSQL database and says the
// copy equals the source; the copied packages read back as they were,
// lazy values included; a second run into the now full database is
// refused and changes nothing; a folder with no store is refused.
func TestMigrateToPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("copies 10,000 packages")
	}
	url := pgtest.URL(t, t.Name())
	dir := t.TempDir()
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	c, _ := reg.Class("SMS_TaskSequencePackage")
	src, err := sqlite.Open(t.Context(), filepath.Join(dir, server.DatabaseFile), reg)
	if err != nil {
		t.Fatal(err)
	}
	const n = 10_000
	pkg := func(i int, name string) *cim.Instance {
		in := cim.NewInstance(c)
		in.Set("PackageID", fmt.Sprintf("PS1%05X", i))
		in.Set("Name", name)
		in.Set("Description", "migrated ✓")
		in.Set("Sequence", fmt.Sprintf(`<sequence version="3.00"><step name="Step %d" type="SMS_TaskSequence_RunCommandLineAction"><defaultVarList><variable name="CommandLine" property="CommandLine">cmd /c echo %d</variable></defaultVarList></step></sequence>`, i, i))
		return in
	}
	for from := 1; from <= n; from += 2000 {
		err := src.Write(t.Context(), func(tx store.Tx) error {
			for i := from; i < from+2000 && i <= n; i++ {
				if _, err := tx.NextSequence(t.Context(), "PS1"); err != nil {
					return err
				}
				if err := tx.Insert(t.Context(), &store.Record{Instance: pkg(i, fmt.Sprintf("Package %d", i))}); err != nil {
					return err
				}
				if i%5 == 0 {
					if err := tx.Update(t.Context(), &store.Record{Instance: pkg(i, fmt.Sprintf("Package %d v2", i))}); err != nil {
						return err
					}
				}
			}
			return tx.Delete(t.Context(), c, fmt.Sprintf("PS1%05X", from))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	if code := run([]string{"migrate", "--from", dir, "--to", url, "--quiet"}, &out, &out); code != 0 {
		t.Fatalf("tsprov migrate: exit %d\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), fmt.Sprintf("copied %d instances", n-n/2000)) || !strings.Contains(out.String(), "the copy equals the source") {
		t.Errorf("tsprov migrate said %q", out.String())
	}

	dst, err := postgres.Open(t.Context(), url, reg)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	for _, i := range []int{2, 5, 1999, 2500, 9999, n} {
		var got *store.Record
		err := dst.Read(t.Context(), func(tx store.ReadTx) error {
			var err error
			got, err = tx.Get(t.Context(), c, fmt.Sprintf("PS1%05X", i), true)
			return err
		})
		if err != nil {
			t.Errorf("package %d after the copy: %v", i, err)
			continue
		}
		want, version := pkg(i, fmt.Sprintf("Package %d", i)), int64(1)
		if i%5 == 0 {
			want, version = pkg(i, fmt.Sprintf("Package %d v2", i)), 2
		}
		for _, p := range []string{"Name", "Description", "Sequence"} {
			if !cim.Equal(got.Instance.Values[p], want.Values[p]) {
				t.Errorf("package %d: %s = %v, want %v", i, p, got.Instance.Values[p], want.Values[p])
			}
		}
		if got.Version != version {
			t.Errorf("package %d: version %d, want %d", i, got.Version, version)
		}
	}

	out.Reset()
	if code := run([]string{"migrate", "--from", dir, "--to", url, "--quiet"}, &out, &out); code != 1 || !strings.Contains(out.String(), "not empty") {
		t.Errorf("a second migrate: exit %d, %q; want 1 and a refusal", code, out.String())
	}
	out.Reset()
	if code := run([]string{"migrate", "--from", t.TempDir(), "--to", url}, &out, &out); code != 1 || !strings.Contains(out.String(), "no tsprov store") {
		t.Errorf("migrate from an empty folder: exit %d, %q", code, out.String())
	}
}

// TestMigrateRefusesNUL: a data folder with a NUL character written
// behind the store's back (SQLite keeps it, PostgreSQL cannot) is refused
// in one line that names the package and the property, after the packages
// before it were copied in the same transaction; the database is left
// empty, and once the folder is mended the same command copies it.
func TestMigrateRefusesNUL(t *testing.T) {
	url := pgtest.URL(t, t.Name())
	dir := t.TempDir()
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	c, _ := reg.Class("SMS_TaskSequencePackage")
	dbFile := filepath.Join(dir, server.DatabaseFile)
	src, err := sqlite.Open(t.Context(), dbFile, reg)
	if err != nil {
		t.Fatal(err)
	}
	const n = 1200 // more than one batch of the copy before the bad package
	err = src.Write(t.Context(), func(tx store.Tx) error {
		for i := 1; i <= n; i++ {
			if _, err := tx.NextSequence(t.Context(), "PS1"); err != nil {
				return err
			}
			in := cim.NewInstance(c)
			in.Set("PackageID", fmt.Sprintf("PS1%05X", i))
			in.Set("Name", fmt.Sprintf("Package %d", i))
			if err := tx.Insert(t.Context(), &store.Record{Instance: in}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", dbFile)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	plant := func(description string) {
		t.Helper()
		if _, err := raw.ExecContext(t.Context(), `UPDATE "SMS_TaskSequencePackage" SET "Description" = `+description+` WHERE "Name" = 'Package 1100'`); err != nil {
			t.Fatal(err)
		}
	}
	plant(`'before' || char(0) || 'after'`)

	var stdout, stderr bytes.Buffer
	code := run([]string{"migrate", "--from", dir, "--to", url, "--quiet"}, &stdout, &stderr)
	msg := stderr.String()
	if code != 1 || strings.Count(msg, "\n") != 1 {
		t.Errorf("migrate of a folder with a NUL: exit %d, %q; want 1 and one line", code, msg)
	}
	for _, want := range []string{`SMS_TaskSequencePackage "PS10044C": SMS_TaskSequencePackage.Description`, "NUL", "nothing was written"} {
		if !strings.Contains(msg, want) {
			t.Errorf("migrate's message does not say %q: %s", want, msg)
		}
	}
	dst, err := postgres.Open(t.Context(), url, reg)
	if err != nil {
		t.Fatal(err)
	}
	err = dst.Read(t.Context(), func(tx store.ReadTx) error {
		n, err := tx.Count(t.Context(), c, nil)
		if err != nil {
			return err
		}
		counters, err := tx.Counters(t.Context())
		if err != nil {
			return err
		}
		evs, err := tx.Events(t.Context(), 0, 0)
		if n != 0 || len(counters) != 0 || len(evs) != 0 {
			t.Errorf("after a refused migrate the database holds %d packages, counters %v, %d events; want nothing", n, counters, len(evs))
		}
		return err
	})
	dst.Close()
	if err != nil {
		t.Fatal(err)
	}

	plant(`'mended'`)
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"migrate", "--from", dir, "--to", url, "--quiet"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "the copy equals the source") {
		t.Errorf("migrate after mending the folder: exit %d, %q %q", code, stdout.String(), stderr.String())
	}
}
