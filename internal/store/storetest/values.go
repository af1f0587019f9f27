package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// testRoundTrip: Insert then Get gives back every value of every kind;
// Get(lazy=true) fills every property, Get(lazy=false) leaves the lazy ones
// absent and fills the rest, the large non-lazy Icon included.
func testRoundTrip(t *testing.T, e *env) {
	want := e.fullPkg(t, "PS100001")
	e.insert(t, want.Clone())
	all := e.pkg.Properties

	rec := e.get(t, "PS100001", true)
	if rec.Instance.Class != e.pkg && rec.Instance.Class.Name != e.pkg.Name {
		t.Errorf("Get: class %s, want %s", rec.Instance.Class.Name, e.pkg.Name)
	}
	if k := rec.Instance.Key(); k != "PS100001" {
		t.Errorf("Get: key %q, want PS100001", k)
	}
	checkProps(t, "Get(lazy=true)", rec.Instance, want, all)

	rec = e.get(t, "PS100001", false)
	checkProps(t, "Get(lazy=false)", rec.Instance, want, rowProps(e.pkg))
	checkProps(t, "Get(lazy=false)", rec.Instance, want, largeProps(e.pkg))
	checkAbsent(t, "Get(lazy=false)", rec.Instance, lazyProps(e.pkg))
}

// testAbsentIsNull: properties absent at Insert read back as null, row and
// apart alike; Get fills them (present with nil), it does not omit them.
func testAbsentIsNull(t *testing.T, e *env) {
	in := e.newPkg("PS100001", "only a name")
	e.insert(t, in.Clone())
	rec := e.get(t, "PS100001", true)
	checkProps(t, "Get(lazy=true)", rec.Instance, in, e.pkg.Properties)
	recs := e.list(t, store.ListOptions{})
	if len(recs) != 1 {
		t.Fatalf("List: %d records, want 1", len(recs))
	}
	checkProps(t, "List", recs[0].Instance, in, rowProps(e.pkg))
	checkProps(t, "List", recs[0].Instance, in, largeProps(e.pkg))
}

// testListOmitsLazy: List gives the row values and the large non-lazy ones
// and never the lazy ones.
func testListOmitsLazy(t *testing.T, e *env) {
	a, b := e.fullPkg(t, "PS100001"), e.fullPkg(t, "PS100002")
	b.Set("Icon", []byte{9, 9, 9})
	b.Set("Name", "second")
	e.insert(t, a.Clone(), b.Clone())
	recs := e.list(t, store.ListOptions{})
	if len(recs) != 2 {
		t.Fatalf("List: %d records, want 2", len(recs))
	}
	for i, want := range []*cim.Instance{a, b} {
		got, id := recs[i], want.String("PackageID")
		if gotID := got.Instance.String("PackageID"); gotID != id {
			t.Fatalf("List[%d]: %s, want %s", i, gotID, id)
		}
		checkProps(t, "List "+id, got.Instance, want, rowProps(e.pkg))
		checkProps(t, "List "+id, got.Instance, want, largeProps(e.pkg))
		checkAbsent(t, "List "+id, got.Instance, lazyProps(e.pkg))
		if got.Version != 1 {
			t.Errorf("List %s: version %d, want 1", id, got.Version)
		}
	}
}

// testTextRules: a string that holds a NUL character or is not valid
// UTF-8 is refused alike by every store (SQLite would keep it,
// PostgreSQL would not), wherever it is: a row column, a key, a lazy
// value, an array element, an embedded object. Insert, Update and Restore
// each give errs.Invalid naming the property (by its path within an
// array or an embedded object) and keep nothing; a feed
// event whose key holds a NUL is refused by RestoreEvent naming "Key";
// Get and Delete of such a key find nothing (errs.NotFound).
// Other control characters are kept as they are, on every store.
func testTextRules(t *testing.T, e *env) {
	kept := e.fullPkg(t, "PS100001")
	e.insert(t, kept.Clone())

	refs := func(pkg string) []any {
		return []any{e.object(t, "SMS_TaskSequence_Reference", map[string]any{"Package": pkg, "Type": int64(0)})}
	}
	cases := []struct {
		name   string
		prop   string
		value  any
		target string
	}{
		{"NUL in a row column", "Description", "before\x00after", "Description"},
		{"NUL alone", "Name", "\x00", "Name"},
		{"NUL in the key", "PackageID", "PS1\x00", "PackageID"},
		{"NUL in a lazy value", "Sequence", "<sequence version=\"3.00\">\x00</sequence>", "Sequence"},
		{"NUL in an array element", "SecuredScopeNames", []any{"Default", "Lab\x00"}, "SecuredScopeNames[1]"},
		{"NUL in an embedded object", "References", refs("PS1\x0000002"), "References[0].Package"},
		{"invalid UTF-8", "Description", "caf\xe9", "Description"},
		{"a UTF-16 surrogate as UTF-8", "Description", "\xed\xa0\x80", "Description"},
	}
	ctx := t.Context()
	for _, c := range cases {
		bad := e.newPkg("PS100002", "new")
		bad.Set(c.prop, c.value)
		err := e.s.Write(ctx, func(tx store.Tx) error { return tx.Insert(ctx, &store.Record{Instance: bad.Clone()}) })
		wantKind(t, "Insert with "+c.name, err, errs.Invalid, c.target)

		if c.prop != "PackageID" { // an Update names its instance by the key
			upd := kept.Clone()
			upd.Set(c.prop, c.value)
			err = e.s.Write(ctx, func(tx store.Tx) error { return tx.Update(ctx, &store.Record{Instance: upd}) })
			wantKind(t, "Update with "+c.name, err, errs.Invalid, c.target)
		}

		err = e.s.Write(ctx, func(tx store.Tx) error { return tx.Restore(ctx, &store.Record{Instance: bad.Clone(), Version: 3}) })
		wantKind(t, "Restore with "+c.name, err, errs.Invalid, c.target)
	}
	if n := e.count(t); n != 1 {
		t.Errorf("after refused writes the store holds %d packages, want 1", n)
	}
	rec := e.get(t, "PS100001", true)
	checkProps(t, "a package after refused updates", rec.Instance, kept, e.pkg.Properties)
	if rec.Version != 1 {
		t.Errorf("a package after refused updates: version %d, want 1", rec.Version)
	}

	err := e.s.Write(ctx, func(tx store.Tx) error {
		return tx.RestoreEvent(ctx, store.Event{Seq: 100, Time: time.Now().UTC(), Op: store.Created, Class: e.pkg.Name, Key: "PS1\x00"})
	})
	wantKind(t, "RestoreEvent of a key with NUL", err, errs.Invalid, "Key")

	for _, key := range []string{"PS100001\x00", "PS1\xff"} {
		_, err := e.tryGet(t, key, true)
		wantKind(t, fmt.Sprintf("Get(%q)", key), err, errs.NotFound, "")
		err = e.s.Write(ctx, func(tx store.Tx) error { return tx.Delete(ctx, e.pkg, key) })
		wantKind(t, fmt.Sprintf("Delete(%q)", key), err, errs.NotFound, "")
	}

	controls := e.newPkg("PS100003", "tab\there, bell \a, escape \x1b, U+FFFD \ufffd, DEL \x7f")
	e.insert(t, controls.Clone())
	checkProps(t, "a package with control characters", e.get(t, "PS100003", true).Instance, controls, e.pkg.Properties)
}
