package storetest

import (
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
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
