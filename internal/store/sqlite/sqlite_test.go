package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/storetest"
	"github.com/tsprov/tsprov/schema"
)

// dbFile is the file name the tests use inside their directory.
const dbFile = "tsprov.db"

func TestContract(t *testing.T) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, func(t *testing.T, dir string) store.Store {
		s, err := Open(t.Context(), filepath.Join(dir, dbFile), reg)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

// open opens a store in dir for reg; the test closes it at its end.
func open(t *testing.T, dir string, reg *cim.Registry) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(dir, dbFile), reg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// pragma reads one PRAGMA on one connection of db.
func pragma(t *testing.T, db *sql.DB, name string) string {
	t.Helper()
	var v string
	if err := db.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

// TestPragmas: the file is in WAL mode (seen from a connection of its
// own), writes are synchronous=FULL with foreign keys on, and the reader
// pool cannot write.
func TestPragmas(t *testing.T) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := open(t, dir, reg)

	raw, err := sql.Open("sqlite", filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if got := pragma(t, raw, "journal_mode"); got != "wal" {
		t.Errorf("journal_mode = %q, want wal", got)
	}
	for _, c := range []struct {
		db         *sql.DB
		pool, name string
		want       string
	}{
		{s.writer, "writer", "synchronous", "2"},
		{s.writer, "writer", "foreign_keys", "1"},
		{s.writer, "writer", "busy_timeout", "10000"},
		{s.reader, "reader", "query_only", "1"},
		{s.reader, "reader", "busy_timeout", "10000"},
	} {
		if got := pragma(t, c.db, c.name); got != c.want {
			t.Errorf("%s: %s = %q, want %q", c.pool, c.name, got, c.want)
		}
	}
	if _, err := s.reader.ExecContext(t.Context(), "INSERT INTO tsprov_counters (name, value) VALUES ('x', 1)"); err == nil {
		t.Error("reader pool wrote a row")
	}
}

// Two versions of a tiny schema: v2 adds a row property and a lazy one.
const (
	mofEmbedded = `
[Embedded] class T_Part { string Label; real64 Weight; datetime At; };
`
	mofV1 = `
class T_Thing {
    [key] string Id;
    string Name;
    real64 Ratio;
    real32 Small;
    sint64 Big;
    boolean Flag;
    char16 Letter;
    datetime When;
    string Tags[];
    uint32 Counts[];
    T_Part Part;
    T_Part Parts[];
    [lazy] string Note;
};
`
	mofV2 = `
class T_Thing {
    [key] string Id;
    string Name;
    real64 Ratio;
    real32 Small;
    sint64 Big;
    boolean Flag;
    char16 Letter;
    datetime When;
    string Tags[];
    uint32 Counts[];
    T_Part Part;
    T_Part Parts[];
    [lazy] string Note;
    uint32 Added;
    [lazy] uint8 Extra[];
};
`
)

func registry(t *testing.T, thing string) *cim.Registry {
	t.Helper()
	reg, err := cim.Load(fstest.MapFS{
		"a.mof": {Data: []byte(mofEmbedded)},
		"b.mof": {Data: []byte(thing)},
	})
	if err != nil {
		t.Fatalf("schema: %v", err)
	}
	return reg
}

func class(t *testing.T, reg *cim.Registry, name string) *cim.Class {
	t.Helper()
	c, ok := reg.Class(name)
	if !ok {
		t.Fatalf("no class %s", name)
	}
	return c
}

func dmtf(t *testing.T, s string) cim.DateTimeValue {
	t.Helper()
	d, err := cim.ParseDMTF(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// thing returns a T_Thing with every property of mofV1 set.
func thing(t *testing.T, reg *cim.Registry, id string) *cim.Instance {
	part := func(label string, w float64) *cim.Instance {
		p := cim.NewInstance(class(t, reg, "T_Part"))
		p.Set("Label", label)
		p.Set("Weight", w)
		p.Set("At", dmtf(t, "20240229235959.999999+330"))
		return p
	}
	in := cim.NewInstance(class(t, reg, "T_Thing"))
	in.Set("Id", id)
	in.Set("Name", "thing "+id)
	in.Set("Ratio", 0.1)
	in.Set("Small", float64(3))
	in.Set("Big", int64(-1<<63))
	in.Set("Flag", true)
	in.Set("Letter", "é")
	in.Set("When", dmtf(t, "20240101000000.000000+***"))
	in.Set("Tags", []any{"a", "B"})
	in.Set("Counts", []any{int64(0), int64(4294967295)})
	in.Set("Part", part("one", -1e300))
	in.Set("Parts", []any{part("two", 2.5), part("three", 0)})
	in.Set("Note", "lazy note")
	return in
}

func insert(t *testing.T, s *Store, in *cim.Instance) {
	t.Helper()
	err := s.Write(t.Context(), func(tx store.Tx) error {
		return tx.Insert(t.Context(), &store.Record{Instance: in})
	})
	if err != nil {
		t.Fatalf("Insert: %v", err)
	}
}

func get(t *testing.T, s *Store, c *cim.Class, key string) *store.Record {
	t.Helper()
	var rec *store.Record
	err := s.Read(t.Context(), func(tx store.ReadTx) error {
		var err error
		rec, err = tx.Get(t.Context(), c, key, true)
		return err
	})
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return rec
}

func checkEqual(t *testing.T, got, want *cim.Instance) {
	t.Helper()
	for _, p := range want.Class.Properties {
		if g, w := got.Values[p.Name], want.Values[p.Name]; !cim.Equal(g, w) {
			t.Errorf("%s = %#v, want %#v", p.Name, g, w)
		}
	}
}

// TestSchemaGrows: a property added to the schema becomes a column added
// to the table (old rows hold null there) or an apart value; old rows and
// values stay; the layout table records the new properties. Reals,
// char16, embedded objects in the row and arrays of integers, which the
// real schema lacks, round-trip on the way.
func TestSchemaGrows(t *testing.T) {
	dir := t.TempDir()
	reg1 := registry(t, mofV1)
	s1, err := Open(t.Context(), filepath.Join(dir, dbFile), reg1)
	if err != nil {
		t.Fatal(err)
	}
	old := thing(t, reg1, "T1")
	insert(t, s1, old)
	checkEqual(t, get(t, s1, class(t, reg1, "T_Thing"), "T1").Instance, old)
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}

	reg2 := registry(t, mofV2)
	s2 := open(t, dir, reg2)
	c2 := class(t, reg2, "T_Thing")
	got := get(t, s2, c2, "T1").Instance
	for _, p := range class(t, reg1, "T_Thing").Properties {
		if v := got.Values[p.Name]; !cim.Equal(v, old.Values[p.Name]) {
			t.Errorf("after the schema grew: %s = %#v, want %#v", p.Name, v, old.Values[p.Name])
		}
	}
	for _, name := range []string{"Added", "Extra"} {
		if v, ok := got.Values[name]; !ok || v != nil {
			t.Errorf("after the schema grew: new %s = %#v (present %v), want null", name, v, ok)
		}
	}
	added := thing(t, reg2, "T2")
	added.Set("Added", int64(7))
	added.Set("Extra", []byte{1, 2})
	insert(t, s2, added)
	checkEqual(t, get(t, s2, c2, "T2").Instance, added)

	var n int
	if err := s2.reader.QueryRowContext(t.Context(),
		`SELECT COUNT(*) FROM pragma_table_info('T_Thing') WHERE name = 'Added'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("column Added: %d (%v), want 1", n, err)
	}
	if err := s2.reader.QueryRowContext(t.Context(),
		`SELECT COUNT(*) FROM tsprov_class_columns WHERE class = 'T_Thing'`).Scan(&n); err != nil || n != len(c2.Properties) {
		t.Errorf("layout rows of T_Thing: %d (%v), want %d", n, err, len(c2.Properties))
	}
}

// TestSchemaShrinks: a property removed from the schema is no longer read
// (its column stays); adding it back with the same type finds its values.
func TestSchemaShrinks(t *testing.T) {
	dir := t.TempDir()
	reg2 := registry(t, mofV2)
	s := open(t, dir, reg2)
	in := thing(t, reg2, "T1")
	in.Set("Added", int64(7))
	insert(t, s, in)
	s.Close()

	reg1 := registry(t, mofV1)
	s = open(t, dir, reg1)
	got := get(t, s, class(t, reg1, "T_Thing"), "T1").Instance
	if _, ok := got.Values["Added"]; ok {
		t.Error("a property the schema no longer has was read")
	}
	s.Close()

	s = open(t, dir, reg2)
	if v := get(t, s, class(t, reg2, "T_Thing"), "T1").Instance.Values["Added"]; v != int64(7) {
		t.Errorf("Added after removal and return: %#v, want 7", v)
	}
}

// TestSchemaContradiction: a stored property whose type or placement
// changed stops Open with errs.Invalid naming class and property.
func TestSchemaContradiction(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, registry(t, mofV1))
	s.Close()
	for _, c := range []struct {
		name, from, to, target string
	}{
		{"type", "string Name;", "uint32 Name;", "T_Thing.Name"},
		{"array", "uint32 Counts[];", "uint32 Counts;", "T_Thing.Counts"},
		{"embedded class", "T_Part Part;", "string Part;", "T_Thing.Part"},
		{"made lazy", "real64 Ratio;", "[lazy] real64 Ratio;", "T_Thing.Ratio"},
		{"no longer lazy", "[lazy] string Note;", "string Note;", "T_Thing.Note"},
	} {
		t.Run(c.name, func(t *testing.T) {
			reg := registry(t, strings.Replace(mofV1, c.from, c.to, 1))
			s, err := Open(t.Context(), filepath.Join(dir, dbFile), reg)
			if err == nil {
				s.Close()
				t.Fatal("Open: no error")
			}
			if errs.KindOf(err) != errs.Invalid || errs.TargetOf(err) != c.target {
				t.Errorf("Open: %v (kind %v, target %q), want Invalid naming %s", err, errs.KindOf(err), errs.TargetOf(err), c.target)
			}
			if !strings.Contains(err.Error(), "T_Thing") || !strings.Contains(err.Error(), strings.TrimPrefix(c.target, "T_Thing.")) {
				t.Errorf("Open: %q does not name class and property", err)
			}
		})
	}
	// The file is still good for the schema it was made with.
	s = open(t, dir, registry(t, mofV1))
}

// TestMisuse: what the backend refuses before touching the file.
func TestMisuse(t *testing.T) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	s := open(t, t.TempDir(), reg)
	pkg := class(t, reg, "SMS_TaskSequencePackage")
	ts := class(t, reg, "SMS_TaskSequence") // keyless: not stored
	ctx := t.Context()

	wrongType := cim.NewInstance(pkg)
	wrongType.Set("PackageID", "PS100001")
	wrongType.Set("Duration", 5) // int, not int64
	noKey := cim.NewInstance(pkg)
	noKey.Set("Name", "x")
	badLazy := cim.NewInstance(pkg)
	badLazy.Set("PackageID", "PS100001")
	badLazy.Set("Sequence", []byte("x"))
	for _, c := range []struct {
		name   string
		fn     func(tx store.Tx) error
		target string
	}{
		{"wrong Go type", func(tx store.Tx) error { return tx.Insert(ctx, &store.Record{Instance: wrongType}) }, "Duration"},
		{"wrong Go type apart", func(tx store.Tx) error { return tx.Insert(ctx, &store.Record{Instance: badLazy}) }, "Sequence"},
		{"null key", func(tx store.Tx) error { return tx.Insert(ctx, &store.Record{Instance: noKey}) }, "PackageID"},
		{"class not stored", func(tx store.Tx) error { _, err := tx.Count(ctx, ts, nil); return err }, "SMS_TaskSequence"},
		{"no record", func(tx store.Tx) error { return tx.Update(ctx, nil) }, ""},
		{"empty counter name", func(tx store.Tx) error { _, err := tx.NextSequence(ctx, ""); return err }, ""},
	} {
		err := s.Write(ctx, c.fn)
		if errs.KindOf(err) != errs.Invalid || errs.TargetOf(err) != c.target {
			t.Errorf("%s: %v (kind %v, target %q), want Invalid naming %q", c.name, err, errs.KindOf(err), errs.TargetOf(err), c.target)
		}
	}
	var n int64
	s.Read(ctx, func(tx store.ReadTx) error { n, err = tx.Count(ctx, pkg, nil); return err })
	if err != nil || n != 0 {
		t.Errorf("after refused writes: Count %d (%v), want 0", n, err)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	err = s.Write(ctx, func(store.Tx) error { return nil })
	if errs.KindOf(err) != errs.Unavailable {
		t.Errorf("Write after Close: %v, want Unavailable", err)
	}
	err = s.Read(ctx, func(store.ReadTx) error { return nil })
	if errs.KindOf(err) != errs.Unavailable {
		t.Errorf("Read after Close: %v, want Unavailable", err)
	}
}

// TestPanicRollsBack: a panic in fn rolls the Write back and goes on.
func TestPanicRollsBack(t *testing.T) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	s := open(t, t.TempDir(), reg)
	pkg := class(t, reg, "SMS_TaskSequencePackage")
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not go on")
			}
		}()
		s.Write(t.Context(), func(tx store.Tx) error {
			in := cim.NewInstance(pkg)
			in.Set("PackageID", "PS100001")
			if err := tx.Insert(t.Context(), &store.Record{Instance: in}); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	var n int64
	err = s.Write(ctx, func(tx store.Tx) error { n, err = tx.Count(ctx, pkg, nil); return err })
	if err != nil || n != 0 {
		t.Errorf("after a panicking Write: Count %d (%v), want 0 and the writer free", n, err)
	}
}

// TestPathWithSpecialCharacters: the path names the file exactly, even
// with characters that a URI would give a meaning.
func TestPathWithSpecialCharacters(t *testing.T) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "a b?x=1#frag%20.db")
	s, err := Open(t.Context(), path, reg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the file is not where the path says: %v", err)
	}
}

// TestClassesKeptApart: two classes may use the same key; their rows and
// apart values do not mix, and Delete leaves no apart value behind.
func TestClassesKeptApart(t *testing.T) {
	reg := registry(t, mofV1+`
class T_Other { [key] string Id; [lazy] string Note; [large] uint8 Blob[]; };
`)
	s := open(t, t.TempDir(), reg)
	thingC, other := class(t, reg, "T_Thing"), class(t, reg, "T_Other")
	a := thing(t, reg, "K1")
	b := cim.NewInstance(other)
	b.Set("Id", "K1")
	b.Set("Note", "other note")
	b.Set("Blob", []byte{7})
	insert(t, s, a)
	insert(t, s, b)
	checkEqual(t, get(t, s, thingC, "K1").Instance, a)
	checkEqual(t, get(t, s, other, "K1").Instance, b)

	err := s.Write(t.Context(), func(tx store.Tx) error { return tx.Delete(t.Context(), thingC, "K1") })
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, get(t, s, other, "K1").Instance, b)
	var n int
	if err := s.reader.QueryRowContext(t.Context(),
		`SELECT COUNT(*) FROM tsprov_apart_values WHERE class = 'T_Thing'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("apart values of a deleted instance: %d (%v), want 0", n, err)
	}
	if err := s.reader.QueryRowContext(t.Context(),
		`SELECT COUNT(*) FROM tsprov_apart_values WHERE class = 'T_Other'`).Scan(&n); err != nil || n != 2 {
		t.Errorf("apart values of the other class: %d (%v), want 2", n, err)
	}
}
