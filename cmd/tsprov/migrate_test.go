package main

import (
	"bytes"
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
