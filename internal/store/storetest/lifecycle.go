package storetest

import (
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// testNotFound: Get, Update and Delete of a key that is not stored give
// errs.NotFound (and Get no record); so does Get after Delete.
func testNotFound(t *testing.T, e *env) {
	rec, err := e.tryGet(t, "PS999999", false)
	wantKind(t, "Get of a missing key", err, errs.NotFound, "")
	if rec != nil {
		t.Errorf("Get of a missing key: record %+v alongside the error", rec)
	}
	_, err = e.tryGet(t, "PS999999", true)
	wantKind(t, "Get(lazy) of a missing key", err, errs.NotFound, "")

	err = e.s.Write(t.Context(), func(tx store.Tx) error {
		return tx.Update(t.Context(), &store.Record{Instance: e.newPkg("PS999999", "x")})
	})
	wantKind(t, "Update of a missing key", err, errs.NotFound, "")
	if n := e.count(t); n != 0 {
		t.Errorf("Update of a missing key created something: Count %d", n)
	}

	err = e.s.Write(t.Context(), func(tx store.Tx) error { return tx.Delete(t.Context(), e.pkg, "PS999999") })
	wantKind(t, "Delete of a missing key", err, errs.NotFound, "")

	e.insert(t, e.newPkg("PS100001", "x"))
	e.write(t, func(tx store.Tx) error { return tx.Delete(t.Context(), e.pkg, "PS100001") })
	_, err = e.tryGet(t, "PS100001", true)
	wantKind(t, "Get after Delete", err, errs.NotFound, "")
	err = e.s.Write(t.Context(), func(tx store.Tx) error { return tx.Delete(t.Context(), e.pkg, "PS100001") })
	wantKind(t, "second Delete", err, errs.NotFound, "")
}

// testConflict: a second Insert with the same key gives errs.Conflict and
// leaves the first instance as it was.
func testConflict(t *testing.T, e *env) {
	first := e.fullPkg(t, "PS100001")
	e.insert(t, first.Clone())
	err := e.s.Write(t.Context(), func(tx store.Tx) error {
		return tx.Insert(t.Context(), &store.Record{Instance: e.newPkg("PS100001", "intruder")})
	})
	wantKind(t, "duplicate Insert", err, errs.Conflict, "")

	// Within one transaction too, and the transaction stays usable.
	e.write(t, func(tx store.Tx) error {
		err := tx.Insert(t.Context(), &store.Record{Instance: e.newPkg("PS100001", "intruder")})
		wantKind(t, "duplicate Insert in a Write", err, errs.Conflict, "")
		return tx.Insert(t.Context(), &store.Record{Instance: e.newPkg("PS100002", "next")})
	})
	rec := e.get(t, "PS100001", true)
	checkProps(t, "after duplicate Insert", rec.Instance, first, e.pkg.Properties)
	if rec.Version != 1 {
		t.Errorf("after duplicate Insert: version %d, want 1", rec.Version)
	}
	if n := e.count(t); n != 2 {
		t.Errorf("Count %d, want 2", n)
	}
}

// testKeysIgnoreCase: keys compare as ConfigMgr compares strings, without
// regard to case: Get, Update and Delete find the instance under any
// case, and an Insert whose key differs only in case is a Conflict.
func testKeysIgnoreCase(t *testing.T, e *env) {
	e.insert(t, e.fullPkg(t, "PS10000A"))
	rec := e.get(t, "ps10000a", true)
	if id := rec.Instance.String("PackageID"); id != "PS10000A" {
		t.Errorf("Get(ps10000a): PackageID %q, want PS10000A as stored", id)
	}
	if v, _ := rec.Instance.Get("Sequence"); v == nil {
		t.Error("Get(ps10000a, lazy): Sequence missing")
	}
	err := e.s.Write(t.Context(), func(tx store.Tx) error {
		return tx.Insert(t.Context(), &store.Record{Instance: e.newPkg("ps10000a", "twin")})
	})
	wantKind(t, "Insert of a key differing in case", err, errs.Conflict, "")
	e.write(t, func(tx store.Tx) error { return tx.Delete(t.Context(), e.pkg, "Ps10000A") })
	if n := e.count(t); n != 0 {
		t.Errorf("Delete(Ps10000A): Count %d, want 0", n)
	}
}

// testVersions: Insert gives version 1, each Update one more; the record
// passed in carries it and Get and List report it.
func testVersions(t *testing.T, e *env) {
	recs := e.insert(t, e.newPkg("PS100001", "v1"))
	if recs[0].Version != 1 {
		t.Errorf("Insert: record version %d, want 1", recs[0].Version)
	}
	if v := e.get(t, "PS100001", false).Version; v != 1 {
		t.Errorf("Get after Insert: version %d, want 1", v)
	}
	for want := int64(2); want <= 3; want++ {
		rec := e.update(t, e.newPkg("PS100001", "v"))
		if rec.Version != want {
			t.Errorf("Update: record version %d, want %d", rec.Version, want)
		}
		if v := e.get(t, "PS100001", true).Version; v != want {
			t.Errorf("Get after Update: version %d, want %d", v, want)
		}
		if v := e.list(t, store.ListOptions{})[0].Version; v != want {
			t.Errorf("List after Update: version %d, want %d", v, want)
		}
	}
}

// testUpdateApart: Update writes every row property (absent ones as null);
// an apart property absent from the values keeps its stored value, one
// present with nil is erased, one present with a value is replaced.
func testUpdateApart(t *testing.T, e *env) {
	old := e.fullPkg(t, "PS100001")
	e.insert(t, old.Clone())

	upd := cim.NewInstance(e.pkg)
	upd.Set("PackageID", "PS100001")
	upd.Set("Name", "renamed")
	upd.Set("Category", nil)                      // lazy: erased
	upd.Set("ExtendedData", []byte("new"))        // lazy, large: replaced
	upd.Set("RefreshSchedule", []any{})           // lazy: replaced by an empty array
	upd.Set("ISVData", nil)                       // lazy, large: erased
	upd.Set("SupportedOperatingSystems", []any{}) // lazy: replaced
	// Sequence, References, Icon … absent: kept.
	e.update(t, upd)

	want := old.Clone()
	for _, p := range rowProps(e.pkg) {
		want.Values[p.Name] = upd.Values[p.Name] // absent → null
	}
	for name, v := range upd.Values {
		want.Values[name] = v
	}
	rec := e.get(t, "PS100001", true)
	checkProps(t, "Get(lazy=true) after Update", rec.Instance, want, e.pkg.Properties)
	rec = e.get(t, "PS100001", false)
	checkProps(t, "Get(lazy=false) after Update", rec.Instance, want, largeProps(e.pkg))

	// Erasing the large non-lazy value.
	upd2 := e.newPkg("PS100001", "again")
	upd2.Set("Icon", nil)
	e.update(t, upd2)
	if v, _ := e.get(t, "PS100001", false).Instance.Get("Icon"); v != nil {
		t.Errorf("Icon after Update with nil: %s, want null", show(v))
	}
	if v, _ := e.get(t, "PS100001", true).Instance.Get("Sequence"); !cim.Equal(v, old.Values["Sequence"]) {
		t.Errorf("Sequence after two Updates without it: %s, want it kept", show(v))
	}
}

// testDeleteApart: Delete removes the lazy and large values too: an
// instance inserted again under the same key shows none of the old ones.
func testDeleteApart(t *testing.T, e *env) {
	e.insert(t, e.fullPkg(t, "PS100001"))
	e.write(t, func(tx store.Tx) error { return tx.Delete(t.Context(), e.pkg, "PS100001") })
	fresh := e.newPkg("PS100001", "fresh")
	e.insert(t, fresh.Clone())
	rec := e.get(t, "PS100001", true)
	checkProps(t, "Get(lazy=true) of a re-inserted key", rec.Instance, fresh, e.pkg.Properties)
	if rec.Version != 1 {
		t.Errorf("re-inserted key: version %d, want 1", rec.Version)
	}
}

// testCount: Count counts the stored instances, inside a Write as well
// (it sees the Write's own changes).
func testCount(t *testing.T, e *env) {
	if n := e.count(t); n != 0 {
		t.Errorf("empty store: Count %d", n)
	}
	e.insert(t, e.newPkg("PS100001", "a"), e.newPkg("PS100002", "b"), e.newPkg("PS100003", "c"))
	if n := e.count(t); n != 3 {
		t.Errorf("Count %d, want 3", n)
	}
	e.write(t, func(tx store.Tx) error {
		if err := tx.Delete(t.Context(), e.pkg, "PS100002"); err != nil {
			return err
		}
		n, err := tx.Count(t.Context(), e.pkg, nil)
		if err != nil {
			return err
		}
		if n != 2 {
			t.Errorf("Count in the Write after Delete: %d, want 2", n)
		}
		return nil
	})
	if n := e.count(t); n != 2 {
		t.Errorf("Count %d, want 2", n)
	}
}
