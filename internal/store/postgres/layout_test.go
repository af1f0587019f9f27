package postgres

import (
	"strings"
	"testing"
	"testing/fstest"
	"unicode"
	"unicode/utf8"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/postgres/pgtest"
)

const (
	mofV1 = `
class T_Thing {
    [key] string Id;
    string Name;
    real64 Ratio;
    sint64 Big;
    boolean Flag;
    datetime When;
    uint32 Counts[];
    [lazy] string Note;
};
`
	// mofV2 adds a row property and a lazy one.
	mofV2 = `
class T_Thing {
    [key] string Id;
    string Name;
    real64 Ratio;
    sint64 Big;
    boolean Flag;
    datetime When;
    uint32 Counts[];
    [lazy] string Note;
    uint32 Added;
    [lazy] uint8 Extra[];
};
`
)

func thingRegistry(t *testing.T, mof string) *cim.Registry {
	t.Helper()
	reg, err := cim.Load(fstest.MapFS{"a.mof": {Data: []byte(mof)}})
	if err != nil {
		t.Fatalf("schema: %v", err)
	}
	return reg
}

func thingClass(t *testing.T, reg *cim.Registry) *cim.Class {
	t.Helper()
	c, ok := reg.Class("T_Thing")
	if !ok {
		t.Fatal("no class T_Thing")
	}
	return c
}

func getThing(t *testing.T, s *Store, c *cim.Class, key string) *cim.Instance {
	t.Helper()
	var in *cim.Instance
	err := s.Read(t.Context(), func(tx store.ReadTx) error {
		rec, err := tx.Get(t.Context(), c, key, true)
		if err == nil {
			in = rec.Instance
		}
		return err
	})
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return in
}

func insertThing(t *testing.T, s *Store, in *cim.Instance) {
	t.Helper()
	if err := s.Write(t.Context(), func(tx store.Tx) error {
		return tx.Insert(t.Context(), &store.Record{Instance: in})
	}); err != nil {
		t.Fatalf("Insert: %v", err)
	}
}

// TestSchemaGrows: a property added to the schema becomes a column added
// to the table (old rows hold null there) or an apart value; old values
// stay.
func TestSchemaGrows(t *testing.T) {
	url := pgtest.URL(t, t.Name())
	reg1 := thingRegistry(t, mofV1)
	s1, err := Open(t.Context(), url, reg1)
	if err != nil {
		t.Fatal(err)
	}
	old := cim.NewInstance(thingClass(t, reg1))
	old.Set("Id", "T1")
	old.Set("Name", "one")
	old.Set("Note", "lazy note")
	old.Set("Counts", []any{int64(0), int64(4294967295)})
	insertThing(t, s1, old)
	s1.Close()

	reg2 := thingRegistry(t, mofV2)
	s2 := open(t, url, reg2)
	c2 := thingClass(t, reg2)
	got := getThing(t, s2, c2, "t1")
	for _, name := range []string{"Name", "Note", "Counts"} {
		if !cim.Equal(got.Values[name], old.Values[name]) {
			t.Errorf("after the schema grew: %s = %#v, want %#v", name, got.Values[name], old.Values[name])
		}
	}
	for _, name := range []string{"Added", "Extra"} {
		if v, ok := got.Values[name]; !ok || v != nil {
			t.Errorf("after the schema grew: new %s = %#v (present %v), want null", name, v, ok)
		}
	}
	added := cim.NewInstance(c2)
	added.Set("Id", "T2")
	added.Set("Added", int64(7))
	added.Set("Extra", []byte{1, 2})
	insertThing(t, s2, added)
	got = getThing(t, s2, c2, "T2")
	if got.Values["Added"] != int64(7) || !cim.Equal(got.Values["Extra"], []byte{1, 2}) {
		t.Errorf("new properties: Added %#v, Extra %#v", got.Values["Added"], got.Values["Extra"])
	}
}

// TestSchemaContradiction: a stored property whose type or placement
// changed stops Open with errs.Invalid naming class and property.
func TestSchemaContradiction(t *testing.T) {
	url := pgtest.URL(t, t.Name())
	open(t, url, thingRegistry(t, mofV1)).Close()
	for _, c := range []struct {
		name, from, to, target string
	}{
		{"type", "string Name;", "uint32 Name;", "T_Thing.Name"},
		{"array", "uint32 Counts[];", "uint32 Counts;", "T_Thing.Counts"},
		{"made lazy", "real64 Ratio;", "[lazy] real64 Ratio;", "T_Thing.Ratio"},
		{"no longer lazy", "[lazy] string Note;", "string Note;", "T_Thing.Note"},
	} {
		t.Run(c.name, func(t *testing.T) {
			reg := thingRegistry(t, strings.Replace(mofV1, c.from, c.to, 1))
			s, err := Open(t.Context(), url, reg)
			if err == nil {
				s.Close()
				t.Fatal("Open: no error")
			}
			if errs.KindOf(err) != errs.Invalid || errs.TargetOf(err) != c.target {
				t.Errorf("Open: %v (kind %v, target %q), want Invalid naming %s", err, errs.KindOf(err), errs.TargetOf(err), c.target)
			}
		})
	}
	// the schema is still good for the classes it was made with
	open(t, url, thingRegistry(t, mofV1))
}

// TestFoldFunction: tsprov_fold folds every character as query.Fold
// does, so that keys, comparisons and ORDER BY in SQL agree with the
// other stores and with memory.
func TestFoldFunction(t *testing.T) {
	s := open(t, pgtest.URL(t, t.Name()), thingRegistry(t, mofV1))
	var all []string
	var b strings.Builder
	for r := rune(1); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		if query.FoldRune(r) != r || r < 0x250 {
			b.WriteRune(r)
		}
		if b.Len() > 4000 {
			all = append(all, b.String())
			b.Reset()
		}
	}
	all = append(all, b.String(), "", "ABC déjà VU", "İSTANBUL ǅ ſ K Σς")
	pool := s.pool
	for _, in := range all {
		var got string
		if err := pool.QueryRow(t.Context(), "SELECT "+foldFunc+"($1)", in).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := query.Fold(in); got != want {
			t.Errorf("%s(%.40q…) differs from query.Fold", foldFunc, in)
		}
	}
}

// TestKeysFoldEveryLetter: keys that differ only in the case of
// non-ASCII letters are one key.
func TestKeysFoldEveryLetter(t *testing.T) {
	reg := thingRegistry(t, mofV1)
	c := thingClass(t, reg)
	s := open(t, pgtest.URL(t, t.Name()), reg)
	in := cim.NewInstance(c)
	in.Set("Id", "ÉTÉ-1")
	in.Set("Note", "x")
	insertThing(t, s, in)
	if got := getThing(t, s, c, "été-1"); got.Values["Id"] != "ÉTÉ-1" || got.Values["Note"] != "x" {
		t.Errorf("Get by another case: Id %v, Note %v", got.Values["Id"], got.Values["Note"])
	}
	dup := cim.NewInstance(c)
	dup.Set("Id", "été-1")
	err := s.Write(t.Context(), func(tx store.Tx) error {
		return tx.Insert(t.Context(), &store.Record{Instance: dup})
	})
	if errs.KindOf(err) != errs.Conflict {
		t.Errorf("Insert of the key in another case: %v, want a Conflict", err)
	}
}
