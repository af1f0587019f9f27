// Package storetest is the conformance suite of the store.Store contract.
// Every backend's tests call Run with a function that opens that backend;
// the suite checks every outcome store.go documents, against the real
// class registry (schema.Registry) and the real class
// SMS_TaskSequencePackage.
//
// Where store.go is silent the suite fixes one answer, so that every
// backend behaves alike (each is marked in its test): keys compare without
// regard to case, as strings do in ConfigMgr (KeysIgnoreCase); null orders
// first ascending and last descending, as OData's $orderby says
// (ListNulls); a string with a NUL character or invalid UTF-8 is
// errs.Invalid naming the property, wherever it is (TextRules); a negative Offset or Limit is errs.Invalid naming the
// option (ListInvalid); a Write whose context has ended wraps ctx.Err()
// (CanceledWriteKeepsNothing).
package storetest

import (
	"errors"
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/schema"
)

// Opener opens the store kept in dir (creating it when dir holds none),
// for the classes of schema.Registry(). Opening the same dir again after
// Close must give back what was written. The suite closes every store it
// opens; open must not.
type Opener func(t *testing.T, dir string) store.Store

// Run runs the suite. Each subtest gets a fresh directory and store and
// runs in parallel with the others.
func Run(t *testing.T, open func(t *testing.T, dir string) store.Store) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatalf("schema: %v", err)
	}
	pkg, ok := reg.Class("SMS_TaskSequencePackage")
	if !ok {
		t.Fatal("schema: no class SMS_TaskSequencePackage")
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		// values.go
		{"RoundTripEveryKind", testRoundTrip},
		{"AbsentIsNull", testAbsentIsNull},
		{"ListOmitsLazy", testListOmitsLazy},
		{"TextRules", testTextRules},
		// lifecycle.go
		{"NotFound", testNotFound},
		{"Conflict", testConflict},
		{"KeysIgnoreCase", testKeysIgnoreCase},
		{"Versions", testVersions},
		{"UpdateApartValues", testUpdateApart},
		{"DeleteRemovesApartValues", testDeleteApart},
		{"Count", testCount},
		// list.go
		{"ListOrder", testListOrder},
		{"ListPages", testListPages},
		{"ListInvalid", testListInvalid},
		{"ListIgnoresCase", testListIgnoresCase},
		{"ListDateTimeByInstant", testListDateTime},
		{"ListNulls", testListNulls},
		{"ListAfter", testListAfter},
		// tx.go
		{"FailingWriteKeepsNothing", testFailingWrite},
		{"CanceledWriteKeepsNothing", testCanceledWrite},
		{"ReadReturnsError", testReadError},
		{"ReadSnapshot", testReadSnapshot},
		{"Sequences", testSequences},
		{"Reopen", testReopen},
		{"ConcurrentWrites", testConcurrentWrites},
		// events.go
		{"EventsRecordChanges", testEventsRecordChanges},
		{"EventsPages", testEventsPages},
		{"EventsValues", testEventsValues},
		{"EventsTrim", testEventsTrim},
		{"EventsSubscribe", testEventsSubscribe},
		{"EventsConcurrent", testEventsConcurrent},
		// locks.go
		{"Locks", testLocks},
		// lease.go
		{"LeaseClaims", testLeaseClaims},
		// restore.go
		{"Restore", testRestore},
		{"RestoreMany", testRestoreMany},
		{"Scan", testScan},
		// history.go
		{"History", testHistory},
		{"HistoryPages", testHistoryPages},
		{"HistoryTransactions", testHistoryTransactions},
		{"HistoryRetention", testHistoryRetention},
		{"HistoryScanRestore", testHistoryScanRestore},
		{"HistorySharedValues", testHistorySharedValues},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := &env{reg: reg, pkg: pkg, dir: t.TempDir(), open: open}
			e.s = open(t, e.dir)
			t.Cleanup(func() {
				if e.s != nil {
					if err := e.s.Close(); err != nil {
						t.Errorf("Close: %v", err)
					}
				}
			})
			tc.fn(t, e)
		})
	}
}

