package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
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
		return tx.RestoreEvent(t.Context(), store.Event{Seq: 10, Time: when, Op: store.Modified, Class: e.pkg.Name, Key: "PS100007", Version: 42,
			Method: "m", Target: json.RawMessage(`{"Name":"new"}`), Previous: json.RawMessage(`{"Name":"old"}`)})
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
	if len(evs) > 0 && (evs[0].Method != "m" || string(evs[0].Target) != `{"Name":"new"}` || string(evs[0].Previous) != `{"Name":"old"}`) {
		t.Errorf("restored event values: method %q target %s previous %s", evs[0].Method, evs[0].Target, evs[0].Previous)
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

// testScan: Scan reads a whole class page by page in key order, keys
// compared without regard to case (the same order on every store, non-ASCII
// letters included), each record whole (lazy and large values filled, nil
// where none is stored, its version); a page starts after the key it is
// given, stored or not; a limit below 1 is errs.Invalid.
func testScan(t *testing.T, e *env) {
	e.insert(t, e.newPkg("PS1000C", "c"), e.newPkg("ps1000a", "a"), e.newPkg("PSÉ01", "e-acute"), e.newPkg("PSe02", "e"))
	e.insert(t, e.fullPkg(t, "PS1000B"))
	e.update(t, e.newPkg("PS1000C", "c, renamed"))
	var keys []string
	var pages []int
	var after *string
	for {
		var page []*store.Record
		err := e.s.Read(t.Context(), func(tx store.ReadTx) error {
			var err error
			page, err = tx.Scan(t.Context(), e.pkg, after, 2)
			return err
		})
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		if len(page) == 0 {
			break
		}
		pages = append(pages, len(page))
		for _, r := range page {
			k := r.Instance.Key()
			keys = append(keys, k)
			switch k {
			case "PS1000B":
				checkProps(t, "Scan", r.Instance, e.fullPkg(t, "PS1000B"), e.pkg.Properties)
			case "PS1000C":
				if r.Version != 2 || r.Instance.String("Name") != "c, renamed" {
					t.Errorf("Scan: PS1000C at version %d named %q, want 2 and %q", r.Version, r.Instance.String("Name"), "c, renamed")
				}
			}
			for _, p := range store.ApartProperties(e.pkg) {
				if _, ok := r.Instance.Values[p.Name]; !ok {
					t.Errorf("Scan: %s %s is absent, want its value or nil", k, p.Name)
				}
			}
		}
		k := page[len(page)-1].Instance.Key()
		after = &k
	}
	want := []string{"ps1000a", "PS1000B", "PS1000C", "PSe02", "PSÉ01"}
	if !slices.Equal(keys, want) {
		t.Errorf("Scan pages of 2 read %q, want %q", keys, want)
	}
	if !slices.Equal(pages, []int{2, 2, 1}) {
		t.Errorf("Scan pages of 2 held %v instances, want [2 2 1]", pages)
	}
	err := e.s.Read(t.Context(), func(tx store.ReadTx) error {
		from := "PS1000BB" // not stored: the page starts after it
		page, err := tx.Scan(t.Context(), e.pkg, &from, 10)
		if err != nil {
			return err
		}
		if got := ids(page); !slices.Equal(got, want[2:]) {
			t.Errorf("Scan after %q = %q, want %q", from, got, want[2:])
		}
		if _, err := tx.Scan(t.Context(), e.pkg, nil, 0); errs.KindOf(err) != errs.Invalid {
			t.Errorf("Scan with limit 0: error %v, want kind Invalid", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testRestoreMany: Restore stores many records at once, each at its
// version; a record it refuses (a NUL in a value, a taken key, twice the
// same key) leaves none of them stored and the transaction usable.
// RestoreEvent appends many events at once; events out of order are
// refused, none appended.
func testRestoreMany(t *testing.T, e *env) {
	rec := func(id string, version int64) *store.Record {
		return &store.Record{Instance: e.newPkg(id, "restored "+id), Version: version}
	}
	bad := rec("PS1000Z", 1)
	bad.Instance.Set("Name", "bad\x00name")
	e.write(t, func(tx store.Tx) error {
		if err := tx.Restore(t.Context(), rec("PS100001", 3), rec("PS100002", 1), rec("PS100003", 7)); err != nil {
			return err
		}
		for _, refused := range []struct {
			recs []*store.Record
			kind errs.Kind
		}{
			{[]*store.Record{rec("PS100004", 1), bad}, errs.Invalid},
			{[]*store.Record{rec("PS100005", 1), rec("ps100001", 1)}, errs.Conflict},
			{[]*store.Record{rec("PS100006", 1), rec("ps100006", 2)}, errs.Conflict},
		} {
			if err := tx.Restore(t.Context(), refused.recs...); errs.KindOf(err) != refused.kind {
				t.Errorf("Restore(%q): error %v, want kind %v", ids(refused.recs), err, refused.kind)
			}
		}
		return tx.Restore(t.Context(), rec("PS100008", 2))
	})
	got := e.list(t, store.ListOptions{})
	if want := []string{"PS100001", "PS100002", "PS100003", "PS100008"}; !slices.Equal(ids(got), want) {
		t.Errorf("after Restore the store holds %q, want %q", ids(got), want)
	}
	for _, r := range got {
		if want := map[string]int64{"PS100001": 3, "PS100002": 1, "PS100003": 7, "PS100008": 2}[r.Instance.Key()]; r.Version != want {
			t.Errorf("%s restored at version %d, want %d", r.Instance.Key(), r.Version, want)
		}
	}

	when := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	ev := func(seq int64) store.Event {
		return store.Event{Seq: seq, Time: when.Add(time.Duration(seq) * time.Second), Op: store.Created, Class: e.pkg.Name, Key: fmt.Sprintf("PS1%05d", seq), Version: 1}
	}
	e.write(t, func(tx store.Tx) error {
		if err := tx.RestoreEvent(t.Context(), ev(2), ev(3), ev(5)); err != nil {
			return err
		}
		if err := tx.RestoreEvent(t.Context(), ev(7), ev(6)); errs.KindOf(err) != errs.Invalid {
			t.Errorf("RestoreEvent(7, 6): error %v, want kind Invalid", err)
		}
		return tx.RestoreEvent(t.Context())
	})
	var seqs []int64
	for _, got := range e.events(t, 0) {
		seqs = append(seqs, got.Seq)
		if want := ev(got.Seq); describe(got) != describe(want) || !got.Time.Equal(want.Time) {
			t.Errorf("restored event %d = %v at %v, want %v at %v", got.Seq, describe(got), got.Time, describe(want), want.Time)
		}
	}
	if !slices.Equal(seqs, []int64{2, 3, 5}) {
		t.Errorf("after RestoreEvent the feed holds positions %v, want [2 3 5]", seqs)
	}
}
