package migrate_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/migrate"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/schema"
)

// watched is a store whose transactions note how the copy reads and
// writes: how many instances each Scan asks for, how many records and
// events each Restore and RestoreEvent gets and the bytes of their task
// sequences, and every Get and List (reads of one instance, or of a page
// without lazy values, which a copy must not make for each instance).
type watched struct {
	store.Store
	mu           sync.Mutex
	scans        int
	maxScan      int
	gets, lists  int
	restores     int
	maxRestore   int
	maxBytes     int
	eventWrites  int
	maxEventPage int
}

func (w *watched) Read(ctx context.Context, fn func(store.ReadTx) error) error {
	return w.Store.Read(ctx, func(tx store.ReadTx) error { return fn(&watchedRead{ReadTx: tx, w: w}) })
}

func (w *watched) Write(ctx context.Context, fn func(store.Tx) error) error {
	return w.Store.Write(ctx, func(tx store.Tx) error { return fn(&watchedWrite{Tx: tx, r: watchedRead{ReadTx: tx, w: w}}) })
}

func (w *watched) note(fn func(w *watched)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fn(w)
}

// watchedRead notes the reads of a transaction.
type watchedRead struct {
	store.ReadTx
	w *watched
}

func (x *watchedRead) Scan(ctx context.Context, c *cim.Class, after *string, limit int) ([]*store.Record, error) {
	x.w.note(func(w *watched) { w.scans++; w.maxScan = max(w.maxScan, limit) })
	return x.ReadTx.Scan(ctx, c, after, limit)
}

func (x *watchedRead) Get(ctx context.Context, c *cim.Class, key string, lazy bool) (*store.Record, error) {
	x.w.note(func(w *watched) { w.gets++ })
	return x.ReadTx.Get(ctx, c, key, lazy)
}

func (x *watchedRead) List(ctx context.Context, c *cim.Class, opts store.ListOptions) ([]*store.Record, error) {
	x.w.note(func(w *watched) { w.lists++ })
	return x.ReadTx.List(ctx, c, opts)
}

// watchedWrite notes the reads and the restores of a write transaction.
type watchedWrite struct {
	store.Tx
	r watchedRead
}

func (x *watchedWrite) Scan(ctx context.Context, c *cim.Class, after *string, limit int) ([]*store.Record, error) {
	return x.r.Scan(ctx, c, after, limit)
}

func (x *watchedWrite) Get(ctx context.Context, c *cim.Class, key string, lazy bool) (*store.Record, error) {
	return x.r.Get(ctx, c, key, lazy)
}

func (x *watchedWrite) List(ctx context.Context, c *cim.Class, opts store.ListOptions) ([]*store.Record, error) {
	return x.r.List(ctx, c, opts)
}

func (x *watchedWrite) Restore(ctx context.Context, recs ...*store.Record) error {
	bytes := 0
	for _, r := range recs {
		bytes += len(r.Instance.String("Sequence"))
	}
	x.r.w.note(func(w *watched) {
		w.restores++
		w.maxRestore = max(w.maxRestore, len(recs))
		w.maxBytes = max(w.maxBytes, bytes)
	})
	return x.Tx.Restore(ctx, recs...)
}

func (x *watchedWrite) RestoreEvent(ctx context.Context, evs ...store.Event) error {
	x.r.w.note(func(w *watched) { w.eventWrites++; w.maxEventPage = max(w.maxEventPage, len(evs)) })
	return x.Tx.RestoreEvent(ctx, evs...)
}

// TestCopyStreams: Copy and Compare (Diff) read each store a page at a time, never
// one instance at a time, and Copy writes a page at a time: with 1,200
// packages (1,029 live, 1,771 events) every page holds at most 500
// instances or events, and the number of reads and writes follows the
// number of pages, not of instances; so what the copy holds at once does
// not grow with the store. Pages of large task sequences (1 MB each) hold
// fewer of them: about 8 MB of values at the most.
func TestCopyStreams(t *testing.T) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	from, to := &watched{Store: openSQLite(t, reg)}, &watched{Store: openSQLite(t, reg)}
	fill(t, reg, from.Store, 1200)
	if _, err := migrate.Copy(t.Context(), reg, from, to, nil); err != nil {
		t.Fatalf("Copy: %v", err)
	}
	const live, events, page = 1029, 1771, 500
	var done, total int64
	diffs, err := migrate.Compare(t.Context(), reg, from, to, func(d, all int64) { done, total = d, all })
	if err != nil || len(diffs) > 0 {
		t.Fatalf("Compare: %q, %v", diffs, err)
	}
	if done != total || total != live+events {
		t.Errorf("Compare's progress ended at %d of %d, want %d of %d", done, total, live+events, live+events)
	}
	classes := 0 // each is read, one page at least
	for _, c := range reg.Classes() {
		if c.IsStorable() {
			classes++
		}
	}
	for _, read := range []struct {
		name  string
		w     *watched
		times int
	}{{"source", from, 2}, {"destination", to, 1}} { // Copy and Compare read the source, Compare the destination
		w := read.w
		if w.gets > 0 || w.lists > 0 {
			t.Errorf("the %s was read instance by instance: %d Gets, %d Lists", read.name, w.gets, w.lists)
		}
		if most := read.times * (classes + live/page + 2); w.maxScan > page || w.scans > most {
			t.Errorf("the %s was read in %d pages of up to %d instances, want at most %d pages of at most %d", read.name, w.scans, w.maxScan, most, page)
		}
	}
	if to.maxRestore > page || to.restores > 10 {
		t.Errorf("Copy wrote %d instances in %d Restores of up to %d, want a few of at most %d", live, to.restores, to.maxRestore, page)
	}
	if to.maxEventPage > page || to.eventWrites > events/page+1 {
		t.Errorf("Copy wrote %d events in %d RestoreEvents of up to %d, want %d of at most %d", events, to.eventWrites, to.maxEventPage, events/page+1, page)
	}

	big, bigTo := &watched{Store: openSQLite(t, reg)}, &watched{Store: openSQLite(t, reg)}
	c, _ := reg.Class("SMS_TaskSequencePackage")
	step := `<step name="Run" type="SMS_TaskSequence_RunCommandLineAction"><defaultVarList><variable name="CommandLine" property="CommandLine">cmd /c echo ` + strings.Repeat("x", 100) + `</variable></defaultVarList></step>`
	sequence := `<sequence version="3.00">` + strings.Repeat(step, (1<<20)/len(step)) + `</sequence>`
	err = big.Write(t.Context(), func(tx store.Tx) error {
		for i := range 30 {
			in := cim.NewInstance(c)
			in.Set("PackageID", fmt.Sprintf("PS1%05X", i+1))
			in.Set("Name", fmt.Sprint("Large ", i))
			in.Set("Sequence", sequence)
			if err := tx.Insert(t.Context(), &store.Record{Instance: in}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrate.Copy(t.Context(), reg, big, bigTo, nil); err != nil {
		t.Fatalf("Copy of large task sequences: %v", err)
	}
	if bigTo.maxBytes > 10<<20 || bigTo.maxRestore >= 30 {
		t.Errorf("Copy wrote 30 task sequences of 1 MB in Restores of up to %d of them, %d bytes, want at most 10 MB", bigTo.maxRestore, bigTo.maxBytes)
	}
}