// env is one subtest's store and what it needs to make instances.
type env struct {
	reg  *cim.Registry
	pkg  *cim.Class // SMS_TaskSequencePackage
	dir  string
	open Opener
	s    store.Store
}

// reopen closes the store and opens the same directory again.
func (e *env) reopen(t *testing.T) {
	t.Helper()
	err := e.s.Close()
	e.s = nil
	if err != nil {
		t.Fatalf("Close: %v", err)
	}
	e.s = e.open(t, e.dir)
}

// write runs fn in a Write that must succeed.
func (e *env) write(t *testing.T, fn func(tx store.Tx) error) {
	t.Helper()
	if err := e.s.Write(t.Context(), fn); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// insert stores the instances in one Write and returns their records.
func (e *env) insert(t *testing.T, ins ...*cim.Instance) []*store.Record {
	t.Helper()
	recs := make([]*store.Record, len(ins))
	e.write(t, func(tx store.Tx) error {
		for i, in := range ins {
			recs[i] = &store.Record{Instance: in}
			if err := tx.Insert(t.Context(), recs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	return recs
}

// update replaces an instance in one Write and returns its record.
func (e *env) update(t *testing.T, in *cim.Instance) *store.Record {
	t.Helper()
	rec := &store.Record{Instance: in}
	e.write(t, func(tx store.Tx) error { return tx.Update(t.Context(), rec) })
	return rec
}

// tryGet reads one instance of SMS_TaskSequencePackage.
func (e *env) tryGet(t *testing.T, key string, lazy bool) (rec *store.Record, err error) {
	t.Helper()
	rerr := e.s.Read(t.Context(), func(tx store.ReadTx) error {
		rec, err = tx.Get(t.Context(), e.pkg, key, lazy)
		return nil
	})
	if rerr != nil {
		t.Fatalf("Read: %v", rerr)
	}
	return rec, err
}

// get reads one instance that must exist.
func (e *env) get(t *testing.T, key string, lazy bool) *store.Record {
	t.Helper()
	rec, err := e.tryGet(t, key, lazy)
	if err != nil {
		t.Fatalf("Get(%q, lazy=%v): %v", key, lazy, err)
	}
	if rec == nil || rec.Instance == nil {
		t.Fatalf("Get(%q, lazy=%v): no record and no error", key, lazy)
	}
	return rec
}

// tryList lists SMS_TaskSequencePackage.
func (e *env) tryList(t *testing.T, opts store.ListOptions) (recs []*store.Record, err error) {
	t.Helper()
	rerr := e.s.Read(t.Context(), func(tx store.ReadTx) error {
		recs, err = tx.List(t.Context(), e.pkg, opts)
		return nil
	})
	if rerr != nil {
		t.Fatalf("Read: %v", rerr)
	}
	return recs, err
}

// list lists SMS_TaskSequencePackage; the List must succeed.
func (e *env) list(t *testing.T, opts store.ListOptions) []*store.Record {
	t.Helper()
	recs, err := e.tryList(t, opts)
	if err != nil {
		t.Fatalf("List(%+v): %v", opts, err)
	}
	return recs
}

// count counts SMS_TaskSequencePackage.
func (e *env) count(t *testing.T) int64 {
	t.Helper()
	var n int64
	err := e.s.Read(t.Context(), func(tx store.ReadTx) error {
		var err error
		n, err = tx.Count(t.Context(), e.pkg, nil)
		return err
	})
	if err != nil {
		t.Fatalf("Count: %v", err)
	}
	return n
}

// wantKind fails unless err has kind k and, when target is not empty,
// names target.
func wantKind(t *testing.T, what string, err error, k errs.Kind, target string) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s: no error, want %v", what, k)
	case errs.KindOf(err) != k:
		t.Errorf("%s: error %q of kind %v, want %v", what, err, errs.KindOf(err), k)
	case target != "" && errs.TargetOf(err) != target:
		t.Errorf("%s: error %q names %q, want %q", what, err, errs.TargetOf(err), target)
	}
}

// errSentinel is what a failing fn returns.
var errSentinel = errors.New("storetest: fn failed on purpose")
