package storetest

import (
	"testing"

	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// testLocks: SEDO locks are TSP_ObjectLock instances keyed by the locked
// object's relative path (quotes, dots and an equals sign in the key).
// One object has one lock: a second Insert for the same path, in any
// case, is a Conflict and the first holder stays; an Update renews it; the
// lock survives a reopen (it holds across restarts); a Delete releases it;
// and locks, being private, never reach the change feed.
func testLocks(t *testing.T, e *env) {
	const path = `SMS_TaskSequencePackage.PackageID="PS100001"`
	c, _ := e.reg.Class("TSP_ObjectLock")
	held := func(ctx, activity string) map[string]any {
		return map[string]any{"ObjectRelPath": path, "LockID": "L-" + ctx, "AssignedUser": `CONTOSO\ann`,
			"AssignedObjectLockContext": ctx, "AssignedMachine": "PC1", "AssignedSiteCode": "PS1",
			"AssignedTimeUTC": dmtf(t, "20261207090000.000000+000"), "LastActivityUTC": dmtf(t, activity)}
	}
	before := e.lastEvent(t)
	e.insert(t, e.object(t, "TSP_ObjectLock", held("c1", "20261207090000.000000+000")))
	err := e.s.Write(t.Context(), func(tx store.Tx) error {
		return tx.Insert(t.Context(), &store.Record{Instance: e.object(t, "TSP_ObjectLock", map[string]any{
			"ObjectRelPath": `sms_tasksequencepackage.packageid="ps100001"`, "AssignedObjectLockContext": "c2"})})
	})
	wantKind(t, "a second lock on the object", err, errs.Conflict, "")
	e.write(t, func(tx store.Tx) error {
		return tx.Update(t.Context(), &store.Record{Instance: e.object(t, "TSP_ObjectLock", held("c1", "20261207092000.000000+000"))})
	})
	e.reopen(t)
	var got *store.Record
	err = e.s.Read(t.Context(), func(tx store.ReadTx) error {
		var err error
		got, err = tx.Get(t.Context(), c, path, false)
		return err
	})
	if err != nil {
		t.Fatalf("the lock after a reopen: %v", err)
	}
	if h := got.Instance.String("AssignedObjectLockContext"); h != "c1" {
		t.Fatalf("holder %q after a refused second lock, want c1", h)
	}
	if a := got.Instance.Values["LastActivityUTC"]; a != dmtf(t, "20261207092000.000000+000") {
		t.Fatalf("LastActivityUTC %v after the renewal", a)
	}
	e.write(t, func(tx store.Tx) error { return tx.Delete(t.Context(), c, path) })
	err = e.s.Read(t.Context(), func(tx store.ReadTx) error {
		_, err := tx.Get(t.Context(), c, path, false)
		return err
	})
	wantKind(t, "the lock after its release", err, errs.NotFound, "")
	if evs := e.events(t, before); len(evs) != 0 {
		t.Fatalf("locks reached the change feed: %+v", evs)
	}
}
