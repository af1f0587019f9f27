package storetest

import (
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// testRestore: Restore keeps the version it is given and records no
// event; the counters read back as they were drawn and restored, and
// NextSequence goes on after a restored value; RestoreEvent keeps position
// and time, later changes follow it, and a position the feed already
// reaches is errs.Invalid.
func testRestore(t *testing.T, e *env) {
	full := e.fullPkg(t, "PS100007")
	rec := &store.Record{Instance: full.Clone(), Version: 42}
	e.write(t, func(tx store.Tx) error {
		if err := tx.Restore(t.Context(), rec); err != nil {
			return err
		}
		if _, err := tx.NextSequence(t.Context(), "drawn"); err != nil {
			return err
		}
		return tx.RestoreCounter(t.Context(), "PS1", 7)
	})
	got := e.get(t, "PS100007", true)
	if got.Version != 42 {
		t.Errorf("restored version = %d, want 42", got.Version)
	}
	checkProps(t, "Get after Restore", got.Instance, full, e.pkg.Properties)
	if evs := e.events(t, 0); len(evs) != 0 {
		t.Errorf("Restore recorded %v", evs)
	}
	var counters map[string]int64
	if err := e.s.Read(t.Context(), func(tx store.ReadTx) error {
		var err error
		counters, err = tx.Counters(t.Context())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if counters["drawn"] != 1 || counters["PS1"] != 7 || len(counters) != 2 {
		t.Errorf("Counters = %v, want drawn 1 and PS1 7", counters)
	}
	var next int64
	when := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC)
	e.write(t, func(tx store.Tx) error {
		var err error
		if next, err = tx.NextSequence(t.Context(), "PS1"); err != nil {
			return err
		}
		return tx.RestoreEvent(t.Context(), store.Event{Seq: 10, Time: when, Op: store.Modified, Class: e.pkg.Name, Key: "PS100007", Version: 42})
	})
	if next != 8 {
		t.Errorf("NextSequence after RestoreCounter 7 = %d, want 8", next)
	}
	e.insert(t, e.newPkg("PS100008", "after"))
	evs := e.events(t, 0)
	if len(evs) != 2 || evs[0].Seq != 10 || !evs[0].Time.Equal(when) || describe(evs[0]) != "update SMS_TaskSequencePackage PS100007 v42" ||
		evs[1].Seq <= 10 || evs[1].Key != "PS100008" {
		t.Errorf("feed after RestoreEvent(10) and an insert = %v", evs)
	}
	for _, bad := range []store.Event{{Seq: 10, Op: store.Created, Class: e.pkg.Name, Key: "X"}, {Seq: 0, Op: store.Created, Class: e.pkg.Name, Key: "X"}} {
		err := e.s.Write(t.Context(), func(tx store.Tx) error { return tx.RestoreEvent(t.Context(), bad) })
		if errs.KindOf(err) != errs.Invalid {
			t.Errorf("RestoreEvent at %d: error %v, want kind Invalid", bad.Seq, err)
		}
	}
	err := e.s.Write(t.Context(), func(tx store.Tx) error {
		return tx.Restore(t.Context(), &store.Record{Instance: e.newPkg("PS100009", "v0")})
	})
	if errs.KindOf(err) != errs.Invalid {
		t.Errorf("Restore at version 0: error %v, want kind Invalid", err)
	}
}
